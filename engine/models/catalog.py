"""The built-in models' names and descriptions, without importing torch (for `lab models`, --help, the form).

engine.models registers the builders under these names; a test checks that both agree.
"""

from __future__ import annotations

import os

BUILTIN: dict[str, str] = {
    "logistic": "multinomial logistic regression: one linear layer on the flattened image",
    "mlp": "multilayer perceptron: (FC->ACT->dropout)*M->FC, --hidden 256,128",
    "cnn": "[(CONV->ACT)*L->POOL every P blocks]->(FC->ACT)*M->FC, -K 32,64 -L 2 -P 1 -H 128",
    "convnet": "classic small MNIST net: conv32->conv64->pool->dropout->FC128->FC",
    "fastcnn": "fast small CNN: (CONV->POOL->BN->ReLU)*3->FC, -K 16,32,64 (the fast recipe's model)",
    "resnet": "residual network: stem->[blocks]*stages->avgpool->FC, -K 16,32,64 -L 2, --bottleneck",
}

# what each built-in model uses for a shaping option left unset (None), so that listings can show the value
# in force rather than "None"; tests/engine/test_strict_flags.py builds each model both ways to check it
DEFAULTS: dict[str, dict] = {
    "logistic": {},
    "mlp": {"hidden": [256, 128], "activation": "relu", "dropout": 0.0},
    "cnn": {"channels": [32, 64], "layers_per_block": 2, "pool_every": 1, "hidden": [128], "activation": "relu",
            "dropout": 0.0, "batchnorm": True},
    "convnet": {"hidden": [128], "activation": "relu", "dropout": 0.25},
    "fastcnn": {"channels": [16, 32, 64], "activation": "relu", "dropout": 0.0},
    "resnet": {"channels": [16, 32, 64], "layers_per_block": 2, "activation": "relu", "dropout": 0.0,
               "bottleneck": False},
}


def plugins_configured() -> bool:
    """Whether user modules may register more models ($LAB_PLUGINS or a `lab.plugins` entry point)."""
    if os.environ.get("LAB_PLUGINS", "").strip():
        return True
    from importlib.metadata import entry_points
    return bool(entry_points(group="lab.plugins"))


TORCHVISION_PREFIX = "tv:"


def torchvision_names() -> list[str]:
    """The classification models of torchvision.models (imports torchvision, hence torch)."""
    import torchvision.models as tvm
    return sorted(tvm.list_models(module=tvm))


def check_torchvision_name(model: str) -> None:
    """A ConfigError naming --model unless `model` is tv:NAME of a torchvision classification model."""
    from engine.errors import ConfigError
    name = model[len(TORCHVISION_PREFIX):]
    names = torchvision_names()
    if name not in names:
        import difflib
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f" (did you mean 'tv:{close[0]}'?)" if close else " (see lab models --all)"
        raise ConfigError(f"--model: {model!r} is not a torchvision classification model{hint}")


def torchvision_entries() -> list[tuple[str, str]]:
    """(tv:NAME, description) of torchvision's classifiers; sizes from their weights' metadata (no build)."""
    import torchvision.models as tvm
    out = []
    for name in torchvision_names():
        try:
            size = f"{tvm.get_model_weights(name).DEFAULT.meta['num_params'] / 1e6:.1f}M params at 1000 classes, "
        except (AttributeError, KeyError, ValueError):
            size = ""
        out.append((TORCHVISION_PREFIX + name, f"torchvision: {size}head fitted to the classes"))
    return out
