"""The file names of a run folder, spelled once. Code uses them through RunFolder (engine/runs/folder.py);
the modules below it (lock, checkpoint) import the names from here so that they need not import RunFolder."""

CONFIG, METRICS, RESULTS, PROGRESS = "config.json", "metrics.csv", "results.json", "progress.json"
CHECKSUMS, CONFUSION, BOUNDARY = "checkpoints.json", "confusion.json", "boundary.json"
BEST, LAST, LOCK = "best.pt", "last.pt", ".lock"
EVAL, EXPORT = "eval", "export"
TRACKERS, TENSORBOARD = "trackers.json", "tb"  # the trackers' run ids; --log-to tensorboard's event files
SWEEP = "sweep.json"  # in the folder above the runs of a sweep
CHECKPOINTS = {"best": BEST, "last": LAST}
PRE_CONFIG = {LOCK, METRICS, PROGRESS}  # what a first start (of any lab) writes before config.json
