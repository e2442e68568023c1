"""A run's settings: the fields that differ from lab's defaults first (bold), then the rest."""

from rich.text import Text
from textual.widgets import Static

from lab_workbench.engine.settings.config import flag_value, settings
from lab_workbench.engine.core.errors import flag_of
from lab_workbench.engine.runs import RunFolder


POINT_ONLY = ("samples", "noise")  # options of the generated 2-D point sets (moons, circles, blobs)


def inapplicable(config: dict) -> set[str]:
    """The fields that do nothing for this run: point-set options on other data, and the model options that a
    built-in model does not take (a plugin's or torchvision's model: not known, so none)."""
    from lab_workbench.engine.data.points import POINT_SETS
    from lab_workbench.engine.models.catalog import DEFAULTS
    out = set() if config.get("dataset") in POINT_SETS else set(POINT_ONLY)
    model = config.get("model")
    if isinstance(model, str) and model in DEFAULTS:
        model_fields = {s.name for s in settings() if s.group == "model" and s.name in MODEL_OPTIONS}
        out |= model_fields - set(DEFAULTS[model]) - {"init"}
    return out


# the model-shaping options (engine.models.factory.MODEL_OPTIONS, which imports torch to be read)
MODEL_OPTIONS = ("hidden", "channels", "layers_per_block", "pool_every", "activation", "dropout", "batchnorm",
                 "bottleneck", "init")


def render_config(config: dict | None, extra: dict | None = None, missing: str | None = None) -> Text:
    """config.json's config (any dict: hostile files are shown, not trusted) as aligned lines; the fields
    that do nothing for this run are left out unless set. `missing`: what to say when there is no config."""
    if not isinstance(config, dict) or not config:
        return Text(missing or f"no {RunFolder.CONFIG}")
    defaults = {s.name: s.default for s in settings()}
    idle = inapplicable(config)
    keys = [k for k in config if k != "extra" and not (k in idle and config[k] == defaults.get(k))]
    changed = [k for k in keys if k in defaults and config[k] != defaults[k]]
    rest = [k for k in keys if k not in changed]
    width = min(max((len(flag_of(k)) for k in keys), default=8), 22)
    t = Text()
    for k in changed:
        t.append(f"{flag_of(k)[:22]:<{width}}  {_short(k, config[k], config)}\n", style="bold")
    for k in rest:
        t.append(f"{flag_of(k)[:22]:<{width}}  {_short(k, config[k], config)}\n", style="dim")
    for k, v in (extra or {}).items():
        t.append(f"{k[:20]:<{width}}  {_short(k, v)}\n")
    return t


def flag(key, value, config: dict | None = None) -> str:
    """`--hidden 32,32`: a setting as it would be given on the command line; an unset model option as the
    value the run's model uses (`config` names the model)."""
    return f"{flag_of(key)} {_value(key, value, config)}"


def _value(key, value, config: dict | None) -> str:
    """The value after the flag, as engine.settings.config.flag_value writes it (lab compare and sweep do the same); an
    unset field whose placeholder is a hint for the form ('HDF5 file (optional)') is simply 'none'."""
    model = (config or {}).get("model")
    text = flag_value(str(key), value, config if isinstance(model, str) else None)  # a hostile file's model
    return "none" if value is None and text.endswith("(optional)") else text


def _short(key, v, config: dict | None = None) -> str:
    text = _value(key, v, config)
    return text if len(text) <= 60 else text[:57] + "..."


class ConfigPanel(Static):
    """Drawn when on screen: resolving a model's defaults imports the model registry (and torch), which the
    first paint of `labtui --watch` must not wait for."""

    _visible = False
    _pending: tuple | None = None

    def show(self, config: dict | None, extra: dict | None = None, missing: str | None = None) -> None:
        self._pending = (config, extra, missing)
        if self._visible:
            self._draw()

    def on_show(self) -> None:
        self._visible = True
        self._draw()

    def on_hide(self) -> None:
        self._visible = False

    def _draw(self) -> None:
        if self._pending is not None:
            self.update(render_config(*self._pending))
            self._pending = None
