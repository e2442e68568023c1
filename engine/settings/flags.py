"""One TrainConfig field as a flag and a form field: its text parsed into a value, the value checked.

engine.settings.config declares the fields (the settings table) and checks whole configs; this module reads and
checks one value, for the CLI, the form and config files alike (one error text for all). It imports
nothing of engine.settings.config, which re-exports its names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from lab_workbench.engine.core.errors import ConfigError, flag_of


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
        return flag_of(self.name)

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
                from lab_workbench.engine.models.catalog import check_torchvision_name
                check_torchvision_name(value)
                return
            options = self.options()
            if value not in options:
                hint = _suggest(value, options)
                if self.name == "model":  # resnet50 is tv:resnet50
                    from lab_workbench.engine.models.catalog import suggest_model
                    hint = suggest_model(str(value), options)
                raise ConfigError(f"{self.flag}: expected one of {', '.join(options)}, got {value!r}" + hint)
        elif self.kind == "strs":
            if not isinstance(value, list) or not value or any(not isinstance(v, str) or not v.strip()
                                                                for v in value):
                raise ConfigError(f"{self.flag}: expected one or more non-empty patterns, got {value!r}")
            if self.choices is not None and any(v not in self.options() for v in value):  # --log-to's trackers
                raise ConfigError(f"{self.flag}: expected a list of {', '.join(self.options())}, got {value!r}")
        elif self.kind == "ints":
            # a bool is an int to Python, but `hidden: [true, true]` or `classes: [true, 2]` is a mistake
            if not isinstance(value, list) or not value or any(not _is_int(v) for v in value):
                raise ConfigError(f"{self.flag}: expected a comma-separated list of integers, got {value!r}")
            if self.check is None and any(v < 1 for v in value):
                raise ConfigError(f"{self.flag}: expected a comma-separated list of positive integers, "
                                  f"got {value!r}")
        elif self.kind == "int" and not _is_int(value):
            raise ConfigError(f"{self.flag}: expected an integer, got {value!r}")
        elif self.kind == "float" and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                       or not math.isfinite(value)):
            raise ConfigError(f"{self.flag}: expected a finite number, got {value!r}")
        elif self.kind in ("str", "choice") and not isinstance(value, str):
            raise ConfigError(f"{self.flag}: expected text, got {value!r}")
        elif self.kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{self.flag}: expected true or false, got {value!r}")
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
            if any(not isinstance(item, str) for item in items):  # `freeze: [1]`, `log_to: [null]` in a file
                raise ConfigError(f"{self.flag}: expected one or more non-empty names or patterns, got {text!r}")
            out = [p.strip() for item in items for p in item.split(",") if p.strip()]
            if not out:  # `--log-to ''`, `--freeze ','`: an empty value is a mistake, not "none"
                raise ConfigError(f"{self.flag}: expected one or more non-empty names or patterns, got {text!r}")
            return out
        if not isinstance(text, str):  # a config file's number or list, checked by check_value
            return text + 0.0 if self.kind == "float" and isinstance(text, float) else text
        text = text.strip()
        try:
            if self.kind == "int":
                return int(text)
            if self.kind == "float":
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError
                return value + 0.0  # -0 is 0: numpy refuses a noise scale of -0.0 as negative
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


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
