"""Trained models as artifacts: loading from runs and checkpoints, export, and prediction on files.

Attributes load lazily (PEP 562), so that importing the package does not pull in torch.
"""

from engine.lazy import lazy_getattr

# the export formats and their file endings, here (no torch) so that a bad --format is refused before torch loads
FORMATS = {"torchscript": ".torchscript.pt", "export": ".pt2", "onnx": ".onnx", "safetensors": ".safetensors"}

_EXPORTS = {
    "LoadedModel": "engine.artifacts.loading", "load_model": "engine.artifacts.loading",
    "load_eval_data": "engine.artifacts.loading", "load_state_into": "engine.artifacts.loading",
    "ExportResult": "engine.artifacts.export",
    "export_model": "engine.artifacts.export",
    "Inputs": "engine.data.inputs", "read_inputs": "engine.data.inputs",
    "top_k": "engine.artifacts.predict",
    "eval_folder": "engine.artifacts.run_outputs", "evaluate_model": "engine.artifacts.run_outputs",
    "evaluate_run": "engine.artifacts.run_outputs", "export_run": "engine.artifacts.run_outputs",
    "check_export": "engine.artifacts.run_outputs", "Evaluation": "engine.artifacts.run_outputs",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
