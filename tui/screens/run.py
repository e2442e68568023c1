"""The run screen: a dashboard and its source, a live run (`RunScreen.live`), a run folder followed as it
grows (`RunScreen.watch`) or a past run (`RunScreen.view`). The keys act on the source; the dashboard draws."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent

from ..phase import CANCELLING
from ..sources import FolderSource, LiveSource
from ..widgets.curve_plot import CHOICES, CurveKeys, CurvePlot
from ..widgets.dashboard import Dashboard


class RunScreen(CurveKeys, Screen):
    BINDINGS = [
        Binding("c", "cancel", "Stop run"),
        Binding("p", "pause", "Pause/resume"),
        Binding("1", "tab('epochs')", "Epochs", show=False),
        Binding("2", "tab('curves')", "Curves", show=False),
        Binding("3", "tab('confusion')", "Confusion", show=False),
        Binding("4", "tab('boundary')", "Boundary", show=False),
        Binding("5", "tab('config')", "Config", show=False),
        Binding("l", "log_y", "Log y", show=False),  # the footer keeps q and ? at 80 columns; ? lists these
        Binding("s", "smooth", "Smooth", show=False),
        Binding("v", "metric", "Metric", show=False),  # the second chart: accuracy, learning rate, batch loss
        Binding("b", "app.show_runs", "Runs"),  # browse and compare while this run trains; esc there comes back
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, source: LiveSource | FolderSource) -> None:
        super().__init__()
        self.source = source

    @classmethod
    def live(cls, config, trainer, clock) -> "RunScreen":
        """Train `config` here with `trainer` (engine.train or a test's stand-in)."""
        return cls(LiveSource(config, trainer, clock))

    @classmethod
    def watch(cls, run_dir: str | Path) -> "RunScreen":
        """Follow a run folder that another process writes."""
        return cls(FolderSource(run_dir, follow=True))

    @classmethod
    def view(cls, run_dir: str | Path) -> "RunScreen":
        """A past run, read once."""
        return cls(FolderSource(run_dir, follow=False))

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Dashboard(self.source.clock, id="dashboard")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lab"
        self.sub_title = self.source.title
        self.source.start(self.dashboard)

    @property
    def dashboard(self) -> Dashboard:
        return self.query_one(Dashboard)

    # what the app and tests read: the run's status, folder and rows as the dashboard shows them
    @property
    def state(self) -> str:
        return self.dashboard.state

    @property
    def run_dir(self) -> Path | None:
        return self.dashboard.run_dir

    @property
    def rows(self) -> list[dict]:
        return self.dashboard.rows

    @property
    def active(self) -> bool:
        """Training or loading here: leaving asks first, cancel and pause work."""
        return self.source.active

    def stop(self, reason: str = "interrupted") -> None:
        """Stop a live run at its batch (c, the app's quit, a signal); its status becomes `reason`, resumable."""
        if self.source.controllable and self.source.active:
            self.source.cancel(reason)
            self.dashboard.phase = CANCELLING
            self.dashboard.sync_ticker()
            self.dashboard.refresh_status()
            self.refresh_bindings()  # c and p do nothing more

    def action_cancel(self) -> None:
        if self.source.controllable and self.source.active:
            self.stop()
        else:
            self.notify("no active run to cancel")

    def action_pause(self) -> None:
        if self.source.controllable and self.source.active:
            self.source.toggle_pause()
            self.dashboard.sync_ticker()
            self.dashboard.refresh_status()

    def action_metric(self) -> None:
        """The second chart cycles through accuracy, learning rate and batch loss."""
        plot = self.query_one("#acc-plot", CurvePlot)
        names = list(CHOICES)
        plot.set_metric(names[(names.index(plot.metric) + 1) % len(names)] if plot.metric in names else "acc")
        self.query_one(TabbedContent).active = "curves"
        self.dashboard.stale_curves()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab in ("config", "confusion"):  # the keys scroll it at once
            self.query_one(f"#{tab}-scroll").focus()

    def action_back(self) -> None:
        if self.active:
            self.notify("a run is active: cancel it (c) before leaving, or b browses runs while it trains")
            return
        if len(self.app.screen_stack) <= 2:  # opened directly (labtui --watch): nothing to go back to
            self.app.exit()
            return
        self.app.pop_screen()

    def check_action(self, action: str, parameters) -> bool | None:
        """Cancel and pause only where they work: on a live run that is still going."""
        if action in ("cancel", "pause"):
            return self.source.controllable and self.source.active and not self.source.control.cancelled
        return True
