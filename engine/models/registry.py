"""Model registry in the style of timm: register_model, create_model, list_models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn as nn

from ..errors import ConfigError

_REGISTRY: dict[str, "ModelEntry"] = {}

# the TrainConfig fields that shape a model; create_model accepts exactly these as options
MODEL_OPTIONS = ("hidden", "channels", "layers_per_block", "pool_every", "activation",
                 "dropout", "batchnorm", "bottleneck", "init")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    builder: Callable[..., nn.Module]


def register_model(name: str, description: str):
    """Decorator: register `builder(input_shape, num_classes, **options) -> nn.Module` under `name`."""
    def deco(fn):
        _REGISTRY[name] = ModelEntry(name, description, fn)
        return fn
    return deco


def list_models() -> list[ModelEntry]:
    """Registered models, in registration order."""
    return list(_REGISTRY.values())


def model_options(cfg) -> dict:
    """The model-shaping fields of a TrainConfig (or its dict)."""
    get = cfg.get if isinstance(cfg, dict) else lambda k, d=None: getattr(cfg, k, d)
    return {k: get(k) for k in MODEL_OPTIONS if get(k) is not None}


def create_model(name: str, input_shape, num_classes: int, **options) -> nn.Module:
    """Build a registered model for images of `input_shape` (C,H,W) and `num_classes` outputs."""
    if name not in _REGISTRY:
        raise ConfigError(f"--model: expected one of {', '.join(_REGISTRY)}, got {name!r}")
    unknown = set(options) - set(MODEL_OPTIONS)
    if unknown:
        raise ConfigError(f"{name}: unknown model options {sorted(unknown)}")
    init = options.pop("init", "default")
    model = _REGISTRY[name].builder(tuple(input_shape), int(num_classes), **options)
    initialize(model, init)
    return model


def initialize(model: nn.Module, scheme: str) -> None:
    """Re-initialise conv and linear weights: 'kaiming' (for ReLU nets), 'xavier', or keep torch's default."""
    if scheme == "default":
        return
    if scheme not in ("kaiming", "xavier"):
        raise ConfigError(f"--init: expected default, kaiming or xavier, got {scheme!r}")
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            if scheme == "kaiming":
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
