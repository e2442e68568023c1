"""New run: the TrainConfig form; Enter starts the run."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Static

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.errors import LabError

from ..widgets.config_form import ConfigForm


class NewRunScreen(Screen):
    # prefilled by flags, Enter starts at once; naming Start here rather than focusing it on mount spares the
    # first paint a focus on the (focusable) form scroll and a blur, each restyling every field of the form
    AUTO_FOCUS = "#start"
    BINDINGS = [
        Binding("enter", "start", "Start", show=False),
        Binding("ctrl+s", "start", "Start"),
        Binding("ctrl+r", "app.show_runs", "Runs"),
        Binding("ctrl+q", "app.quit", "Quit"),
        Binding("q", "app.quit", "Quit"),  # outside a text field (in one, q is a letter: ctrl+q quits)
    ]

    def __init__(self, initial: TrainConfig) -> None:
        super().__init__()
        self.initial = initial

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with VerticalScroll(id="form-scroll"):
            yield ConfigForm(self.initial, id="form")
        yield Static("", id="form-error")
        with Horizontal(id="form-buttons"):
            yield Button("Start (Enter)", id="start", variant="primary", compact=True)
            yield Button("Runs (^R)", id="runs", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lab: new run"
        self.sub_title = f"runs in {self.initial.runs_dir}/"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        else:
            self.app.action_show_runs()

    def action_start(self) -> None:
        form = self.query_one(ConfigForm)
        error = self.query_one("#form-error", Static)
        try:
            cfg = form.config()
        except LabError as e:
            error.update(Text(str(e), style="bold red"))  # a value may hold [brackets]
            form.mark_invalid(str(e))
            return
        error.update("")
        form.mark_invalid("")
        self.app.start_run(cfg)
