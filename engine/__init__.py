"""lab's engine: data sets, models, training, evaluation and checkpoints. No UI imports.

Attributes load lazily (PEP 562) so that `import engine.config` does not pull in torch.
"""

from engine.lazy import lazy_getattr

_EXPORTS = {
    "TrainConfig": "engine.config",
    "LabError": "engine.errors", "ConfigError": "engine.errors", "DataError": "engine.errors",
    "CheckpointError": "engine.errors",
    "resolve_device": "engine.device",
    "load_dataset": "engine.data", "read_source": "engine.data", "Dataset": "engine.data",
    "create_model": "engine.models", "list_models": "engine.models", "register_model": "engine.models",
    "train": "engine.training.trainer", "resume_config": "engine.training.trainer",
    "History": "engine.training.events", "RunStarted": "engine.training.events",
    "BatchEnded": "engine.training.events", "EpochEnded": "engine.training.events",
    "RunEnded": "engine.training.events", "PhaseChanged": "engine.training.events",
    "CheckpointReady": "engine.training.events",
    "load_checkpoint": "engine.training.checkpoint", "save_checkpoint": "engine.training.checkpoint",
    "list_runs": "engine.training.runs", "read_metrics": "engine.training.runs",
    "predict": "engine.evaluation", "evaluate": "engine.evaluation", "EvalReport": "engine.evaluation",
    "load_model": "engine.inference", "load_eval_data": "engine.inference",
    "export_model": "engine.export", "weight_table": "engine.weights",
    "register_dataset": "engine.data.sources", "list_datasets": "engine.data.sources",
    "settings": "engine.config", "load_run": "engine.runinfo", "read_runs": "engine.runinfo",
    "lr_find": "engine.lr_find", "read_inputs": "engine.predict", "top_k": "engine.predict",
    "decision_grid": "engine.boundary", "recipe_values": "engine.recipes",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
