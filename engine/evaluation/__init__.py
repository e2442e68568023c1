"""Evaluation as data: predictions and metrics, decision regions, weight statistics.

Attributes load lazily (PEP 562), so that importing the package does not pull in torch.
"""

from lab_workbench.engine.core.lazy import lazy_getattr

_EXPORTS = {
    "EvalReport": "lab_workbench.engine.evaluation.metrics", "evaluate": "lab_workbench.engine.evaluation.metrics",
    "predict": "lab_workbench.engine.evaluation.metrics", "tune_threshold": "lab_workbench.engine.evaluation.metrics",
    "write_report": "lab_workbench.engine.evaluation.metrics",
    "BoundaryGrid": "lab_workbench.engine.evaluation.boundary", "boundary_lines": "lab_workbench.engine.evaluation.boundary",
    "decision_grid": "lab_workbench.engine.evaluation.boundary", "points_of": "lab_workbench.engine.evaluation.boundary",
    "predicted": "lab_workbench.engine.evaluation.boundary",
    "weight_table": "lab_workbench.engine.evaluation.weights", "compare_states": "lab_workbench.engine.evaluation.weights",
    "layer_names": "lab_workbench.engine.evaluation.weights", "filters": "lab_workbench.engine.evaluation.weights",
    "feature_maps": "lab_workbench.engine.evaluation.weights",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
