"""Any number of runs' curves on the same axes, with their key numbers and the config fields that differ."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from engine.runs import RunInfo, differing

from ..widgets.config_panel import flag, inapplicable
from ..widgets.curve_plot import CurveKeys, CurvePlot


def run_lines(runs: list[RunInfo]) -> list[str]:
    """One line a run: its number, name, best validation and test accuracy, and the fields that differ."""
    diff = differing([r.config for r in runs])
    lines = []
    for i, r in enumerate(runs, 1):
        best = "-" if r.best_val_acc is None else f"{100 * r.best_val_acc:.2f}%"
        test = "-" if r.test_acc is None else f"{100 * r.test_acc:.2f}%"
        idle = inapplicable(r.config)  # an option this run's model does not take differs in nothing that counts
        differs = " ".join(flag(k, r.config.get(k), r.config) for k in diff if k not in idle)
        lines.append(f"{i} {r.name}  val {best}  test {test}  {differs or r.config.get('model')}")
    return lines


class CompareScreen(CurveKeys, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("l", "log_y", "Log y"),
                Binding("s", "smooth", "Smooth"), Binding("q", "app.quit", "Quit")]

    def __init__(self, runs: list[RunInfo]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        lines = run_lines(self.runs)
        # one line a run, cut at the width; more runs than fit scroll, so the charts keep their height
        with VerticalScroll(id="compare-head"):
            yield Static(Text("\n".join(lines), no_wrap=True, overflow="ellipsis"), id="compare-legend")
        yield Static("", id="compare-markers")
        yield CurvePlot("loss", "loss", id="cmp-loss")
        yield CurvePlot("acc", "accuracy", id="cmp-acc")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lab: compare"
        for plot in self.query(CurvePlot):
            plot.clear_series()
            plot.legend_in_title = False  # many runs: the legend line above the plots, outside them
            splits = ("train", "val") if len(self.runs) <= 2 else ("val",)  # more runs: validation only
            for i, r in enumerate(self.runs, 1):
                plot.set_rows(r.rows, prefix=f"{i}:", splits=splits)
        self.query_one("#compare-markers", Static).update(self.query_one("#cmp-loss", CurvePlot).legend())

