"""What feeds a run's dashboard: a live source (a worker thread trains and posts one message per event) or a
folder source (a run folder read once, or followed as it grows for `labtui --watch`).

A screen picks its source; the dashboard (tui/widgets/dashboard.py) draws whatever it is told and never asks
where it came from. Batch events are throttled here, in `Throttle`, and nowhere else in labtui.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path

from lab_workbench.engine.core.errors import LabError

from .control import RunControl
from .headless import block_main_thread_signals
from .messages import TrainingFailed, message_for

WATCH_INTERVAL = 1.0  # seconds between two looks at a followed run folder
PROGRESS_HZ = 1  # progress messages a second at most: each one wakes the UI thread


class Throttle:
    """Lets progress events (a batch within its epoch, a counted phase's progress) through at most `hz` times a
    second; each wakes the UI thread, which takes a core from the training's OpenMP threads for a moment. The
    last batch of an epoch, the start of a phase and every other event always pass."""

    def __init__(self, hz: float = PROGRESS_HZ, clock=time.monotonic) -> None:
        self.period = 1 / hz
        self.clock = clock
        self.last = float("-inf")

    def passes(self, event) -> bool:
        """Whether `event` goes to the UI now."""
        name = type(event).__name__
        progress = ((name == "BatchEnded" and event.step != event.steps)
                    or (name == "PhaseChanged" and 0 < event.done < event.total))
        if not progress:
            return True
        now = self.clock()
        if now - self.last < self.period:
            return False
        self.last = now
        return True


class LiveSource:
    """A run trained here: `trainer(config, on_event, should_stop)` on a worker thread; cancel and pause work."""

    controllable = True

    def __init__(self, config, trainer, clock=time.monotonic) -> None:
        self.config = config
        self.trainer = trainer
        self.clock = clock
        self.control = RunControl(clock)
        self.throttle = Throttle()
        self.active = False  # training or loading: cancel and pause apply, leaving asks first
        self.started = False  # the run has its folder (RunStarted came): a cancel now has something to save
        self.finished = threading.Event()  # the trainer returned or failed: its files are complete
        self.status: str | None = None  # the run's final status ('failed' when the trainer raised)
        self.run_dir: str | None = None  # its folder, once RunStarted said it
        self.title = f"{config.source} / {config.model}"

    def start(self, dashboard) -> None:
        """Show the form's config and start training on a worker thread that posts to `dashboard`."""
        self.active = True
        dashboard.begin_live(self.config, self.control)
        dashboard.run_worker(partial(self._train, dashboard), thread=True, exclusive=True, group="training")

    def _train(self, dashboard) -> None:
        block_main_thread_signals()  # this thread's and the engine's: a hangup must reach the main thread
        self.status = "failed"  # unless the trainer returns
        try:
            history = self.trainer(self.config, on_event=partial(self._forward, dashboard),
                                   should_stop=self.control.should_stop)
            self.status = getattr(history, "status", None) or "completed"
        except LabError as e:
            dashboard.post_message(TrainingFailed(str(e)))
        except Exception as e:  # a bug or out-of-memory: show it rather than die with the thread
            dashboard.post_message(TrainingFailed(f"{type(e).__name__}: {e}"))
        finally:
            self.active = False
            self.finished.set()

    def _forward(self, dashboard, event) -> None:
        """On the training thread: one message per event, progress throttled."""
        name = type(event).__name__
        if name == "RunStarted":
            self.started, self.run_dir = True, event.run_dir
        elif name == "RunEnded":
            self.active = False
        if self.throttle.passes(event):
            message = message_for(event)
            if message is not None:
                dashboard.post_message(message)

    def cancel(self, reason: str = "interrupted") -> None:
        """Stop at the next batch; the run saves last.pt and ends with status `reason` (resumable)."""
        self.control.cancel(reason)

    def toggle_pause(self) -> None:
        self.control.toggle_pause()


class FolderSource:
    """A run folder: read once (a past run), or followed every WATCH_INTERVAL seconds (a run another process
    trains): the files it gained, its heartbeat (progress.json), and so its phase and whether it died."""

    controllable = False
    active = False
    started = True

    def __init__(self, run_dir: str | Path, follow: bool) -> None:
        self.run_dir = Path(run_dir)
        self.follow = follow
        self.clock = time.time  # progress.json's times are wall-clock times
        self.title = f"{'watching' if follow else 'run'} {self.run_dir}"
        self._stamp = None
        self._metrics = None
        self._info = None
        self._timer = None

    def start(self, dashboard) -> None:
        """Draw what the folder holds now and, when following, keep looking."""
        dashboard.begin_folder(self.run_dir, self.follow)
        self.read(dashboard)
        if self.follow:
            self._timer = dashboard.set_interval(WATCH_INTERVAL, partial(self.read, dashboard))

    def read(self, dashboard) -> None:
        """Re-read the files that changed since the last look; a followed run is re-checked even when none did
        (a writer that died changes nothing)."""
        from lab_workbench.engine.runs import MAX_ROWS, MetricsReader, RunFolder, read_run
        run = RunFolder(self.run_dir)
        if self._info is not None and not self.run_dir.is_dir():
            # deleted or moved while watched: keep what is drawn (read_run would say "dead", with no rows)
            if self._timer is not None:
                self._timer.stop()
            dashboard.show_gone()
            return
        stamp = tuple(_stamp(p) for p in run.data_files)
        if stamp != self._stamp or self._info is None:
            self._stamp = stamp
            if self._metrics is None:
                self._metrics = MetricsReader(run.metrics, MAX_ROWS)
            self._info = read_run(self.run_dir, MAX_ROWS, rows=self._metrics.read())
            dashboard.show_folder(self._info, _read_boundary(run.boundary))
        if self.follow:
            dashboard.show_heartbeat(self._info)
        dashboard.refresh_status()

    def forget(self) -> None:
        """Read every file again at the next look, changed or not."""
        self._stamp = None


def _read_boundary(path: Path):
    """boundary.json; None when there is none, or a marker the view shows as unreadable (hostile folders)."""
    from lab_workbench.engine.core.files import read_json
    try:
        if not path.exists():
            return None
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
