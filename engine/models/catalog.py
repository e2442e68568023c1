"""The built-in models' names and descriptions, without importing torch (for `lab models`, --help, the form).

Each description is written once, in its builder's `@register_model(name, description)` decorator; this
module reads the decorators from the family modules' source, so that listing them needs no torch.
"""

from __future__ import annotations

import functools
from pathlib import Path

# the modules that register the built-in models, in listing order
FAMILIES = ("dense", "conv", "resnet")


def import_builtin_models() -> None:
    """Import the family modules: their decorators register the built-in models (MODELS' loader)."""
    import importlib
    for family in FAMILIES:
        importlib.import_module(f"lab_workbench.engine.models.{family}")


@functools.cache
def builtin_entries() -> tuple[tuple[str, str], ...]:
    """(name, description) of each built-in model, read from its @register_model decorator's literals."""
    import ast
    out = []
    for family in FAMILIES:
        tree = ast.parse((Path(__file__).parent / f"{family}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            for deco in getattr(node, "decorator_list", []):
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "register_model":
                    out.append((ast.literal_eval(deco.args[0]), ast.literal_eval(deco.args[1])))
    return tuple(out)


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


def check_builtin_options(model: str, values: dict) -> None:
    """A shaping option set for a built-in model that does not take it is a ConfigError naming the flag, as
    create_model says it, but before torch is imported (the keys of DEFAULTS are what each builder takes;
    tests/commands/test_bad_flags.py checks that they agree)."""
    from lab_workbench.engine.core.errors import ConfigError
    if model not in DEFAULTS:
        return
    takes = [*DEFAULTS[model], "init"]
    for key in dict.fromkeys(k for d in DEFAULTS.values() for k in d):
        if key not in takes and values.get(key) is not None:
            raise ConfigError(f"--{key.replace('_', '-')}: model {model} does not take this option "
                              f"(it takes: {', '.join('--' + t.replace('_', '-') for t in takes)})")


TORCHVISION_PREFIX = "tv:"


def torchvision_names() -> list[str]:
    """The classification models of torchvision.models (imports torchvision, hence torch)."""
    import torchvision.models as tvm
    return sorted(tvm.list_models(module=tvm))


def check_torchvision_name(model: str) -> None:
    """A ConfigError naming --model unless `model` is tv:NAME of a torchvision classification model."""
    from lab_workbench.engine.core.errors import ConfigError
    name = model[len(TORCHVISION_PREFIX):]
    names = torchvision_names()
    if name not in names:
        import difflib
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f" (did you mean 'tv:{close[0]}'?)" if close else " (see lab models --all)"
        raise ConfigError(f"--model: {model!r} is not a torchvision classification model{hint}")


def suggest_model(name: str, options) -> str:
    """' (did you mean ...?)' for an unknown --model: tv:NAME when torchvision has that very name (resnet50),
    else the closest of lab's models, else the closest torchvision name; '' when nothing is close."""
    import difflib

    from lab_workbench.engine.models.tv_names import TV_NAMES
    tv = list(TV_NAMES)  # not torchvision_names(): a mistyped --model is refused before torch is imported
    close = (([name] if name in tv else []) or difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
             or difflib.get_close_matches(name, tv, n=1, cutoff=0.75))
    if not close:
        return ""
    return f" (did you mean {(close[0] if close[0] in options else TORCHVISION_PREFIX + close[0])!r}?)"


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
