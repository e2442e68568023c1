"""Model registry; importing this package registers every built-in family."""

from . import dense, conv, resnet  # noqa: F401,I001  (registration order = listing order)
from .registry import MODEL_OPTIONS, create_model, list_models, model_options, register_model

__all__ = ["create_model", "list_models", "register_model", "model_options", "MODEL_OPTIONS"]
