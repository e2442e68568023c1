"""`?`: the keys of the screen it was opened from, and the app-wide ones."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

GLOBAL = [("?", "this help"), ("ctrl+p", "command palette: new run, runs, watch latest, compare latest"),
          ("ctrl+c", "stop an active run at its batch with a checkpoint (interrupted) and quit; q asks first")]


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.heading, self.keys = title, keys

    def compose(self) -> ComposeResult:
        t = Text()
        t.append(f"{self.heading}\n\n", style="bold")
        for key, what in self.keys + GLOBAL:
            t.append(f"{key:>12}", style="bold reverse")
            t.append(f"  {what}\n")
        t.append("\nescape or ? closes this help")
        with VerticalScroll(id="help"):
            yield Static(t)


def screen_keys(screen) -> list[tuple[str, str]]:
    """(key, description) of the bindings a screen offers right now (check_action decides)."""
    out = []
    for b in getattr(screen, "BINDINGS", []):
        if not isinstance(b, Binding) or not b.description:
            continue
        action = b.action.split("(")[0]
        if hasattr(screen, "check_action") and screen.check_action(action, ()) is False:
            continue
        out.append((b.key_display or b.key.replace("ctrl+", "^"), b.description))
    return out
