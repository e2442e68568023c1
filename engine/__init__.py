"""lab's engine: data sets, models, training, evaluation and checkpoints. No UI imports.

Attributes load lazily (PEP 562) so that `import engine.settings.config` does not pull in torch.
"""

from lab_workbench.engine.core.lazy import lazy_getattr

_EXPORTS = {
    "TrainConfig": "lab_workbench.engine.settings.config",
    "LabError": "lab_workbench.engine.core.errors", "ConfigError": "lab_workbench.engine.core.errors", "DataError": "lab_workbench.engine.core.errors",
    "CheckpointError": "lab_workbench.engine.core.errors",
    "resolve_device": "lab_workbench.engine.runtime.device",
    "load_dataset": "lab_workbench.engine.data", "read_source": "lab_workbench.engine.data", "Dataset": "lab_workbench.engine.data",
    "create_model": "lab_workbench.engine.models", "list_models": "lab_workbench.engine.models", "register_model": "lab_workbench.engine.models",
    "train": "lab_workbench.engine.training.trainer", "resume_config": "lab_workbench.engine.training.trainer",
    "History": "lab_workbench.engine.contract.events", "RunStarted": "lab_workbench.engine.contract.events",
    "BatchEnded": "lab_workbench.engine.contract.events", "EpochEnded": "lab_workbench.engine.contract.events",
    "RunEnded": "lab_workbench.engine.contract.events", "PhaseChanged": "lab_workbench.engine.contract.events",
    "CheckpointReady": "lab_workbench.engine.contract.events",
    "load_checkpoint": "lab_workbench.engine.runs", "save_checkpoint": "lab_workbench.engine.runs", "RunFolder": "lab_workbench.engine.runs",
    "RunResult": "lab_workbench.engine.runs", "list_runs": "lab_workbench.engine.runs", "read_metrics": "lab_workbench.engine.runs",
    "predict": "lab_workbench.engine.evaluation.metrics", "evaluate": "lab_workbench.engine.evaluation.metrics", "EvalReport": "lab_workbench.engine.evaluation.metrics",
    "load_model": "lab_workbench.engine.artifacts.loading", "load_eval_data": "lab_workbench.engine.artifacts.loading",
    "export_model": "lab_workbench.engine.artifacts.export", "weight_table": "lab_workbench.engine.evaluation.weights",
    "register_dataset": "lab_workbench.engine.data.sources", "list_datasets": "lab_workbench.engine.data.sources",
    "settings": "lab_workbench.engine.settings.config", "load_run": "lab_workbench.engine.runs", "read_runs": "lab_workbench.engine.runs",
    "delete_run": "lab_workbench.engine.runs", "plan_resume": "lab_workbench.engine.runs", "evaluate_run": "lab_workbench.engine.artifacts.run_outputs",
    "export_run": "lab_workbench.engine.artifacts.run_outputs",
    "lr_find": "lab_workbench.engine.training.lr_find", "read_inputs": "lab_workbench.engine.data.inputs", "top_k": "lab_workbench.engine.artifacts.predict",
    "decision_grid": "lab_workbench.engine.evaluation.boundary", "recipe_values": "lab_workbench.engine.settings.recipes",
    "register_optimizer": "lab_workbench.engine.training.optim", "register_scheduler": "lab_workbench.engine.training.schedule",
    "register_tracker": "lab_workbench.engine.trackers",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
