"""The New-run form, generated from TrainConfig's field metadata: one input or select per setting.

The settings most runs change come first; the rarer ones wait in a collapsed "more settings" group whose
fields are built only when it is first opened: composing and styling them was most of labtui's first paint.
Until then each rare setting keeps the initial config's value, exactly as its untouched field would.
"""

from textual.containers import Grid, Vertical
from textual.widgets import Collapsible, Input, Label, Select

from lab_workbench.engine.settings.config import TrainConfig, settings

COMMON = ("dataset", "data", "recipe", "model", "hidden", "channels", "dropout", "optimizer", "lr", "scheduler",
          "epochs", "batch_size", "augment", "name")

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
        label = "model default" if s.group == "model" else "none" if s.name == "recipe" else "default"
        options.insert(0, (label, UNSET))
    return options


class ConfigForm(Vertical):
    """Edits the form's settings of a TrainConfig; every other field is kept from the initial config."""

    def __init__(self, initial: TrainConfig, **kw) -> None:
        super().__init__(**kw)
        self.initial = initial
        self.fields = form_settings()
        self.rare_built = False

    def compose(self):
        with Grid(classes="form-grid", id="form-common"):
            yield from self._fields([s for s in self.fields if s.name in COMMON])
        with Collapsible(title=f"more settings ({len(self.rare)}: data, model, fine-tuning, optimisation, run, "
                               "trackers)", collapsed=True,
                         id="form-more"):
            yield Grid(classes="form-grid", id="form-rare")

    @property
    def rare(self) -> list:
        """The settings of the "more settings" group."""
        return [s for s in self.fields if s.name not in COMMON]

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        self.build_rare()

    def build_rare(self) -> None:
        """Mount the rare settings' fields, once; they are in the DOM (queryable) when this returns."""
        if not self.rare_built:
            self.rare_built = True
            self.query_one("#form-rare", Grid).mount_all(self._fields(self.rare))

    def _raw(self, s):
        """What the field of s shows for the initial config: its text, or its select's value."""
        value = getattr(self.initial, s.name)
        if s.kind in ("choice", "bool"):
            return UNSET if value is None else value
        return _text(value)

    def _fields(self, fields):
        for s in fields:
            yield Label(LABELS.get(s.name, s.name.replace("_", " ")), classes="form-label")
            current = self._raw(s)
            if s.kind in ("choice", "bool"):
                options = _select_options(s)
                if current not in [v for _, v in options]:
                    options.append((str(current), current))  # e.g. a model from a plugin, or cuda:1
                yield Select(options, value=current, allow_blank=False, compact=True, id=f"f-{s.name}",
                             tooltip=s.help)
            else:
                kind = {"int": "integer", "float": "number"}.get(s.kind, "text")
                yield Input(current, placeholder=s.placeholder, type=kind, compact=True, id=f"f-{s.name}",
                            tooltip=s.help)

    def values(self) -> dict:
        """The raw field values, as text or choices (a rare field not built yet: the initial config's)."""
        built = self.rare_built
        return {s.name: self.query_one(f"#f-{s.name}").value if built or s.name in COMMON else self._raw(s)
                for s in self.fields}

    def config(self) -> TrainConfig:
        """A validated TrainConfig, or a ConfigError with the same text as the CLI's for that value.

        An empty field or an unset select takes the field's default (for model fields: the model's own). The
        fields edited here are what was given, as flags are to `lab train`: a recipe fills the others."""
        from lab_workbench.engine.settings.recipes import with_recipe
        edited = {}
        for s, raw in zip(self.fields, self.values().values()):
            value = None if raw is None or (isinstance(raw, str) and not raw.strip()) else s.parse(raw)
            value = s.default if value is None else value
            if value != getattr(self.initial, s.name):
                edited[s.name] = value
        cfg = self.initial.replace(**with_recipe(edited, self.initial)).validate()
        from lab_workbench.engine.data.sources import check_source
        check_source(cfg)  # a missing file or data set fails here, not after the screen has changed
        return cfg

    def mark_invalid(self, message: str) -> None:
        """Highlight the field a ConfigError names by its flag, opening the "more settings" group for a rare one."""
        bad = next((s for s in self.fields if message.startswith((s.flag + ":", s.flag + " "))), None)
        if bad is not None and bad.name not in COMMON:
            self.build_rare()
            self.query_one("#form-more", Collapsible).collapsed = False
        for s in self.fields:
            if self.rare_built or s.name in COMMON:
                self.query_one(f"#f-{s.name}").set_class(s is bad, "invalid")
        if bad is not None:
            self.query_one(f"#f-{bad.name}").focus()
