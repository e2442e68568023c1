"""Honest numbers on the run screen (issue 30, point 4): the epoch in progress counted from 1 as `lab train`
counts it, an ETA from the pace over every batch left (this epoch's too) that moves within an epoch, an
elapsed clock that never goes back (it ticks while paused and stops where it was at the end), and a resumed
run's whole history."""

import json
import threading

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.contract.events import BatchEnded, EpochEnded, History, RunEnded, RunStarted
from tests.tui.pilot import make_run, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.run import RunScreen
from lab_workbench.tui.sources import Throttle


def row(epoch, seconds=10.0):
    return {"epoch": epoch, "train_loss": 0.5, "train_acc": 0.8, "val_loss": 0.6, "val_acc": 0.7, "lr": 1e-3,
            "seconds": seconds}


class Script:
    """A trainer that emits each step's events when the test releases it, at the test's clock."""

    def __init__(self, steps, rows=(), start_epoch=1):
        self.steps, self.rows, self.start_epoch = steps, rows, start_epoch
        self.go = threading.Semaphore(0)

    def __call__(self, cfg, on_event, should_stop, **_):
        on_event(RunStarted(cfg.to_dict(), "runs/x", 1000, "cpu", {"classes": ["a", "b"]},
                            start_epoch=self.start_epoch, rows=tuple(self.rows), resumed=bool(self.rows)))
        for events in self.steps:
            if not self.go.acquire(timeout=20):  # the test failed and left: so does this thread
                break
            for e in events:
                on_event(e)
        history = History(rows=[], status="completed", run_dir="runs/x")
        on_event(RunEnded("completed", history, {}))
        return history


def status(app) -> str:
    return str(app.screen.query_one("#status").render())


async def test_epoch_counter_eta_and_a_clock_that_never_goes_back(monkeypatch):
    monkeypatch.setattr(Throttle, "passes", lambda self, event: True)  # every batch reaches the screen
    now = [0.0]
    script = Script([[BatchEnded(1, 1, 10, 0.5)], [BatchEnded(1, 2, 10, 0.5)],
                     [BatchEnded(1, 10, 10, 0.5), EpochEnded(1, 2, *list(row(1).values())[1:], [[1, 0], [0, 1]])],
                     [BatchEnded(2, 1, 10, 0.5)], [BatchEnded(2, 5, 10, 0.5)],
                     [BatchEnded(2, 10, 10, 0.5), EpochEnded(2, 2, *list(row(2).values())[1:], [[1, 0], [0, 1]])]])
    app = make_app(TrainConfig(epochs=2, batch_size=32), trainer=script, clock=lambda: now[0])
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "running")

        async def step(t, expect):
            now[0] = t
            script.go.release()
            await wait_for(pilot, lambda: expect in status(app), timeout=10)
            return status(app)
        first = await step(0.0, "epoch 1/2")
        assert "ETA" not in first  # no pace yet
        assert "ETA 0:18" in await step(1.0, "epoch 1/2")  # 18 batches left at a second each
        await step(10.0, "elapsed 0:10")
        early = await step(11.0, "epoch 2/2")
        late = await step(15.0, "elapsed 0:15")
        assert "ETA" in early and "ETA" in late and early.split("ETA ")[1][:4] > late.split("ETA ")[1][:4]
        await pilot.press("p")  # paused: the clock still ticks
        now[0] = 40.0
        await wait_for(pilot, lambda: "elapsed 0:40" in status(app), timeout=5)
        await pilot.press("p")
        await step(41.0, "completed")
        assert "elapsed 0:4" in status(app)  # not the epochs' 20 s: the clock does not go back at the end


async def test_a_resumed_run_shows_its_whole_history():
    script = Script([[EpochEnded(4, 4, *list(row(4).values())[1:], [[1, 0], [0, 1]])]],
                    rows=[row(1), row(2), row(3)], start_epoch=4)
    app = make_app(TrainConfig(epochs=4), trainer=script, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "running")
        assert [r["epoch"] for r in app.screen.rows] == [1, 2, 3]
        assert "epoch 4/4" in status(app)
        script.go.release()
        await wait_for(pilot, lambda: app.screen.state == "completed")
        assert [r["epoch"] for r in app.screen.rows] == [1, 2, 3, 4]
        assert app.screen.query_one("#table").row_count == 4


async def test_watch_counts_the_epoch_in_progress_and_the_bar_stays_on_the_epoch(tmp_path, monkeypatch):
    import os
    import socket
    import time

    import lab_workbench.tui.sources

    from lab_workbench import tui
    monkeypatch.setattr(tui.sources, "WATCH_INTERVAL", 0.05)
    run = make_run(tmp_path / "runs", "w", [0.5], status=None)

    def progress(**fields):
        (run / "progress.json").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                       "epochs": 3, "started": time.time() - 5, "time": time.time(),
                                                       "status": "running", **fields}))
    progress(epoch=2, step=7, steps=20, loss=0.4)
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), watch=run)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: status(app).startswith("training"), timeout=10)
        assert "epoch 2/3" in status(app)
        bar = app.screen.query_one("#progress")
        progress(epoch=2, step=20, steps=20, loss=0.4)  # the epoch's last batch: validation
        await wait_for(pilot, lambda: status(app).startswith("validating"), timeout=10)
        assert (bar.total, bar.progress) == (20, 20)  # the epoch's bar, full; not the run's 1 of 3
