"""A question with a few answers to pick from (enter picks, esc leaves), e.g. the format of an export."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class ChooseScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape,q", "leave", "Cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        """`choices`: (answer, what it means) pairs, the first one highlighted."""
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question)
            yield OptionList(*(Option(f"{a:<12} {what}", id=a) for a, what in self.choices), id="choose")
            yield Static("[b]enter[/b] pick    [b]esc[/b] cancel", id="confirm-keys")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_leave(self) -> None:
        self.dismiss(None)
