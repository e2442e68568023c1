"""Evaluation as data: predictions and metrics, decision regions, weight statistics."""
