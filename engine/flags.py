"""TrainConfig's fields as flags and form fields: text parsed into values, values checked and shown as text.

engine.config declares the fields (the settings table); this module holds what reads and checks them, for
the CLI, the form and config files alike (one error text for all). engine.config re-exports its names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from engine.errors import ConfigError

if TYPE_CHECKING:
    from engine.config import TrainConfig


@dataclass(frozen=True)
class Setting:
    """One TrainConfig field as a flag and a form field."""

    name: str
    kind: str
    help: str
    default: Any
    short: str | None
    choices: Callable | tuple | None
    check: tuple | None
    group: str
    resumable: bool
    form: bool
    placeholder: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def options(self) -> tuple[str, ...]:
        """The allowed values of a choice field (registries are asked each time: plugins may add to them)."""
        return tuple(self.choices() if callable(self.choices) else self.choices or ())

    def check_value(self, value) -> None:
        """Raise ConfigError naming the flag unless `value` (None: unset) is valid for this field."""
        if value is None:
            return
        if self.kind == "choice":
            if self.name == "device" and str(value).startswith("cuda:"):
                return
            if self.name == "model" and str(value).startswith("tv:"):
                from engine.models.catalog import check_torchvision_name
                check_torchvision_name(value)
                return
            options = self.options()
            if value not in options:
                raise ConfigError(f"{self.flag}: expected one of {', '.join(options)}, got {value!r}"
                                  + _suggest(value, options))
        elif self.kind == "strs":
            if not value or any(not isinstance(v, str) or not v.strip() for v in value):
                raise ConfigError(f"{self.flag}: expected one or more non-empty patterns, got {value!r}")
        elif self.kind == "ints":
            if not value or any(not isinstance(v, int) or v < 1 for v in value):
                raise ConfigError(f"{self.flag}: expected a comma-separated list of positive integers, "
                                  f"got {value!r}")
        elif self.kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            raise ConfigError(f"{self.flag}: expected an integer, got {value!r}")
        elif self.kind == "float" and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                       or not math.isfinite(value)):
            raise ConfigError(f"{self.flag}: expected a finite number, got {value!r}")
        elif self.kind in ("str", "choice") and not isinstance(value, str):
            raise ConfigError(f"{self.flag}: expected text, got {value!r}")
        if self.check is not None and not self.check[0](value):
            raise ConfigError(f"{self.flag}: expected {self.check[1]}, got {value!r}")

    def parse(self, text):
        """A flag's or form field's text -> the field's value; None means unset. One error text for both faces.

        An empty text is refused, never read as "the default": `--lr ''` is a mistake (an unset shell
        variable), not a request for 1e-3. The form maps its empty fields to None before calling this."""
        if text is None:
            return None
        if isinstance(text, str) and text.strip() == "":
            expected = {"int": "an integer", "float": "a finite number", "ints": "a comma-separated list of "
                        "positive integers", "bool": "true or false"}.get(self.kind, "a non-empty value")
            raise ConfigError(f"{self.flag}: expected {expected}, got {text!r}")
        if self.kind == "bool" and isinstance(text, str):  # from a sweep grid or a form
            word = text.strip().lower()
            if word in ("true", "yes", "on", "1"):
                return True
            if word in ("false", "no", "off", "0"):
                return False
            raise ConfigError(f"{self.flag}: expected true or false, got {text!r}")
        if self.kind == "strs":  # repeated flags arrive as a list; a form or a file may give 'a,b'
            items = text if isinstance(text, (list, tuple)) else [text]
            out = [p.strip() for item in items for p in (item.split(",") if isinstance(item, str) else [item])]
            return [p for p in out if p != ""] or None
        if not isinstance(text, str):
            return text
        text = text.strip()
        try:
            if self.kind == "int":
                return int(text)
            if self.kind == "float":
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError
                return value
            if self.kind == "ints":
                parts = text.replace(" ", "").split(",")
                if all(p == "" for p in parts):
                    raise ConfigError(f"{self.flag}: expected a comma-separated list of positive integers, "
                                      f"got {text!r}")
                return [int(p) for p in parts if p != ""]
        except ValueError:
            expected = {"int": "an integer", "float": "a finite number",
                        "ints": "a comma-separated list of integers"}[self.kind]
            raise ConfigError(f"{self.flag}: expected {expected}, got {text!r}") from None
        return text


def config_from_text(values: dict, base: TrainConfig | None = None) -> TrainConfig:
    """A validated TrainConfig from {field: text-or-value}; None leaves the field as in `base`, '' is refused."""
    from engine.config import SETTINGS_BY_NAME, TrainConfig
    changes = {}
    for name, raw in values.items():
        value = SETTINGS_BY_NAME[name].parse(raw)
        if value is not None:
            changes[name] = value
    if changes.get("recipe"):  # a recipe's values first, then the fields given override them
        from engine.training.recipes import recipe_values
        dataset = changes.get("dataset", base.dataset if base is not None else TrainConfig.dataset)
        changes = {**recipe_values(changes["recipe"], dataset), **changes}
    cfg = base.replace(**changes) if base is not None else TrainConfig(**changes)
    return cfg.validate()


# flags that only some choices use: set with another choice they would be silently ignored
USED_ONLY_BY = {"momentum": ("optimizer", ("sgd", "rmsprop")), "nesterov": ("optimizer", ("sgd",)),
                "step_size": ("scheduler", ("step",)), "gamma": ("scheduler", ("step", "plateau"))}


def check_ignored(cfg: TrainConfig) -> None:
    """A flag that the chosen optimizer, scheduler or data source would ignore is a ConfigError naming it."""
    from engine.config import SETTINGS_BY_NAME
    for name, (owner, users) in USED_ONLY_BY.items():
        value, default = getattr(cfg, name), SETTINGS_BY_NAME[name].default
        if value != default and getattr(cfg, owner) not in users:
            flag, owner_flag = SETTINGS_BY_NAME[name].flag, SETTINGS_BY_NAME[owner].flag
            raise ConfigError(f"{flag}: {owner_flag} {getattr(cfg, owner)} does not use it (only "
                              f"{' and '.join(users)} do); drop {flag} or change {owner_flag}")
    if cfg.data and cfg.dataset is not None and not cfg.recipe:
        raise ConfigError(f"--dataset {cfg.dataset}: ignored with --data {cfg.data} (the HDF5 file is the data "
                          f"set); drop --dataset")


def flag_value(name: str, value, config: dict | None = None) -> str:
    """A config value as its flag would take it: [32, 32] -> '32,32', True/False -> 'on'/'off', and an unset
    (None) field as what is in force: the model's own default, else the flag's placeholder ('off', 'auto')."""
    from engine.config import SETTINGS_BY_NAME
    if value is None:
        from engine.models.catalog import DEFAULTS
        model = (config or {}).get("model")
        if model in DEFAULTS and getattr(SETTINGS_BY_NAME.get(name), "group", "") == "model":
            if name == "init":
                return "torch default"
            return flag_value(name, DEFAULTS[model].get(name), None) if name in DEFAULTS[model] else "-"
        s = SETTINGS_BY_NAME.get(name)
        return (s.placeholder or "default") if s is not None else "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def check_run_name(name: str | None) -> None:
    """A run name is a plain folder name: never a path that leaves --runs-dir."""
    if name is None:
        return
    bad = (not name.strip() or "/" in name or "\\" in name or name in (".", "..") or "\0" in name
           or name.startswith("-") or len(name.encode("utf-8", "surrogateescape")) > 200)
    if bad:
        raise ConfigError(f"--name: expected a plain folder name (no '/', '..' or absolute path), got {name!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):  # a newline in a folder name breaks every listing
        raise ConfigError(f"--name: expected a name without control characters (newline, tab...), got {name!r}")


def _suggest(value, options) -> str:
    import difflib
    match = difflib.get_close_matches(str(value).lower(), [o.lower() for o in options], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def parse_augment(text: str | None) -> tuple[str, ...]:
    """'none' | 'flip' | 'crop' | 'flip,crop' -> the augmentations to apply."""
    from engine.config import AUGMENTS
    if text is None or text == "none":
        return ()
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in AUGMENTS]
    if bad or not kinds:
        raise ConfigError(f"--augment: expected none or a list of {', '.join(AUGMENTS)}, got {text!r}")
    return kinds
