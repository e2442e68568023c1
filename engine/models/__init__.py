"""Models: the registry (timm-style `register_model`, `create_model`, `list_models`) and the built-in families.

Attributes load lazily (PEP 562): `engine.models.catalog` (names and descriptions) does not pull in torch.
The built-in families register on the registry's first use; plugins load in the faces' `main`
(`engine.core.registry.load_plugins`), never as a side effect of an import.
"""

from lab_workbench.engine.core.lazy import lazy_getattr

_EXPORTS = {name: "lab_workbench.engine.models.factory" for name in (
    "MODELS", "MODEL_OPTIONS", "accepted_options", "create_model", "list_models", "model_options", "register_model")}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
