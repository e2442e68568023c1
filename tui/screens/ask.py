"""A question with a typed answer (enter answers, esc leaves), e.g. how many epochs to train a run on to."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class AskScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "leave", "Cancel")]

    def __init__(self, question: str, default: str = "") -> None:
        super().__init__()
        self.question = question
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question)
            yield Input(self.default, id="ask-answer")
            yield Static("[b]enter[/b] go    [b]esc[/b] cancel", id="confirm-keys")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_leave(self) -> None:
        self.dismiss(None)
