"""The dashboard fed by a source (issue 21 point 5) and issue 24's TUI gaps: the phase of a watched run, flags
shown as resolved values, runs-browser columns dropped by priority, `r` on a finished run. Each test reads
what is drawn on the screen."""

import json
import os
import socket
import time

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.files import write_json
from lab_workbench.engine.contract.events import BatchEnded, EpochEnded, PhaseChanged
from tests.tui.pilot import make_run, recording_browser, resumable_run, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.sources import Throttle
from lab_workbench.tui.widgets.config_panel import render_config


def screen_text(app) -> str:
    """The screen as plain text, one line per terminal row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def status(app) -> str:
    return str(app.screen.query_one("#status").render())


def test_progress_events_are_throttled_in_one_place_and_the_rest_always_pass():
    now = [0.0]
    throttle = Throttle(hz=1, clock=lambda: now[0])
    assert throttle.passes(BatchEnded(1, 1, 10, 0.5))
    assert not throttle.passes(BatchEnded(1, 2, 10, 0.5))  # within the same second
    assert throttle.passes(BatchEnded(1, 10, 10, 0.5))  # an epoch's last batch: validation follows it
    assert throttle.passes(PhaseChanged("validating", 0, 100, 1))  # a phase's start
    assert not throttle.passes(PhaseChanged("validating", 50, 100, 1))
    assert throttle.passes(EpochEnded(1, 2, 1.0, 0.5, 1.0, 0.5, 0.1, 1.0))
    now[0] = 1.5
    assert throttle.passes(BatchEnded(2, 3, 10, 0.4))


def _progress(run, **fields):
    write_json(run / "progress.json", {"pid": os.getpid(), "host": socket.gethostname(), "epochs": 3,
                                       "started": time.time() - 5, "time": time.time(), **fields})


async def test_watch_shows_the_phase_of_the_run_it_follows(tmp_path, monkeypatch):
    import lab_workbench.tui.sources
    from lab_workbench import tui
    monkeypatch.setattr(tui.sources, "WATCH_INTERVAL", 0.05)
    run = make_run(tmp_path / "runs", "w", [0.5], status=None)
    _progress(run, status="running", epoch=2, step=7, steps=20, loss=0.4321)
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), watch=run)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: status(app).startswith("training"), timeout=10)
        _progress(run, status="running", epoch=2, step=20, steps=20, loss=0.4)  # the epoch's last batch
        await wait_for(pilot, lambda: status(app).startswith("validating"), timeout=10)
        with open(run / "metrics.csv", "a") as f:
            f.write("2,0.4,0.8,0.45,0.78,0.001,1.0\n3,0.3,0.85,0.4,0.81,0.001,1.0\n")
        _progress(run, status="running", epoch=3, step=0)
        await wait_for(pilot, lambda: status(app).startswith("evaluating test split"), timeout=10)
        (run / "results.json").write_text(json.dumps({"status": "completed", "test": {"accuracy": 0.8}}))
        _progress(run, status="completed")
        await wait_for(pilot, lambda: status(app).startswith("completed"), timeout=10)
        assert "epoch 3/3" in status(app) and "ETA" not in status(app)


def test_the_config_view_shows_unset_model_options_as_the_model_uses_them():
    shown = str(render_config({"model": "mlp", "hidden": None, "dropout": None, "batchnorm": None,
                               "epochs": 3})).splitlines()
    assert ["--hidden", "256,128"] in [line.split() for line in shown]
    assert ["--dropout", "0"] in [line.split() for line in shown]
    assert not any("default" in line or "None" in line for line in shown)
    cnn = str(render_config({"model": "cnn", "batchnorm": None, "model_extra": None})).splitlines()
    assert ["--batchnorm", "on"] in [line.split() for line in cnn]  # a model's own default, as the flag says it


async def test_compare_shows_the_differing_fields_as_flags_with_resolved_values(tmp_path):
    from lab_workbench.engine.runs.info import MAX_ROWS, read_run
    from lab_workbench.tui.screens.compare import CompareScreen
    a = make_run(tmp_path / "runs", "a", [0.5, 0.6])
    b = make_run(tmp_path / "runs", "b", [0.5, 0.7])
    c = make_run(tmp_path / "runs", "c", [0.5, 0.7])
    for d, hidden in ((a, None), (b, [64]), (c, [256, 128])):
        write_json(d / "config.json", {"config": {"model": "mlp", "epochs": 3, "dataset": "digits",
                                                  "hidden": hidden}, "data": {"source": "digits"}})
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(CompareScreen([read_run(p, MAX_ROWS) for p in (a, b)]))
        await pilot.pause()
        text = screen_text(app)
        assert "--hidden 256,128" in text and "--hidden 64" in text and "default" not in text
        app.pop_screen()
        app.push_screen(CompareScreen([read_run(p, MAX_ROWS) for p in (a, c)]))  # the same setting twice
        await pilot.pause()
        assert "--hidden" not in screen_text(app)


def _heading(app) -> list[str]:
    words = next(line for line in screen_text(app).splitlines() if " status " in line).split()
    heads = {"run", "status", "best", "val", "test", "epochs", "model", "data", "created", "time"}
    assert set(words) <= heads, words  # none cut
    return words


async def test_the_runs_browser_drops_whole_columns_by_priority_to_fit(tmp_path):
    make_run(tmp_path / "runs", "mnist-cnn-lr-0.001-long-name-20261129-201544", [0.5, 0.6], status="early-stopped")
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        words = _heading(app)
        assert words[:5] == ["run", "status", "best", "val", "test"] and "data" not in words
        row = next(line for line in screen_text(app).splitlines() if "mnist-cnn" in line)
        assert "early-stopped" in row and "59.00%" in row
        await pilot.resize_terminal(50, 24)
        await pilot.pause()
        assert _heading(app)[:2] == ["run", "status"]
        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        assert _heading(app)[-2:] == ["created", "time"]  # every column at 120


async def test_r_on_a_completed_run_offers_more_epochs_and_trains_it_on(tmp_path):
    d = resumable_run(tmp_path / "runs", "done", [0.5, 0.6, 0.7], "completed")
    app, seen = recording_browser(tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert "completed after 3 epochs" in screen_text(app) and "how many epochs" in screen_text(app)
        await pilot.press("escape")  # changed my mind: nothing starts
        await pilot.pause()
        assert "resume" not in seen
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", "2", "enter")  # not more than it has: said, nothing starts
        await pilot.pause()
        assert "resume" not in seen
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", "5", "enter")
        await wait_for(pilot, lambda: "resume" in seen)
    assert seen == {"resume": d, "epochs": 5}


def polling_train(cfg, on_event=None, should_stop=None, **_):
    """Batches until asked to stop (at most 10 s), then the status the stop asked for."""
    from lab_workbench.engine.contract.events import History, RunEnded, RunStarted
    on_event(RunStarted(cfg.to_dict(), "runs/poll", 10, "cpu", {"classes": ["a", "b"]}))
    end, step, reason = time.monotonic() + 10, 0, None
    while reason is None and time.monotonic() < end:
        step += 1
        on_event(BatchEnded(1, step % 100 + 1, 200, 0.5))
        reason = should_stop()
        time.sleep(0.01)
    history = History(status=reason or "completed", run_dir="runs/poll")
    on_event(RunEnded(history.status, history, {}))
    return history


async def test_a_live_source_pauses_and_cancels_and_its_keys_go_with_it():
    app = make_app(TrainConfig(epochs=3), trainer=polling_train)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: status(app).startswith("training"), timeout=10)
        assert "c Stop run" in screen_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: status(app).startswith("paused"), timeout=5)
        await pilot.press("p", "c")
        await wait_for(pilot, lambda: status(app).startswith("interrupted"), timeout=10)
        assert "Stop run" not in screen_text(app)  # nothing left to stop: the footer says so
