"""Evaluation as data: predictions and metrics, decision regions, weight statistics.

Attributes load lazily (PEP 562), so that importing the package does not pull in torch.
"""

from engine.lazy import lazy_getattr

_EXPORTS = {
    "EvalReport": "engine.evaluation.metrics", "evaluate": "engine.evaluation.metrics",
    "predict": "engine.evaluation.metrics", "tune_threshold": "engine.evaluation.metrics",
    "write_report": "engine.evaluation.metrics",
    "BoundaryGrid": "engine.evaluation.boundary", "boundary_lines": "engine.evaluation.boundary",
    "decision_grid": "engine.evaluation.boundary", "points_of": "engine.evaluation.boundary",
    "predicted": "engine.evaluation.boundary",
    "weight_table": "engine.evaluation.weights", "compare_states": "engine.evaluation.weights",
    "layer_names": "engine.evaluation.weights", "filters": "engine.evaluation.weights",
    "feature_maps": "engine.evaluation.weights",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
