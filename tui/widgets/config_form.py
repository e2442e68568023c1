"""The New-run form, built from TrainConfig: one compact input or select per field."""

from dataclasses import fields

from textual.containers import Grid
from textual.widgets import Input, Label, Select

from commands.options import TRAIN_OPTIONS
from engine.config import ACTIVATIONS, DATASETS, INITS, MODELS, OPTIMIZERS, SCHEDULERS, TrainConfig
from engine.device import DEVICES
from engine.errors import ConfigError

CHOICES = {"dataset": DATASETS, "model": MODELS, "activation": ACTIVATIONS, "optimizer": OPTIMIZERS,
           "scheduler": SCHEDULERS, "device": DEVICES, "init": INITS}
FORM_FIELDS = ["dataset", "data", "model", "hidden", "channels", "layers_per_block", "pool_every", "activation",
               "dropout", "init", "epochs", "batch_size", "optimizer", "lr", "l1", "l2", "weight_decay", "scheduler",
               "patience", "device", "seed", "name"]
TYPES = {name: typ for name, typ, _, _ in TRAIN_OPTIONS}
HELP = {name: text for name, _, _, text in TRAIN_OPTIONS}
LISTS = ("hidden", "channels")
PLACEHOLDERS = {"data": "HDF5 file (optional)", "hidden": "model default", "channels": "model default",
                "layers_per_block": "model default", "patience": "off", "name": "automatic"}
LABELS = {"layers_per_block": "layers/block", "weight_decay": "weight decay", "batch_size": "batch size"}
OPTIONAL = ("data", "name", "hidden", "channels", "layers_per_block", "patience")  # empty means None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


class ConfigForm(Grid):
    """Edits the FORM_FIELDS of a TrainConfig; every other field is kept from the initial config."""

    def __init__(self, initial: TrainConfig, **kw) -> None:
        super().__init__(**kw)
        self.initial = initial

    def compose(self):
        defaults = {f.name: f.default for f in fields(TrainConfig)}
        for name in FORM_FIELDS:
            yield Label(LABELS.get(name, name.replace("_", " ")), classes="form-label")
            value = getattr(self.initial, name)
            if name in CHOICES:
                yield Select([(c, c) for c in CHOICES[name]], value=value, allow_blank=False, compact=True,
                             id=f"f-{name}", tooltip=HELP[name])
            else:
                typ = TYPES[name]
                kind = "integer" if typ is int else "number" if typ is float else "text"
                placeholder = PLACEHOLDERS.get(name, "") if value is None and defaults.get(name) is None else ""
                yield Input(_text(value), placeholder=placeholder, type=kind, compact=True, id=f"f-{name}",
                            tooltip=HELP[name])

    def values(self) -> dict:
        """The raw field values, as strings or choices."""
        out = {}
        for name in FORM_FIELDS:
            widget = self.query_one(f"#f-{name}")
            out[name] = widget.value
        return out

    def config(self) -> TrainConfig:
        """A validated TrainConfig, or ConfigError naming the field."""
        changes = {}
        for name, raw in self.values().items():
            if name in CHOICES:
                changes[name] = raw
                continue
            text = str(raw).strip()
            if text == "":
                changes[name] = None if name in OPTIONAL else getattr(TrainConfig, name)
                continue
            try:
                if name in LISTS:
                    value = [int(v) for v in text.split(",") if v.strip()]
                else:
                    value = TYPES[name](text)
            except ValueError:
                kind = "a comma-separated list of integers" if name in LISTS else \
                    "an integer" if TYPES[name] is int else "a number"
                raise ConfigError(f"{name.replace('_', ' ')}: expected {kind}, got {text!r}") from None
            changes[name] = value
        return self.initial.replace(**changes).validate()

    def mark_invalid(self, message: str) -> None:
        """Highlight the field a ConfigError names (by its flag or label)."""
        for name in FORM_FIELDS:
            widget = self.query_one(f"#f-{name}")
            flag = "--" + name.replace("_", "-")
            bad = message.startswith(flag + ":") or message.startswith(name.replace("_", " ") + ":")
            widget.set_class(bad, "invalid")
            if bad:
                widget.focus()
