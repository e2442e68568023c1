"""Model registry; importing this package registers every built-in family."""

from engine.models import dense, conv, resnet  # noqa: F401,I001  (registration order = listing order)
from engine.models.registry import (MODEL_OPTIONS, accepted_options, create_model, list_models, load_plugins, model_options,
                       register_model)

load_plugins()

__all__ = ["create_model", "list_models", "register_model", "model_options", "accepted_options", "MODEL_OPTIONS"]
