"""A run's settings: the fields that differ from lab's defaults first (bold), then the rest."""

from rich.text import Text
from textual.widgets import Static

from engine.config import flag_value, settings
from engine.runs import RunFolder


def render_config(config: dict | None, extra: dict | None = None) -> Text:
    """config.json's config (any dict: hostile files are shown, not trusted) as aligned lines."""
    if not isinstance(config, dict) or not config:
        return Text(f"no {RunFolder.CONFIG}")
    defaults = {s.name: s.default for s in settings()}
    keys = [k for k in config if k != "extra"]
    changed = [k for k in keys if k in defaults and config[k] != defaults[k]]
    rest = [k for k in keys if k not in changed]
    width = min(max((len(flag_name(k)) for k in keys), default=8), 22)
    t = Text()
    for k in changed:
        t.append(f"{flag_name(k)[:22]:<{width}}  {_short(k, config[k], config)}\n", style="bold")
    for k in rest:
        t.append(f"{flag_name(k)[:22]:<{width}}  {_short(k, config[k], config)}\n", style="dim")
    for k, v in (extra or {}).items():
        t.append(f"{k[:20]:<{width}}  {_short(k, v)}\n")
    return t


def flag_name(key) -> str:
    """A config field as its flag: hidden -> --hidden, batch_size -> --batch-size."""
    return "--" + str(key).replace("_", "-")


def flag(key, value, config: dict | None = None) -> str:
    """`--hidden 32,32`: a setting as it would be given on the command line; an unset model option as the
    value the run's model uses (`config` names the model)."""
    return f"{flag_name(key)} {_value(key, value, config)}"


def _value(key, value, config: dict | None) -> str:
    """The value after the flag, as engine.config.flag_value writes it (lab compare and sweep do the same)."""
    model = (config or {}).get("model")
    return flag_value(str(key), value, config if isinstance(model, str) else None)  # a hostile file's model


def _short(key, v, config: dict | None = None) -> str:
    text = _value(key, v, config)
    return text if len(text) <= 60 else text[:57] + "..."


class ConfigPanel(Static):
    """Drawn when on screen: resolving a model's defaults imports the model registry (and torch), which the
    first paint of `labtui --watch` must not wait for."""

    _visible = False
    _pending: tuple | None = None

    def show(self, config: dict | None, extra: dict | None = None) -> None:
        self._pending = (config, extra)
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
