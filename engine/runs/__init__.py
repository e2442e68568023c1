"""Run folders: the folder itself, its writer, checkpoints, run listing, summaries and sweeps."""
