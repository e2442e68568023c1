"""A run's settings: the fields that differ from lab's defaults first (bold), then the rest."""

from rich.text import Text
from textual.widgets import Static

from engine.config import settings
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
        t.append(f"{flag_name(k)[:22]:<{width}}  {_short(config[k])}\n", style="bold")
    for k in rest:
        t.append(f"{flag_name(k)[:22]:<{width}}  {_short(config[k])}\n", style="dim")
    for k, v in (extra or {}).items():
        t.append(f"{k[:20]:<{width}}  {_short(v)}\n")
    return t


def flag_name(key) -> str:
    """A config field as its flag: hidden -> --hidden, batch_size -> --batch-size."""
    return "--" + str(key).replace("_", "-")


def flag_value(v) -> str:
    """A config value as one types it after its flag: [32, 32] -> 32,32; None -> default; True -> yes."""
    if v is None:
        return "default"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ",".join(map(flag_value, v))
    return str(v)


def flag(key, value) -> str:
    """`--hidden 32,32`: a setting as it would be given on the command line."""
    return f"{flag_name(key)} {flag_value(value)}"


def _short(v) -> str:
    text = flag_value(v)
    return text if len(text) <= 60 else text[:57] + "..."


class ConfigPanel(Static):
    def show(self, config: dict | None, extra: dict | None = None) -> None:
        self.update(render_config(config, extra))
