"""Run folders: the folder itself (RunFolder), its writer, checkpoints, run listing, summaries and sweeps.

Attributes load lazily (PEP 562): only engine.runs.checkpoint needs torch, and `import engine.config` must
not pull it in. The faces import these names from here, not from the modules.
"""

from engine.lazy import lazy_getattr

_EXPORTS = {
    "RunFolder": "engine.runs.folder", "run_of_file": "engine.runs.folder",
    "RunLock": "engine.runs.lock", "create_run_dir": "engine.runs.lock", "check_run_folder": "engine.runs.lock",
    "discard_unstarted": "engine.runs.lock", "is_unstarted": "engine.runs.lock",
    "MetricsWriter": "engine.runs.metrics", "METRICS_HEADER": "engine.runs.metrics", "read_metrics": "engine.runs.metrics",
    "parse_metrics": "engine.runs.metrics", "number": "engine.runs.values", "MetricsReader": "engine.runs.follow",
    "list_runs": "engine.runs.listing", "resolve_run": "engine.runs.listing",
    "resolve_checkpoint": "engine.runs.listing", "default_run_name": "engine.runs.listing",
    "RunInfo": "engine.runs.info", "load_run": "engine.runs.info", "read_run": "engine.runs.info",
    "read_runs": "engine.runs.info", "writer_alive": "engine.runs.info", "MAX_ROWS": "engine.runs.info",
    "RunResult": "engine.runs.result",
    "delete_run": "engine.runs.operations", "plan_resume": "engine.runs.operations",
    "ResumePlan": "engine.runs.operations",
    "RunWriter": "engine.runs.writer",
    "load_checkpoint": "engine.runs.checkpoint", "save_checkpoint": "engine.runs.checkpoint",
    "verify_checksum": "engine.runs.checkpoint",
    "SWEEP_FILE": "engine.runs.sweep", "read_sweep": "engine.runs.sweep",
    "parse_grid": "engine.runs.sweep", "plan": "engine.runs.sweep", "numeric_axis": "engine.runs.sweep",
    "smooth": "engine.runs.curves", "points": "engine.runs.curves", "differing": "engine.runs.curves",
    "final_against_field": "engine.runs.curves", "is_number": "engine.runs.curves",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
