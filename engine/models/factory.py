"""Model registry in the style of timm: register_model, create_model, list_models."""

from __future__ import annotations

import inspect

import torch
import torch.nn as nn

from lab_workbench.engine.core.errors import ConfigError, LabError, flag_of
from lab_workbench.engine.models.catalog import import_builtin_models
from lab_workbench.engine.core.registry import Entry, Registry

MODELS = Registry("--model", import_builtin_models)

# the TrainConfig fields that shape a model; create_model accepts exactly these as options
MODEL_OPTIONS = ("hidden", "channels", "layers_per_block", "pool_every", "activation",
                 "dropout", "batchnorm", "bottleneck", "init")


def register_model(name: str, description: str):
    """Decorator: register `builder(input_shape, num_classes, **options) -> nn.Module` under `name`, with a
    one-line description for `lab models`, --help and the form."""
    return MODELS.register(name, description)


def list_models() -> list[Entry]:
    """Registered models (built-ins first), in registration order."""
    return MODELS.entries()


def model_options(cfg) -> dict:
    """The model-shaping fields of a TrainConfig (or its dict) that are set (None: the model's default)."""
    get = cfg.get if isinstance(cfg, dict) else lambda k, d=None: getattr(cfg, k, d)
    return {k: get(k) for k in MODEL_OPTIONS if get(k) is not None}


def accepted_options(name: str) -> list[str]:
    """The model-shaping options a registered model's builder takes (init applies to every model)."""
    params = inspect.signature(MODELS.get(name).fn).parameters
    return [k for k in MODEL_OPTIONS if k in params or k == "init"]


def create_model(name: str, input_shape, num_classes: int, strict: bool = True, **options) -> nn.Module:
    """Build a registered model for images of `input_shape` (C,H,W) and `num_classes` outputs.

    Options set to None take the model's own default. With strict (the default), an option the model does
    not take is a ConfigError naming the flag; strict=False drops it (checkpoints of older versions).
    """
    if name.startswith("tv:"):
        return _create_torchvision(name, input_shape, num_classes, strict, options)
    builder = MODELS.get(name).fn
    unknown = set(options) - set(MODEL_OPTIONS)
    if unknown:
        raise ConfigError(f"{name}: unknown model options {sorted(unknown)}")
    takes = accepted_options(name)
    options = {k: v for k, v in options.items() if v is not None}
    for k in list(options):
        if k not in takes:
            if strict:
                raise ConfigError(f"{flag_of(k)}: model {name} does not take this option "
                                  f"(it takes: {', '.join(flag_of(t) for t in takes)})")
            del options[k]
    init = options.pop("init", "default")
    _check_model_memory(name, tuple(input_shape), int(num_classes), options)
    model = builder(tuple(input_shape), int(num_classes), **options)
    initialize(model, init)
    return model


def _create_torchvision(name: str, input_shape, num_classes: int, strict: bool, options: dict) -> nn.Module:
    """tv:NAME takes no model-shaping option but --init (its own init is torchvision's)."""
    from lab_workbench.engine.models.catalog import check_torchvision_name
    from lab_workbench.engine.models.torchvision import build_torchvision
    check_torchvision_name(name)
    options = {k: v for k, v in options.items() if v is not None}
    extra = [k for k in options if k != "init"]
    if extra and strict:
        raise ConfigError(f"--{extra[0].replace('_', '-')}: model {name} does not take this option "
                          f"(torchvision models take only --init)")
    model = build_torchvision(name[3:], input_shape, num_classes)
    initialize(model, options.get("init", "default"))
    return model


LAYER_BYTES = 4096  # less than the Python objects of one conv layer (module, parameters, norm, activation)


def _check_model_memory(name: str, input_shape: tuple, num_classes: int, options: dict) -> None:
    """Build the model on the meta device (no memory) and refuse it when its weights, gradients and optimizer
    state cannot fit: `--hidden 4000000000` is one line, not a process killed by the OOM killer."""
    from lab_workbench.engine.runtime.memory import check_memory
    # even on the meta device each layer is Python objects: -L 4294967296 would be built for hours first
    layers = int(options.get("layers_per_block") or 1) * max(1, len(options.get("channels") or ()))
    check_memory(LAYER_BYTES * layers, f"model {name} ({layers:,} conv layers)",
                 "lower --layers-per-block or the number of --channels")
    try:
        with torch.device("meta"):
            probe = MODELS.get(name).fn(input_shape, num_classes, **options)
        count = sum(t.numel() for t in [*probe.parameters(), *probe.buffers()])
    except LabError:
        raise
    except RuntimeError as e:
        if "overflow" in str(e):  # more elements than an int64 counts
            raise ConfigError(f"model {name}: a layer is too large to exist; lower --hidden or --channels") from None
        return
    except Exception:  # a builder that needs real tensors: the real build below reports its own errors
        return
    # fp32 weights, their gradients and two Adam moments
    check_memory(16 * count, f"model {name} ({count:.3g} parameters)",
                 "lower --hidden or --channels, or use smaller images")


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
