"""Recipes: tuned starting points for a data set. Flags given on top of a recipe override its values.

Each recipe is a set of TrainConfig values per data set, measured in bench/ (bench/fast_mnist.py).
"""

from __future__ import annotations

from lab_workbench.engine.core.errors import ConfigError, flag_of

_FAST_DIGITS = dict(
    # a 3-block conv->pool->BN->ReLU net, one epoch of SGD+Nesterov with one-cycle, label smoothing and
    # a 2-pixel batch shift: >= 99.0% MNIST test accuracy in ~0.45x the time of a plain loop (bench/README.md)
    model="fastcnn", optimizer="sgd", lr=0.2, momentum=0.9, nesterov=True, weight_decay=5e-4,
    scheduler="onecycle", warmup=0.25, label_smoothing=0.1, augment="shift", batch_size=128, epochs=1,
    val_split=0.0, precision="auto",
)

RECIPES: dict[str, dict] = {
    "fast": {
        "description": "a small well-tuned CNN for seconds of training (bf16 where the hardware has it)",
        "datasets": {
            "mnist": _FAST_DIGITS,
            "fashion": {**_FAST_DIGITS, "epochs": 4, "augment": "flip,shift"},
            # airbench-style: wider blocks, flips and crops, large batch, few epochs
            "cifar10": dict(model="fastcnn", channels=[64, 256, 256], optimizer="sgd", lr=0.4, momentum=0.85,
                            nesterov=True, weight_decay=5e-4, scheduler="onecycle", warmup=2.0,
                            label_smoothing=0.2, augment="flip,crop", batch_size=512, epochs=10, val_split=0.0,
                            precision="auto"),
        },
    },
}


def recipe_values(name: str, dataset: str) -> dict:
    """The TrainConfig values recipe `name` sets for `dataset`."""
    if name not in RECIPES:
        raise ConfigError(f"--recipe: expected one of {', '.join(RECIPES)}, got {name!r}")
    per = RECIPES[name]["datasets"]
    if dataset not in per:
        raise ConfigError(f"--recipe {name}: has values for {', '.join(per)}, not for --dataset {dataset} "
                          f"(pass the flags yourself, or pick one of those data sets)")
    return {**per[dataset], "recipe": name}


def with_recipe(given: dict, base) -> dict:
    """The fields to set on `base` (a TrainConfig): those `given` explicitly (flags, config files, the form's
    edited fields) on top of the values of the recipe in force, which fill the rest. The recipe in force is
    the one given, or the base's when the data set changes (a recipe's values are per data set). The one rule
    of `lab train` and of labtui's form."""
    recipe = given.get("recipe", base.recipe if "dataset" in given else None)
    if not recipe:
        return dict(given)
    return {**recipe_values(recipe, given.get("dataset", base.dataset)), **given}


def describe_recipes() -> list[str]:
    """One line per recipe and data set, for `lab train --recipe list`."""
    lines = []
    for name, r in RECIPES.items():
        lines.append(f"{name}: {r['description']}")
        for dataset, values in r["datasets"].items():
            flags = " ".join(_flag(k, v) for k, v in values.items())
            lines.append(f"  --dataset {dataset}: {flags}")
    return lines


def _flag(key: str, value) -> str:
    flag = flag_of(key)
    if value is True:
        return flag
    if isinstance(value, list):
        value = ",".join(map(str, value))
    return f"{flag} {value}"
