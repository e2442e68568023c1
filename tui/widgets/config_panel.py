"""A run's settings: the fields that differ from lab's defaults first (bold), then the rest."""

from rich.text import Text
from textual.widgets import Static

from engine.config import settings


def render_config(config: dict | None, extra: dict | None = None) -> Text:
    """config.json's config (any dict: hostile files are shown, not trusted) as aligned lines."""
    if not isinstance(config, dict) or not config:
        return Text("no config.json")
    defaults = {s.name: s.default for s in settings()}
    keys = [k for k in config if k != "extra"]
    changed = [k for k in keys if k in defaults and config[k] != defaults[k]]
    rest = [k for k in keys if k not in changed]
    width = min(max((len(k) for k in keys), default=8), 20)
    t = Text()
    for k in changed:
        t.append(f"{k[:20]:<{width}}  {_short(config[k])}\n", style="bold")
    for k in rest:
        t.append(f"{k[:20]:<{width}}  {_short(config[k])}\n", style="dim")
    for k, v in (extra or {}).items():
        t.append(f"{k[:20]:<{width}}  {_short(v)}\n")
    return t


def _short(v) -> str:
    text = ",".join(map(str, v)) if isinstance(v, list) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


class ConfigPanel(Static):
    def show(self, config: dict | None, extra: dict | None = None) -> None:
        self.update(render_config(config, extra))
