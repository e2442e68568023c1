"""Hostile review: labtui's cancel while the real engine loads the data (before the run folder exists)."""

import threading

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.training.trainer import train
from tests.tui.pilot import wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.run import RunScreen


async def test_cancel_while_loading_ends_with_a_status_and_no_folder(tmp_path):
    cancelled = threading.Event()

    def slow_loading_train(cfg, on_event=None, should_stop=None, **kw):
        cancelled.wait(30)  # the data "loads" until the cancel has been pressed
        return train(cfg, on_event=on_event, should_stop=should_stop, **kw)
    runs = tmp_path / "runs"
    app = make_app(TrainConfig(epochs=2, subset=200, runs_dir=str(runs), name="early"), trainer=slow_loading_train)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.active)
        await pilot.press("c")
        cancelled.set()
        await wait_for(pilot, lambda: not app.screen.active)
        await pilot.pause(0.2)
        assert app.screen.state == "interrupted"
        status = str(app.screen.dashboard.query_one("#run-message").render())
        assert "interrupted" in status and "nothing to save" in status, status
    assert not (runs / "early").exists()
