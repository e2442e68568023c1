"""Run folders: the folder itself (RunFolder), its writer, checkpoints, run listing, summaries and sweeps.

Attributes load lazily (PEP 562): only engine.runs.checkpoint needs torch, and `import engine.settings.config` must
not pull it in. The faces import these names from here, not from the modules.
"""

from lab_workbench.engine.core.lazy import lazy_getattr

_EXPORTS = {
    "RunFolder": "lab_workbench.engine.runs.folder", "run_of_file": "lab_workbench.engine.runs.folder",
    "RunLock": "lab_workbench.engine.runs.lock", "create_run_dir": "lab_workbench.engine.runs.lock", "check_run_folder": "lab_workbench.engine.runs.lock",
    "discard_unstarted": "lab_workbench.engine.runs.lock", "is_unstarted": "lab_workbench.engine.runs.lock",
    "MetricsWriter": "lab_workbench.engine.runs.metrics_csv", "METRICS_HEADER": "lab_workbench.engine.runs.metrics_csv", "read_metrics": "lab_workbench.engine.runs.metrics_csv",
    "parse_metrics": "lab_workbench.engine.runs.metrics_csv", "number": "lab_workbench.engine.contract.values", "MetricsReader": "lab_workbench.engine.runs.follow",
    "list_runs": "lab_workbench.engine.runs.listing", "resolve_run": "lab_workbench.engine.runs.listing",
    "resolve_checkpoint": "lab_workbench.engine.runs.listing", "default_run_name": "lab_workbench.engine.runs.listing",
    "RunInfo": "lab_workbench.engine.runs.info", "load_run": "lab_workbench.engine.runs.info", "read_run": "lab_workbench.engine.runs.info",
    "read_runs": "lab_workbench.engine.runs.info", "writer_alive": "lab_workbench.engine.runs.info", "MAX_ROWS": "lab_workbench.engine.runs.info",
    "RunResult": "lab_workbench.engine.contract.result",
    "delete_run": "lab_workbench.engine.runs.operations", "plan_resume": "lab_workbench.engine.runs.operations",
    "ResumePlan": "lab_workbench.engine.runs.operations",
    "RunWriter": "lab_workbench.engine.runs.writer",
    "load_checkpoint": "lab_workbench.engine.runs.checkpoint", "save_checkpoint": "lab_workbench.engine.runs.checkpoint",
    "verify_checksum": "lab_workbench.engine.runs.checkpoint",
    "SWEEP_FILE": "lab_workbench.engine.runs.sweep", "read_sweep": "lab_workbench.engine.runs.sweep",
    "parse_grid": "lab_workbench.engine.runs.sweep", "plan": "lab_workbench.engine.runs.sweep", "numeric_axis": "lab_workbench.engine.runs.sweep",
    "smooth": "lab_workbench.engine.runs.curves", "points": "lab_workbench.engine.runs.curves", "differing": "lab_workbench.engine.runs.curves",
    "final_against_field": "lab_workbench.engine.runs.curves", "is_number": "lab_workbench.engine.runs.curves",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
