"""lab's engine: data sets, models, training, evaluation and checkpoints. No UI imports.

Attributes load lazily (PEP 562) so that `import engine.config` does not pull in torch.
"""

from engine.lazy import lazy_getattr

_EXPORTS = {
    "TrainConfig": "engine.config",
    "LabError": "engine.errors", "ConfigError": "engine.errors", "DataError": "engine.errors",
    "CheckpointError": "engine.errors",
    "resolve_device": "engine.runtime.device",
    "load_dataset": "engine.data", "read_source": "engine.data", "Dataset": "engine.data",
    "create_model": "engine.models", "list_models": "engine.models", "register_model": "engine.models",
    "train": "engine.training.trainer", "resume_config": "engine.training.trainer",
    "History": "engine.training.events", "RunStarted": "engine.training.events",
    "BatchEnded": "engine.training.events", "EpochEnded": "engine.training.events",
    "RunEnded": "engine.training.events", "PhaseChanged": "engine.training.events",
    "CheckpointReady": "engine.training.events",
    "load_checkpoint": "engine.runs", "save_checkpoint": "engine.runs", "RunFolder": "engine.runs",
    "RunResult": "engine.runs", "list_runs": "engine.runs", "read_metrics": "engine.runs",
    "predict": "engine.evaluation.metrics", "evaluate": "engine.evaluation.metrics", "EvalReport": "engine.evaluation.metrics",
    "load_model": "engine.artifacts.loading", "load_eval_data": "engine.artifacts.loading",
    "export_model": "engine.artifacts.export", "weight_table": "engine.evaluation.weights",
    "register_dataset": "engine.data.sources", "list_datasets": "engine.data.sources",
    "settings": "engine.config", "load_run": "engine.runs", "read_runs": "engine.runs",
    "delete_run": "engine.runs", "plan_resume": "engine.runs", "evaluate_run": "engine.artifacts.run_outputs",
    "export_run": "engine.artifacts.run_outputs",
    "lr_find": "engine.training.lr_find", "read_inputs": "engine.data.inputs", "top_k": "engine.artifacts.predict",
    "decision_grid": "engine.evaluation.boundary", "recipe_values": "engine.training.recipes",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
