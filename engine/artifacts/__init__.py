"""Trained models as artifacts: loading from runs and checkpoints, export, and prediction on files.

Attributes load lazily (PEP 562), so that importing the package does not pull in torch.
"""

from lab_workbench.engine.core.lazy import lazy_getattr

# the export formats and their file endings, here (no torch) so that a bad --format is refused before torch loads
FORMATS = {"torchscript": ".torchscript.pt", "export": ".pt2", "onnx": ".onnx", "safetensors": ".safetensors"}

_EXPORTS = {
    "LoadedModel": "lab_workbench.engine.artifacts.loading", "load_model": "lab_workbench.engine.artifacts.loading",
    "load_eval_data": "lab_workbench.engine.artifacts.loading", "load_state_into": "lab_workbench.engine.artifacts.loading",
    "ExportResult": "lab_workbench.engine.artifacts.export",
    "export_model": "lab_workbench.engine.artifacts.export",
    "Inputs": "lab_workbench.engine.data.inputs", "read_inputs": "lab_workbench.engine.data.inputs",
    "top_k": "lab_workbench.engine.artifacts.predict",
    "eval_folder": "lab_workbench.engine.artifacts.run_outputs", "evaluate_model": "lab_workbench.engine.artifacts.run_outputs",
    "evaluate_run": "lab_workbench.engine.artifacts.run_outputs", "export_run": "lab_workbench.engine.artifacts.run_outputs",
    "check_export": "lab_workbench.engine.artifacts.run_outputs", "Evaluation": "lab_workbench.engine.artifacts.run_outputs",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
