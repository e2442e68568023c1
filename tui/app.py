"""labtui: the Textual dashboard. `make_app` builds it; tests pass a tiny trainer and a fixed clock."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from textual.app import App, SystemCommand
from textual.binding import Binding

from lab_workbench.engine.settings.config import TrainConfig

from .headless import Headless
from .screens.confirm import ConfirmScreen
from .screens.help import HelpScreen, screen_keys
from .screens.new_run import NewRunScreen

# The run dashboard and the runs browser (numpy, plotext, the curve and boundary widgets) are imported when
# first shown: the first paint is the form's, and it needs none of them (bench/tui_startup.py).


def _run_screens():
    from .screens.run import RunScreen
    return RunScreen


def _runs_screen(runs_dir):
    from .screens.runs import RunsScreen
    return RunsScreen(runs_dir)

QUIT_WAIT = 30.0  # seconds at most to let a stopped run write last.pt and results.json (it takes about one)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
LOAD_GRACE = 2.0  # seconds a run that is still loading its data gets to start (then it has nothing to save)
FORCE_EXIT = 5.0  # seconds Textual's shutdown may take before the process ends anyway (a dead terminal)


class LabApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "lab"
    BINDINGS = [Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
                Binding("question_mark", "help", "Help", key_display="?")]

    def __init__(self, initial: TrainConfig, trainer: Callable, clock: Callable[[], float] = time.monotonic,
                 start: str = "form", watch: str | Path | None = None, ansi: bool = False) -> None:
        super().__init__(driver_class=_driver_class())
        self.abandoned = False  # left a run that was still loading: its thread must not outlive the app
        self._leaving = False  # a signal, Ctrl-C or the end of input: the app is on its way out
        self.ansi = ansi  # a 16-colour terminal: the terminal's own palette, not truecolor squeezed into it
        self.initial = initial
        self.trainer = trainer
        self.clock = clock
        self.start = start
        self.watch_dir = watch
        self._old_sighup = None
        self._headless = False
        self._code = 0  # the exit status a stop asked for
        self.sources: list = []  # the live sources of the runs started here, for the farewell lines

    def on_mount(self) -> None:
        if self.ansi:
            self.theme = "ansi-dark"
        try:
            loop = asyncio.get_running_loop()
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, self._on_signal, sig)
            # a plain handler, not the loop's: after a hangup the loop may never run again (tui/headless.py)
            self._old_sighup = signal.signal(signal.SIGHUP, self._on_sighup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests) or no signals on this platform
        if self.watch_dir is not None:
            self.push_screen(_run_screens().watch(self.watch_dir))
        elif self.start == "runs":
            self.push_screen(_runs_screen(self.initial.runs_dir))
        else:
            self.push_screen(NewRunScreen(self.initial))

    def on_unmount(self) -> None:
        try:
            for sig in STOP_SIGNALS:
                asyncio.get_running_loop().remove_signal_handler(sig)
            if self._old_sighup is not None:
                signal.signal(signal.SIGHUP, self._old_sighup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def start_run(self, cfg: TrainConfig) -> None:
        screen = _run_screens().live(cfg, self.trainer, self.clock)
        self.sources.append(screen.source)
        self.push_screen(screen)

    def get_system_commands(self, screen):
        """The command palette (ctrl+p): lab's screens first, then Textual's own commands."""
        yield SystemCommand("New run", "the form that starts a training run", self.action_new_run)
        yield SystemCommand("Runs", "browse past runs, open, watch or compare them", self.action_show_runs)
        yield SystemCommand("Watch latest run", "follow the newest run folder as it trains", self.action_watch_latest)
        yield SystemCommand("Compare latest runs", "overlay the curves of the newest runs (up to 5)",
                            self.action_compare_latest)
        yield from super().get_system_commands(screen)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen.title or "lab", screen_keys(self.screen)))

    def _latest_runs(self, n: int):
        from lab_workbench.engine.runs import MAX_ROWS, read_runs
        runs = sorted(read_runs(self.initial.runs_dir, MAX_ROWS), key=lambda r: r.created, reverse=True)
        if not runs:
            self.notify(f"no runs in {self.initial.runs_dir}/ yet")
        return runs[:n]

    def action_watch_latest(self) -> None:
        runs = self._latest_runs(1)
        if runs:
            self.push_screen(_run_screens().watch(runs[0].path))

    def action_compare_latest(self) -> None:
        runs = self._latest_runs(5)
        if len(runs) >= 2:
            from .screens.compare import CompareScreen
            self.push_screen(CompareScreen(runs))
        elif runs:
            self.notify("only one run: nothing to compare")

    def action_show_runs(self) -> None:
        self.push_screen(_runs_screen(self.initial.runs_dir))

    def action_new_run(self) -> None:
        self.push_screen(NewRunScreen(self.initial))

    def active_runs(self) -> list:
        """The run screens that are training; none before the run screen's module was first imported."""
        module = sys.modules.get(f"{__package__}.screens.run")
        if module is None:
            return []
        return [s for s in self.screen_stack if isinstance(s, module.RunScreen) and s.active]

    async def action_quit(self) -> None:
        if self._leaving:  # a second q while the runs stop: leave now
            self._abort(self._code)
            return
        if not self.active_runs():
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._leave("interrupted", 0)
        self.push_screen(ConfirmScreen("A run is active. Stop it at this batch and quit? last.pt is kept: "
                                       "lab train --resume continues it exactly."), answered)

    async def _stop_runs(self, reason: str = "interrupted") -> None:
        screens = self.active_runs()
        for screen in screens:
            screen.stop(reason)
        waited = 0.0
        while any(not s.source.started for s in screens) and waited < LOAD_GRACE:
            await asyncio.sleep(0.1)
            waited += 0.1
        if any(not s.source.started for s in screens):
            self.abandoned = True
            return  # still loading its data: no folder, nothing to save; the worker ends with the process
        for worker in list(self.workers):
            if worker.group == "training":
                try:
                    await asyncio.wait_for(worker.wait(), QUIT_WAIT)
                except Exception:  # cancelled, failed or too slow: leaving is what the user asked
                    pass

    def action_interrupt(self) -> None:
        """Ctrl-C: as `lab train` takes it, stop at this batch with a checkpoint, mark `interrupted`, leave;
        a second Ctrl-C leaves at once."""
        self._leave("interrupted", 128 + signal.SIGINT)

    def _on_signal(self, signum: int) -> None:
        """SIGTERM, SIGINT, SIGUSR1 (Slurm's warning): as Ctrl-C."""
        self._leave("interrupted", 128 + signum)

    def _on_sighup(self, signum=None, frame=None) -> None:
        """The terminal went away (the SSH connection dropped): the screen is lost, the runs are not. They go
        on headless to their end, as `lab train` would, and the process ends with them (tui/headless.py). Run
        on the main thread as a plain signal handler; it never returns."""
        if self._headless:
            return
        self._headless = True
        sources = [screen.source for screen in self.active_runs()]
        Headless(sources, getattr(self, "_driver", None)).run()

    def input_gone(self) -> None:
        """The input thread read the end of its input (a hung-up terminal, stdin at EOF): as a hangup."""
        self._on_sighup()

    def _leave(self, reason: str, code: int) -> None:
        """Stop the active runs at their batch (each writes last.pt and results.json, at once: a stop skips the
        test score), then exit with `code`; asked a second time, leave at once."""
        if self._leaving:
            self._abort(code)
            return
        self._leaving, self._code = True, code

        async def stop() -> None:
            await self._stop_runs(reason)
            if not self.is_headless:  # a worker still loading, or a shutdown stuck on a dead terminal
                timer = threading.Timer(FORCE_EXIT, os._exit, (code,))
                timer.daemon = True
                timer.start()
            self.exit(return_code=code)
        # a worker, not a callback: the app's messages (a second Ctrl-C or q) go on while the runs stop
        self.run_worker(stop, group="leaving")

    def _abort(self, code: int) -> None:
        """Leave now, without the runs' clean-up: every file a run writes is replaced whole, so its last.pt is
        the last complete checkpoint and `lab train --resume` continues from there."""
        driver = getattr(self, "_driver", None)
        try:
            if driver is not None and not self.is_headless:
                driver.stop_application_mode()
                driver.close()
            text = "".join(line + "\n" for line in self.farewell(aborted=True))
            os.write(2, text.encode(errors="replace"))  # not sys.stderr: Textual captures it while it runs
        finally:
            os._exit(code)

    def farewell(self, aborted: bool = False) -> list[str]:
        """What to print once the screen is gone: each run this session trained, how it ended, how to go on."""
        lines = []
        for source in self.sources:
            if source.run_dir is None:
                continue
            status = "stopped before its clean-up" if aborted and not source.finished.is_set() else source.status
            line = f"{source.run_dir}: {status or 'running'}"
            if status not in ("completed", "early-stopped", "diverged", "failed"):
                line += f"; continue it with: lab train --resume {source.run_dir}"
            lines.append(line)
        return lines


def make_app(config: TrainConfig | None = None, trainer: Callable | None = None,
             clock: Callable[[], float] = time.monotonic, start: str = "form",
             watch: str | Path | None = None, ansi: bool = False) -> LabApp:
    """The app; `trainer` defaults to engine.train (tests pass a fake or tiny one)."""
    if trainer is None:
        trainer = _engine_train
    return LabApp(config or TrainConfig(), trainer, clock, start, watch, ansi)


def _driver_class():
    """LabDriver on Linux and macOS (input EOF ends labtui); Textual's choice elsewhere."""
    if os.name != "posix" or os.environ.get("TEXTUAL_DRIVER"):
        return None
    from .driver import LabDriver
    return LabDriver


def _engine_train(*args, **kw):
    """lab_workbench.engine.train, imported on first use: on the worker thread, after the first paint (torch takes seconds)."""
    from lab_workbench.engine.training.trainer import train
    return train(*args, **kw)
