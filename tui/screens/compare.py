"""Any number of runs' curves on the same axes, with their key numbers and the config fields that differ.

Each run has its own colour and marker, in its legend line and on the charts; the loss and the accuracy
charts are tabs (v switches), so each gets the whole height; a digit hides or shows that run, f draws one
run alone (each in turn, then all again)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from lab_workbench.engine.runs import RunInfo, differing
from lab_workbench.engine.core.units import percent

from ..widgets.config_panel import flag, inapplicable
from ..widgets.curve_plot import TRAIN_MARKER, CurveKeys, CurvePlot, glyph, run_style

MAX_KEYED = 10  # runs 1-9 and 0 have a key that hides them


def run_lines(runs: list[RunInfo]) -> list[str]:
    """One line a run: its number, name, best validation and test accuracy, and the fields that differ."""
    diff = differing([r.config for r in runs])
    lines = []
    for i, r in enumerate(runs, 1):
        best, test = percent(r.best_val_acc), percent(r.test_acc)
        idle = inapplicable(r.config)  # an option this run's model does not take differs in nothing that counts
        differs = " ".join(flag(k, r.config.get(k), r.config) for k in diff if k not in idle)
        lines.append(f"{i} {r.name}  val {best}  test {test}  {differs or r.config.get('model')}")
    return lines


def legend(runs: list[RunInfo], hidden: set[int]) -> Text:
    """The run lines, each with its marker, its name in its colour; a hidden run dimmed and struck through."""
    t = Text(no_wrap=True, overflow="ellipsis")
    for i, line in enumerate(run_lines(runs)):
        marker, color = run_style(i)
        number, name, rest = line.split(" ", 1)[0], runs[i].name, line.split(" ", 1)[1][len(runs[i].name):]
        off = " dim strike" if i in hidden else ""
        t.append(f"{glyph(marker)} ", style=f"bold {color}{off}")
        t.append(f"{number} ", style=f"bold{off}")
        t.append(name, style=f"bold {color}{off}")
        t.append(rest + ("\n" if i < len(runs) - 1 else ""), style=off.strip())
    return t


class CompareScreen(CurveKeys, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("v", "chart", "Loss/acc"),
                Binding("f", "focus_run", "Focus"),
                *(Binding(str((i + 1) % 10), f"hide({i})", "Hide", show=i == 0, key_display="1-9")
                  for i in range(MAX_KEYED)),
                Binding("l", "log_y", "Log y", show=False), Binding("s", "smooth", "Smooth", show=False),
                Binding("q", "app.quit", "Quit")]

    def __init__(self, runs: list[RunInfo]) -> None:
        super().__init__()
        self.runs = runs
        self.hidden: set[int] = set()
        self.focused_run: int | None = None  # drawn alone, or None: every run not hidden

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        # one line a run, cut at the width; more runs than fit scroll, so the charts keep their height
        with VerticalScroll(id="compare-head"):
            yield Static(id="compare-legend")
        with TabbedContent(initial="cmp-loss-tab", id="compare-tabs"):
            with TabPane("loss", id="cmp-loss-tab"):
                yield CurvePlot("loss", "loss", id="cmp-loss")
            with TabPane("accuracy", id="cmp-acc-tab"):
                yield CurvePlot("acc", "accuracy", id="cmp-acc")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lab: compare"
        both = len(self.runs) <= 2  # more runs: validation only
        self.sub_title = f"{len(self.runs)} runs" + (f", {TRAIN_MARKER} train" if both else ", validation")
        self.redraw()

    def redraw(self) -> None:
        """The charts and the legend for the runs shown now."""
        shown = [i for i in range(len(self.runs)) if i not in self.hidden
                 and (self.focused_run is None or i == self.focused_run)]
        splits = ("train", "val") if len(self.runs) <= 2 else ("val",)
        for plot in self.query(CurvePlot):
            plot.clear_series()
            plot.legend_in_title = False  # many runs: the legend above the plots, outside them
            for i in shown:
                marker, color = run_style(i)
                for split in splits:
                    plot.styles_of[f"{i + 1}:{split}"] = (TRAIN_MARKER if split == "train" else marker, color)
                plot.set_rows(self.runs[i].rows, prefix=f"{i + 1}:", splits=splits)
            plot.draw()
        self.legend_text = legend(self.runs, {i for i in range(len(self.runs)) if i not in shown})
        self.query_one("#compare-legend", Static).update(self.legend_text)

    def action_chart(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "cmp-acc-tab" if tabs.active == "cmp-loss-tab" else "cmp-loss-tab"

    def action_hide(self, i: int) -> None:
        """Hide run i (from 0), or show it again; every run is drawn again, none alone."""
        if i < len(self.runs):
            self.hidden ^= {i}
            self.focused_run = None
            self.redraw()

    def action_focus_run(self) -> None:
        """Each run alone in turn, then every run again."""
        if self.focused_run is None:
            self.focused_run = 0
        else:
            self.focused_run = self.focused_run + 1 if self.focused_run + 1 < len(self.runs) else None
        self.redraw()
