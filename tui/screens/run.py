"""The run dashboard: live (a worker thread trains), watch (a metrics.csv that grows) or view (a past run)."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static, TabbedContent, TabPane

from engine.errors import LabError
from engine.training.events import BatchEnded, BoundaryReady, EpochEnded, RunEnded, RunStarted
from engine.runs import MAX_ROWS, MetricsReader, RunFolder, number, read_run

from ..control import RunControl
from ..phase import BUSY, CANCELLING, LOADING, Rate, next_phase
from ..messages import TrainingEvent, TrainingFailed
from ..widgets.boundary_view import BoundaryView
from ..widgets.config_panel import ConfigPanel
from ..widgets.confusion_view import ConfusionView
from ..widgets.curve_plot import CHOICES, CurveKeys, CurvePlot
from ..widgets.epoch_table import EpochTable
from ..widgets.status_line import StatusLine

WATCH_INTERVAL = 1.0
MAX_BATCHES = 2000  # batch-loss points kept for the chart (about half an hour at one a second)
PROGRESS_HZ = 1


class RunScreen(CurveKeys, Screen):
    BINDINGS = [
        Binding("c", "cancel", "Cancel run"),
        Binding("p", "pause", "Pause/resume"),
        Binding("1", "tab('epochs')", "Epochs", show=False),
        Binding("2", "tab('curves')", "Curves", show=False),
        Binding("3", "tab('confusion')", "Confusion", show=False),
        Binding("4", "tab('boundary')", "Boundary", show=False),
        Binding("5", "tab('config')", "Config", show=False),
        Binding("l", "log_y", "Log y"),
        Binding("s", "smooth", "Smooth"),
        Binding("v", "metric", "Metric", show=False),  # the second chart: accuracy, learning rate, batch loss
        Binding("b", "app.show_runs", "Runs"),  # browse and compare while this run trains; esc there comes back
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, mode: str, config=None, run_dir: str | Path | None = None, trainer=None, clock=None) -> None:
        super().__init__()
        self.mode = mode  # 'live', 'watch' or 'view'
        self.config = config
        self.run_dir = Path(run_dir) if run_dir else None
        self.trainer = trainer
        self.clock = clock
        self.control = RunControl(clock) if clock else RunControl()
        self.active = False
        self.state = "starting" if mode == "live" else mode
        self.facts: dict = {}
        self.rows: list[dict] = []
        self.device, self.params, self.epochs, self.started = "-", 0, 0, None
        self.opened = 0.0
        self._curves_stale = False
        self._last_forward = float("-inf")
        self.metrics = None  # a MetricsReader: watch mode parses only what metrics.csv gained since
        self._watch_stamp = None
        self.info = None
        self.batch_loss = None
        self._last_progress = float("-inf")
        self.phase = LOADING if mode == "live" else ""
        self.rate = Rate()
        self.step = (0, 0)  # (step, steps) within the current epoch, for the ETA before an epoch has ended
        self.batches: list[tuple[float, float]] = []  # (fractional epoch, batch loss) for the batch-loss chart

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield StatusLine(id="status")
        yield ProgressBar(id="progress", show_eta=False)
        with TabbedContent(initial="epochs", id="tabs"):
            with TabPane("1 Epochs", id="epochs"):
                yield EpochTable(id="table")
            with TabPane("2 Curves", id="curves"):
                yield CurvePlot("loss", "loss", id="loss-plot")
                yield CurvePlot("acc", "accuracy", id="acc-plot")
            with TabPane("3 Confusion", id="confusion"):
                yield ConfusionView("no confusion matrix yet", id="confusion-view")
            with TabPane("4 Boundary", id="boundary"):
                yield BoundaryView("", id="boundary-view")
            with TabPane("5 Config", id="config"):
                yield ConfigPanel("", id="config-view")
        yield Static("", id="run-message")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lab"
        self.query_one(TabbedContent).hide_tab("boundary")  # shown once a run turns out to be on 2-D points
        if self.mode == "live":
            self.sub_title = f"{self.config.source} / {self.config.model}"
            self.query_one(ConfigPanel).show(self.config.to_dict())
            self.active = True
            self.opened = self.clock()
            # the clock ticks while data loads and while paused; during training the batches repaint it
            self._ticker = self.set_interval(1.0, self._tick)
            self.train_worker()
        else:
            self.sub_title = f"{'watching' if self.mode == 'watch' else 'run'} {self.run_dir}"
            self.query_one("#progress").display = self.mode == "watch"
            self.load_files()
            if self.mode == "watch":
                self.set_interval(WATCH_INTERVAL, self.load_files)
        self.refresh_status()

    # ---- live mode: the engine runs in a thread and posts its events here ----
    @work(thread=True, exclusive=True, group="training")
    def train_worker(self) -> None:
        try:
            self.trainer(self.config, on_event=self._forward, should_stop=self.control.should_stop)
        except LabError as e:
            self.post_message(TrainingFailed(str(e)))
        except Exception as e:  # a bug or out-of-memory: show it rather than die with the thread
            self.post_message(TrainingFailed(f"{type(e).__name__}: {e}"))

    def _forward(self, event) -> None:
        """On the training thread: post events to the UI, batch events at most PROGRESS_HZ a second (each
        message wakes the UI thread, which takes a core from the training's OpenMP threads for a moment)."""
        if isinstance(event, BatchEnded) and event.step != event.steps:
            now = time.monotonic()
            if now - self._last_forward < 1 / PROGRESS_HZ:
                return
            self._last_forward = now
        self.post_message(TrainingEvent(event))

    def _track_phase(self, e) -> None:
        """The phase and the sample rate: the clock ticks by itself while no batches arrive."""
        self.phase = next_phase(e, self.phase)
        if isinstance(e, BatchEnded):
            batch = (self.config.batch_size if self.config else 0) or 0
            self.rate.update(e.epoch, e.step, batch, self.clock())
            self.step = (e.step, e.steps)
            self.batches = self.batches[-MAX_BATCHES + 1:] + [(e.epoch - 1 + e.step / max(e.steps, 1), e.loss)]
        if self.active and getattr(self, "_ticker", None) is not None:
            self._ticker.resume() if self.phase in BUSY else self._ticker.pause()

    def on_training_event(self, message: TrainingEvent) -> None:
        e = message.event
        self._track_phase(e)
        if isinstance(e, RunStarted):
            self.run_dir, self.facts = Path(e.run_dir), e.dataset
            self.device, self.params, self.epochs = e.device, e.n_params, e.config["epochs"]
            self.started = self.clock()
            self.state = "running"
            self.query_one(ConfigPanel).show(e.config, {"precision": e.precision, "threads": e.threads,
                                                        "run folder": e.run_dir})
            self.sub_title = f"{e.run_dir}"
        elif isinstance(e, BatchEnded):
            # _forward lets these through at most PROGRESS_HZ times a second: only the bar and the status move
            self.batch_loss, self._last_progress = e.loss, self.clock()
            self.query_one("#progress", ProgressBar).update(total=e.steps, progress=e.step)
            self.refresh_status()  # the clock and the batch loss, in the same repaint as the bar
            return
        elif isinstance(e, EpochEnded):
            row = e.row()
            self.rows.append(row)
            self.query_one(EpochTable).add_row_dict(row, best=e.best)
            self.update_curves()
            self.query_one(ConfusionView).show(e.confusion, self.facts.get("classes", []),
                                               f"validation, epoch {e.epoch}")
        elif isinstance(e, BoundaryReady):
            self.show_boundary(e.grid)
        elif isinstance(e, RunEnded):
            self.query_one("#progress", ProgressBar).update(total=1, progress=1)
            self.active = False
            self.refresh_bindings()
            self.state = e.status
            test = f"  test acc {100 * e.test['accuracy']:.2f}%" if e.test else ""
            self.query_one("#run-message", Static).update(Text.assemble((e.status, "bold"), f"{test}  ->  {e.history.run_dir}"))
        self.refresh_status()

    def on_training_failed(self, message: TrainingFailed) -> None:
        self.active = False
        self.refresh_bindings()
        self.state = "failed"
        self.query_one("#run-message", Static).update(Text.assemble(("error:", "bold red"), f" {message.error}"))
        self.refresh_status()

    # ---- watch and view modes read the run folder ----
    def load_files(self) -> None:
        stamp = tuple(_stamp(p) for p in RunFolder(self.run_dir).data_files)
        if stamp != self._watch_stamp:
            self._watch_stamp = stamp
            self._read_files()
        if self.mode == "watch":
            self._watch_tick()  # on every tick: a dead writer shows even when no file changes
        self.refresh_status()

    def _read_files(self) -> None:
        if self.metrics is None:
            self.metrics = MetricsReader(RunFolder(self.run_dir).metrics, MAX_ROWS)
        info = self.info = read_run(self.run_dir, MAX_ROWS, rows=self.metrics.read())
        self.facts, self.epochs = info.data, info.epochs
        self.device, self.params = info.device, info.params
        self.query_one(ConfigPanel).show(info.config)
        if self.mode != "watch":  # watch mode: _watch_tick sets the state, and notices when it changes
            self.state = f"{info.status} (past run)"
        if info.rows != self.rows:
            self.rows = info.rows
            self.query_one(EpochTable).set_rows(self.rows)
            self.update_curves()
        if info.confusion:
            c = info.confusion
            self.query_one(ConfusionView).show(c.get("matrix"), c.get("classes"),
                                               f"{str(c.get('split', 'val'))[:10]}, epoch {str(c.get('epoch'))[:10]}")
        if RunFolder(self.run_dir).boundary.exists():
            self.show_boundary(_read_boundary(RunFolder(self.run_dir).boundary))
        if info.result and info.status != "running":
            test = info.test_acc
            self.query_one("#run-message", Static).update(
                Text.assemble((info.status, "bold"), f"  test acc {100 * test:.2f}%" if test is not None else ""))

    def _watch_tick(self) -> None:
        """Live, finished or dead (pid and heartbeat of progress.json), the batch within the epoch, the loss."""
        state = self.info.status
        if self.state == "running" and state != "running":
            self.notify(f"the run is {state}", severity="warning" if state == "dead" else "information")
            if state == "dead":
                self.query_one("#run-message", Static).update(Text.assemble(
                    ("dead:", "bold red"), " its process is gone without a word; `lab train --resume RUN` continues it"))
        self.state = state
        p = self.info.progress or {}
        bar = self.query_one("#progress", ProgressBar)
        steps = number(p.get("steps"), 1, 1e9)
        if state == "running" and steps:
            bar.update(total=steps, progress=number(p.get("step"), 0, steps, 0))
            self.batch_loss = number(p.get("loss"))
        elif self.epochs:
            bar.update(total=self.epochs, progress=len(self.rows))

    # ---- shared ----
    def show_boundary(self, grid) -> None:
        self.query_one(TabbedContent).show_tab("boundary")
        self.query_one(BoundaryView).show(grid)

    def update_curves(self) -> None:
        # plotext redraws in Python and holds the GIL the training thread needs: only while the curves show
        if self.query_one(TabbedContent).active != "curves":
            self._curves_stale = True
            return
        self._curves_stale = False
        self._last_forward = float("-inf")
        for plot in self.query(CurvePlot):
            plot.set_rows(self.rows, batches=self.batches)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "curves" and self._curves_stale:
            self.update_curves()

    def _tick(self) -> None:
        # batches repaint the status line themselves; this covers the seconds without any (loading, pause)
        if self.clock() - self._last_progress >= 1.0:
            self.refresh_status()

    def refresh_status(self) -> None:
        elapsed = sum(r["seconds"] for r in self.rows)
        running = self.state in ("running", "starting", "cancelling") or (self.mode == "live" and self.active)
        if self.mode == "live" and self.started is not None and running:
            elapsed = self.clock() - self.started - self.control.paused_seconds
        elif self.mode == "live" and self.state == "starting":
            elapsed = self.clock() - self.opened
        elif self.mode == "watch" and running and self.info is not None:
            started = number((self.info.progress or {}).get("started"), 0, time.time())
            elapsed = time.time() - started if started is not None else elapsed  # a ticking clock
        eta = self._eta() if running else None  # no ETA for a run that has ended
        state = self.state
        if self.mode == "live" and self.active:
            state = "paused" if self.control.paused else self.phase
        loss = f"batch loss {self.batch_loss:.4f}" if running and isinstance(self.batch_loss, float) else ""
        rate = self.rate.per_second if self.mode == "live" and self.phase == "training" else None
        self.query_one(StatusLine).set_status(state, self.device, self.params,
                                              self.rows[-1]["epoch"] if self.rows else 0, self.epochs, elapsed, eta,
                                              loss, rate)

    def _eta(self) -> float | None:
        """Time left: the mean epoch so far times the epochs left; before the first epoch ends, from the rate."""
        if not self.epochs:
            return None
        if self.rows:
            per_epoch = sum(r["seconds"] for r in self.rows) / len(self.rows)
            return per_epoch * max(self.epochs - self.rows[-1]["epoch"], 0)
        step, steps = self.step
        batch = (self.config.batch_size if self.config else 0) or 0
        if self.rate.per_second and steps and batch:
            return (steps * self.epochs - step) * batch / self.rate.per_second
        return None

    def action_cancel(self) -> None:
        if self.mode == "live" and self.active:
            self.control.cancel()
            self.phase = CANCELLING
            self.refresh_status()
        else:
            self.notify("no active run to cancel")

    def action_pause(self) -> None:
        if self.mode == "live" and self.active:
            self.control.toggle_pause()
            self._ticker.resume() if self.control.paused or self.phase in BUSY else self._ticker.pause()
            self.refresh_status()

    def action_metric(self) -> None:
        """The second chart cycles through accuracy, learning rate and batch loss."""
        plot = self.query_one("#acc-plot", CurvePlot)
        names = list(CHOICES)
        plot.set_metric(names[(names.index(plot.metric) + 1) % len(names)] if plot.metric in names else "acc")
        self.query_one(TabbedContent).active = "curves"
        self._curves_stale = True
        self.update_curves()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

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
            return self.mode == "live" and self.active
        return True


def _read_boundary(path: Path):
    """boundary.json, or a marker the view shows as unreadable (never an exception: hostile folders)."""
    from engine.errors import LabError
    from engine.files import read_json
    try:
        if path.stat().st_size > 5_000_000:
            return {"unreadable": True}
        return read_json(path)
    except (LabError, OSError):
        return {"unreadable": True}


def _stamp(path: Path):
    try:
        st = path.stat()
        return st.st_mtime_ns, st.st_size
    except OSError:
        return None
