"""Trained models as artifacts: loading from runs and checkpoints, export, and prediction on files."""
