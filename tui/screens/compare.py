"""Two runs' curves on the same axes, with their key numbers."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from engine.runinfo import RunInfo

from ..widgets.curve_plot import CurvePlot


class CompareScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("q", "app.quit", "Quit")]

    def __init__(self, runs: list[RunInfo]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        lines = []
        for i, r in enumerate(self.runs, 1):
            best = "-" if r.best_val_acc is None else f"{100 * r.best_val_acc:.2f}%"
            test = "-" if r.test_acc is None else f"{100 * r.test_acc:.2f}%"
            lines.append(f"[b]{i}[/b] {r.name}: {r.config.get('model')} on {r.source}, best val {best}, test {test}")
        yield Static("\n".join(lines), id="compare-legend")
        yield CurvePlot("loss", "loss (1:, 2:)", id="cmp-loss")
        yield CurvePlot("acc", "accuracy", id="cmp-acc")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lab: compare"
        for plot in self.query(CurvePlot):
            plot.clear_series()
            for i, r in enumerate(self.runs, 1):
                plot.set_rows(r.rows, prefix=f"{i}:")
