"""One run's dashboard: the status line, the progress bar and the tabs (epochs, curves, confusion, boundary,
config). It draws what its source tells it (tui/sources.py): a live run's messages, one handler per event,
or what a run folder holds; it never asks which kind of source it has."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ProgressBar, Static, TabbedContent, TabPane

from lab_workbench.engine.runs import number
from lab_workbench.engine.core.units import percent

from .. import messages as m
from ..phase import BUSY, LOADING, TESTING, VALIDATING, Pace, Rate, folder_phase, next_phase
from .boundary_view import BoundaryView
from .config_panel import ConfigPanel
from .confusion_view import ConfusionView
from .curve_plot import CurvePlot
from .epoch_table import EpochTable
from .status_line import StatusLine

MAX_BATCHES = 2000  # batch-loss points kept for the chart (about half an hour at one a second)
RUNNING = ("starting", "running")


class Dashboard(Vertical):
    """The views of one run. `state` is the run's status ('starting', 'running', 'completed', 'dead', ...);
    `phase` what a running run does now ('training', 'validating', ...)."""

    def __init__(self, clock, **kw) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.state, self.phase, self.past = "starting", LOADING, False
        self.run_dir: Path | None = None
        self.control = None  # a live run's RunControl: pause state and paused time
        self.batch_size = 0
        self.facts: dict = {}
        self.rows: list[dict] = []
        self.batches: list[tuple[float, float]] = []  # (fractional epoch, batch loss) for the batch-loss chart
        self.device, self.params, self.epochs = "-", 0, 0
        self.since: float | None = None  # when the clock of a running run started (None: sum of epoch times)
        self.elapsed: float | None = None  # the clock's last reading while running: it stops there at the end
        self.batch_loss = None
        self.pace = Pace()  # the epoch in progress and the time a batch takes: the epoch counter and the ETA
        self.rate = Rate()
        self._ticker = None
        self._last_progress = float("-inf")
        self._curves_stale = False

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield ProgressBar(id="progress", show_eta=False)
        with TabbedContent(initial="epochs", id="tabs"):
            with TabPane("1 Epochs", id="epochs"):
                yield EpochTable(id="table")
            with TabPane("2 Curves", id="curves"):
                yield CurvePlot("loss", "loss", id="loss-plot")
                yield CurvePlot("acc", "accuracy", id="acc-plot")
            with TabPane("3 Confusion", id="confusion"):
                with VerticalScroll(id="confusion-scroll"):  # many classes: more rows than the screen
                    yield ConfusionView("no confusion matrix yet", id="confusion-view")
            with TabPane("4 Boundary", id="boundary"):
                yield BoundaryView("", id="boundary-view")
            with TabPane("5 Config", id="config"):
                with VerticalScroll(id="config-scroll"):  # ~50 settings: arrows, page keys and the wheel move it
                    yield ConfigPanel("", id="config-view")
        yield Static("", id="run-message")

    def on_mount(self) -> None:
        self.query_one(TabbedContent).hide_tab("boundary")  # shown once a run turns out to be on 2-D points

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    # ---- what a source says at its start ----
    def begin_live(self, config, control) -> None:
        """A run about to train here: its form's config; the clock ticks while data loads and while paused."""
        self.control, self.batch_size, self.since = control, config.batch_size or 0, self.clock()
        self.query_one(ConfigPanel).show(config.to_dict())
        self._ticker = self.set_interval(1.0, self._tick)  # during training the batches repaint it
        self.refresh_status()

    def begin_folder(self, run_dir: Path, follow: bool) -> None:
        """A run folder: followed (the bar shows the epoch's batches) or a past run (no bar)."""
        self.run_dir, self.past, self.phase = run_dir, not follow, ""
        self.state = "watching" if follow else "past run"  # until the folder is read: no change to announce
        self.query_one("#progress").display = follow

    # ---- a live run's messages, one handler per event ----
    def on_run_started_message(self, message: m.RunStartedMessage) -> None:
        e = message.event
        self._track_phase(e)
        self.run_dir, self.facts, self.state = Path(e.run_dir), e.dataset, "running"
        self.device, self.params, self.epochs = e.device, e.n_params, e.config["epochs"]
        self.batch_size = e.config.get("batch_size") or self.batch_size
        self.pace.move(e.start_epoch, e.start_step, 0, self._active())
        if e.rows:  # a resumed or extended run: its whole history, not only the epochs trained from here
            self.rows = [dict(r) for r in e.rows]
            self.query_one(EpochTable).set_rows(self.rows)
            self.update_curves()
        self.query_one(ConfigPanel).show(e.config, {"precision": e.precision, "threads": e.threads,
                                                    "run folder": e.run_dir})
        self.screen.sub_title = f"{e.run_dir}"
        self.refresh_status()

    def on_batch_ended_message(self, message: m.BatchEndedMessage) -> None:
        e = message.event
        self._track_phase(e)
        self.rate.update(e.epoch, e.step, self.batch_size, self.clock())
        self.pace.move(e.epoch, e.step, e.steps, self._active())
        self.batches = self.batches[-MAX_BATCHES + 1:] + [(e.epoch - 1 + e.step / max(e.steps, 1), e.loss)]
        self.batch_loss, self._last_progress = e.loss, self.clock()
        self.query_one("#progress", ProgressBar).update(total=e.steps, progress=e.step)
        self.refresh_status()  # the clock and the batch loss, in the same repaint as the bar

    def on_phase_changed_message(self, message: m.PhaseChangedMessage) -> None:
        e = message.event
        self._track_phase(e)
        if e.total > 0:  # validation and the test split count their samples: the bar follows them
            self.query_one("#progress", ProgressBar).update(total=e.total, progress=min(e.done, e.total))
        self.refresh_status()

    def on_checkpoint_ready_message(self, message: m.CheckpointReadyMessage) -> None:
        self._track_phase(message)
        self.refresh_status()

    def on_epoch_ended_message(self, message: m.EpochEndedMessage) -> None:
        e = message.event
        self._track_phase(e)
        row = e.row()
        self.rows.append(row)
        self.query_one(EpochTable).add_row_dict(row, best=e.best)
        self.update_curves()
        self.query_one(ConfusionView).show(e.confusion, self.facts.get("classes", []), f"validation, epoch {e.epoch}")
        self.refresh_status()

    def on_boundary_ready_message(self, message: m.BoundaryReadyMessage) -> None:
        self.show_boundary(message.event.grid)

    def on_run_ended_message(self, message: m.RunEndedMessage) -> None:
        e = message.event
        self._track_phase(e)
        self.query_one("#progress", ProgressBar).update(total=1, progress=1)
        self.state = e.status
        test = f"  test acc {percent(e.test.get('accuracy'))}" if e.test else ""
        where = f"  ->  {e.history.run_dir}" if e.history.run_dir else "  while loading: nothing to save"
        self._say(Text.assemble((e.status, "bold"), f"{test}{where}"))

    def on_training_failed(self, message: m.TrainingFailed) -> None:
        self.state = "failed"
        self._say(Text.assemble(("error:", "bold red"), f" {message.error}"))

    def _track_phase(self, event) -> None:
        """The phase from the events; the clock ticks by itself while no batches arrive."""
        self.phase = next_phase(event, self.phase)
        self.sync_ticker()

    def sync_ticker(self) -> None:
        """Tick while nothing else repaints the status line: between batches, or paused."""
        if self._ticker is not None:
            paused = self.control is not None and self.control.paused
            self._ticker.resume() if self.running and (paused or self.phase in BUSY) else self._ticker.pause()

    def _say(self, text: Text) -> None:
        """The run's last word, under the tabs; the screen's keys change with it (no cancel after the end)."""
        self.query_one("#run-message", Static).update(text)
        self.sync_ticker()
        self.screen.refresh_bindings()
        self.refresh_status()

    # ---- what a run folder says ----
    def show_folder(self, info, boundary) -> None:
        """Everything a run folder holds now (a RunInfo read by the folder source)."""
        self.facts, self.epochs, self.device, self.params = info.data, info.epochs, info.device, info.params
        from lab_workbench.engine.runs import RunFolder
        config = RunFolder(info.path).config
        self.query_one(ConfigPanel).show(info.config, missing=f"{config.name} is unreadable: damaged, or not lab's"
                                         if config.exists() else None)
        if self.past:
            self.state = info.status
        if info.rows != self.rows:
            self.rows = info.rows
            self.query_one(EpochTable).set_rows(self.rows)
            self.update_curves()
        if info.confusion:
            c = info.confusion
            self.query_one(ConfusionView).show(c.get("matrix"), c.get("classes"),
                                               f"{str(c.get('split', 'val'))[:10]}, epoch {str(c.get('epoch'))[:10]}")
        if boundary is not None:
            self.show_boundary(boundary)
        if info.result and info.status != "running":
            test = info.test_acc
            self._say(Text.assemble((info.status, "bold"), f"  test acc {percent(test)}" if test is not None else ""))

    def show_heartbeat(self, info) -> None:
        """A followed run: live, finished or dead (pid and heartbeat of progress.json), its phase, the batch
        within the epoch and its loss; a change of state is said once."""
        status = info.status
        if self.state == "running" and status != "running":
            self.notify(f"the run is {status}", severity="warning" if status == "dead" else "information")
            if status == "dead":
                self._say(Text.assemble(("dead:", "bold red"), " its process is gone without a word; "
                                        f"`lab train --resume {self.run_dir}` (or r in the runs browser) "
                                        "continues it"))
        self.state = status
        p = info.progress if isinstance(info.progress, dict) else {}
        self.phase = folder_phase(p, self.rows, self.epochs) if status == "running" else ""
        started = number(p.get("started"), 0, self.clock())
        self.since = started if status == "running" else None
        bar = self.query_one("#progress", ProgressBar)
        if status == "running":  # the bar shows the epoch's batches until the run ends, never the run's
            epoch = int(number(p.get("epoch"), 0, 1e9, 0))
            done = int(number(self.rows[-1].get("epoch"), 0, 1e9, 0)) if self.rows else 0
            self.pace.move(epoch, int(number(p.get("step"), 0, 1e12, 0)), int(number(p.get("steps"), 1, 1e12, 0)),
                           self.clock(), done)
            self.batch_loss = number(p.get("loss"))
            if self.pace.steps:
                full = self.phase in (VALIDATING, TESTING)
                bar.update(total=self.pace.steps, progress=self.pace.steps if full else self.pace.step)
        elif self.epochs:
            bar.update(total=self.epochs, progress=min(len(self.rows), self.epochs))

    def show_gone(self) -> None:
        """The followed folder was deleted or moved: what was read stays on screen, the watch stops."""
        self.state, self.phase, self.since = "gone", "", None
        self.notify("the run folder is gone", severity="warning")
        self._say(Text.assemble(("gone:", "bold red"), f" {self.run_dir} was deleted or moved; no longer watched"))

    # ---- both ----
    def show_boundary(self, grid) -> None:
        self.query_one(TabbedContent).show_tab("boundary")
        self.query_one(BoundaryView).show(grid)

    def update_curves(self) -> None:
        """Redraw the charts, only while they show: plotext draws in Python and holds the GIL that the
        training thread needs."""
        if self.query_one(TabbedContent).active != "curves":
            self._curves_stale = True
            return
        self._curves_stale = False
        for plot in self.query(CurvePlot):
            plot.set_rows(self.rows, batches=self.batches)

    def stale_curves(self) -> None:
        """The charts must be redrawn (another metric, log scale...) when next shown."""
        self._curves_stale = True
        self.update_curves()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "curves" and self._curves_stale:
            self.update_curves()

    def _tick(self) -> None:
        # batches repaint the status line themselves; this covers the seconds without any (loading, pause)
        if self.clock() - self._last_progress >= 1.0:
            self.refresh_status()

    def refresh_status(self) -> None:
        """Repaint the status line from the fields above."""
        running = self.running
        paused = running and self.control is not None and self.control.paused
        word = ("paused" if paused else self.phase or self.state) if running else self.state
        if self.past:
            word = f"{self.state} (past run)"
        if running and self.since is not None:  # wall-clock time, pauses included: it never goes back
            self.elapsed = max(self.clock() - self.since, self.elapsed or 0.0)
        elapsed = self.elapsed if self.elapsed is not None else sum(number(r.get("seconds"), 0, 1e9, 0)
                                                                    for r in self.rows)
        loss = f"batch loss {self.batch_loss:.4f}" if running and isinstance(self.batch_loss, float) else ""
        rate = self.rate.per_second if running and self.phase == "training" else None
        done = number(self.rows[-1].get("epoch"), 0, 1e9, 0) if self.rows else 0
        epoch = max(self.pace.epoch, done) if running else done  # the epoch in progress, as `lab train` counts
        eta = self.pace.eta(self.epochs, self.rows) if running and self.phase != TESTING else None
        self.query_one(StatusLine).set_status(word, self.device, self.params, int(epoch), self.epochs, elapsed,
                                              eta, loss, rate)

    def _active(self) -> float:
        """The clock less the time spent paused: what the pace of a run is measured in."""
        return self.clock() - (self.control.paused_seconds if self.control else 0.0)
