"""Review of the folder source: a watched run folder deleted (or moved) while watched keeps what was drawn and
says the folder is gone; it used to clear the epochs and call the run dead, with a `--resume` that cannot work."""

import os
import shutil
import socket
import time

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.files import write_json
from tests.tui.pilot import make_run, recording_browser, resumable_run, wait_for
from lab_workbench.tui.app import make_app


def _text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_a_watched_folder_deleted_keeps_its_epochs_and_says_it_is_gone(tmp_path, monkeypatch):
    import lab_workbench.tui.sources
    from lab_workbench import tui
    monkeypatch.setattr(tui.sources, "WATCH_INTERVAL", 0.05)
    run = make_run(tmp_path / "runs", "w", [0.5, 0.25], status=None)
    write_json(run / "progress.json", {"pid": os.getpid(), "host": socket.gethostname(), "epochs": 3,
                                       "started": time.time() - 5, "time": time.time(), "status": "running",
                                       "epoch": 3, "step": 7, "steps": 20, "loss": 0.4})
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), watch=run)
    async with app.run_test(size=(80, 24)) as pilot:
        dash = app.screen.dashboard
        await wait_for(pilot, lambda: dash.state == "running" and len(dash.rows) == 2, timeout=10)
        shutil.rmtree(run)
        await wait_for(pilot, lambda: "gone" in _text(app), timeout=10)
        await pilot.pause(0.2)  # a few more looks at the missing folder change nothing
        assert len(dash.rows) == 2 and "--resume" not in _text(app) and "dead" not in _text(app)


async def test_r_on_a_finished_run_refuses_a_digit_that_is_not_a_number(tmp_path):
    # "²".isdigit() is True and int("²") raises: the answer used to end labtui with a ValueError
    d = resumable_run(tmp_path / "runs", "done", [0.5, 0.6, 0.7], "completed")
    app, seen = recording_browser(tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", "²", "enter")
        await pilot.pause()
        assert app.is_running and not seen
