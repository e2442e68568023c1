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

from engine.config import TrainConfig
from engine.runtime import detach_from_terminal

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

QUIT_WAIT = 30.0  # seconds to let a cancelled run write last.pt and results.json before leaving
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

    def on_mount(self) -> None:
        if self.ansi:
            self.theme = "ansi-dark"
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, self._on_sigterm)
            loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
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
            for sig in (signal.SIGTERM, signal.SIGHUP):
                asyncio.get_running_loop().remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def start_run(self, cfg: TrainConfig) -> None:
        self.push_screen(_run_screens().live(cfg, self.trainer, self.clock))

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
        from engine.runs import MAX_ROWS, read_runs
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
        if not self.active_runs():
            self.exit()
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._stop_runs()
                self.exit()
        self.push_screen(ConfirmScreen("A run is active. Cancel it (last.pt is kept) and quit?"), answered)

    async def _stop_runs(self, reason: str = "cancelled") -> None:
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
        """Ctrl-C: as `lab train` takes it, stop at this batch with a checkpoint, mark `interrupted`, leave."""
        self._leave("interrupted", 128 + signal.SIGINT)

    def _on_sigterm(self, signum: int = signal.SIGTERM) -> None:
        self._leave("interrupted", 128 + signum)

    def _on_sighup(self) -> None:
        """The SSH session closed: the screen is gone, so the run stops at its batch with a checkpoint and is
        marked `interrupted` (`lab train --resume RUN` continues it exactly); nothing is lost."""
        detach_from_terminal()
        # no terminal to restore: Textual's shutdown would wait forever on its writer to a dead tty
        self._leave("interrupted", 128 + signal.SIGHUP, hard=True)

    def input_gone(self) -> None:
        """The input thread read the end of its input (a hung-up terminal, stdin at EOF): as a hangup."""
        self._on_sighup()

    def _leave(self, reason: str, code: int, hard: bool = False) -> None:
        """Stop active runs (each writes last.pt and results.json), then exit with `code`, once."""
        if self._leaving:
            return
        self._leaving = True

        async def stop() -> None:
            await self._stop_runs(reason)
            if hard:
                os._exit(code)
            if not self.is_headless:  # a worker still loading, or a shutdown stuck on a dead terminal
                timer = threading.Timer(FORCE_EXIT, os._exit, (code,))
                timer.daemon = True
                timer.start()
            self.exit(return_code=code)
        self.call_later(stop)


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
    """engine.train, imported on first use: on the worker thread, after the first paint (torch takes seconds)."""
    from engine.training.trainer import train
    return train(*args, **kw)
