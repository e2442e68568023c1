"""The New-run form, generated from TrainConfig's field metadata: one input or select per setting."""

from textual.containers import Grid
from textual.widgets import Input, Label, Select

from engine.config import TrainConfig, settings

UNSET = ""  # a select's value for "the model's own default"
LABELS = {"layers_per_block": "layers/block", "weight_decay": "weight decay"}  # fit the label column


def form_settings():
    """The settings the form shows: every flag-backed field marked for the form."""
    return [s for s in settings() if s.form]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _select_options(s) -> list[tuple[str, object]]:
    if s.kind == "bool":
        options = [("off", False), ("on", True)]
    else:
        options = [(c, c) for c in s.options()]
    if s.default is None:
        options.insert(0, ("model default" if s.group == "model" else "default", UNSET))
    return options


class ConfigForm(Grid):
    """Edits the form's settings of a TrainConfig; every other field is kept from the initial config."""

    def __init__(self, initial: TrainConfig, **kw) -> None:
        super().__init__(**kw)
        self.initial = initial
        self.fields = form_settings()

    def compose(self):
        for s in self.fields:
            yield Label(LABELS.get(s.name, s.name.replace("_", " ")), classes="form-label")
            value = getattr(self.initial, s.name)
            if s.kind in ("choice", "bool"):
                options = _select_options(s)
                current = UNSET if value is None else value
                if current not in [v for _, v in options]:
                    options.append((str(current), current))  # e.g. a model from a plugin, or cuda:1
                yield Select(options, value=current, allow_blank=False, compact=True, id=f"f-{s.name}",
                             tooltip=s.help)
            else:
                kind = {"int": "integer", "float": "number"}.get(s.kind, "text")
                yield Input(_text(value), placeholder=s.placeholder, type=kind, compact=True, id=f"f-{s.name}",
                            tooltip=s.help)

    def values(self) -> dict:
        """The raw field values, as text or choices."""
        return {s.name: self.query_one(f"#f-{s.name}").value for s in self.fields}

    def config(self) -> TrainConfig:
        """A validated TrainConfig, or a ConfigError with the same text as the CLI's for that value.

        An empty field or an unset select takes the field's default (for model fields: the model's own)."""
        changes = {}
        for s, raw in zip(self.fields, self.values().values()):
            value = None if raw in (UNSET, None) else s.parse(raw)
            changes[s.name] = s.default if value is None else value
        return self.initial.replace(**changes).validate()

    def mark_invalid(self, message: str) -> None:
        """Highlight the field a ConfigError names by its flag."""
        for s in self.fields:
            widget = self.query_one(f"#f-{s.name}")
            bad = message.startswith(s.flag + ":") or message.startswith(s.flag + " ")
            widget.set_class(bad, "invalid")
            if bad:
                widget.focus()
