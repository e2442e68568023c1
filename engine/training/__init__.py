"""Training: the loop, its events, optimizers, checkpoints and run folders."""
