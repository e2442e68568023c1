"""Every screen (issue 30, point 6): q quits or asks, `?` and `q` stay in the footer at 80 columns, the config
tab scrolls and shows only what counts for the run, every TrainConfig field is on the form, a dead run's hint
names the run, a damaged config.json is said so."""

import json
import os
import socket

from lab_workbench.engine.settings.config import TrainConfig, settings
from lab_workbench.engine.core.files import write_json
from tests.tui.fake import fake_train
from tests.tui.pilot import finished, make_run, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.run import RunScreen
from lab_workbench.tui.widgets.config_form import ConfigForm, form_settings
from lab_workbench.tui.widgets.config_panel import render_config


def footer(app) -> str:
    """The bottom row of the screen as drawn."""
    return [strip.text for strip in app.screen._compositor.render_strips()][-1]


async def test_q_quits_from_the_form():
    app = make_app(TrainConfig(), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


async def test_q_and_help_stay_in_the_footer_of_a_live_run_at_80_columns():
    import threading

    from lab_workbench.engine.contract.events import History, RunStarted
    release = threading.Event()

    def training(cfg, on_event, should_stop, **_):  # runs until the test has looked
        on_event(RunStarted(cfg.to_dict(), "runs/x", 1000, "cpu", {"classes": ["a", "b"]}))
        release.wait(20)
        return History(rows=[], status="cancelled", run_dir="runs/x")
    app = make_app(TrainConfig(epochs=3), trainer=training, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "running")
        shown = footer(app)
        release.set()
    assert shown.split()[0] == "c" and "q Quit" in shown and "? Help" in shown, shown  # c: cancel or stop


async def test_the_config_tab_scrolls_and_says_no_placeholders():
    app = make_app(TrainConfig(epochs=3, dataset="digits"), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        await pilot.press("5")
        await pilot.pause()
        scroll = app.screen.query_one("#config-scroll")
        assert scroll.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        text = str(app.screen.query_one("#config-view").render())
        assert "(optional)" not in text and "--samples" not in text and "--noise" not in text
        assert "--data " in text and "--channels" not in text  # an mlp: no conv channels


def test_the_config_view_keeps_an_inapplicable_field_that_is_set():
    text = str(render_config({"dataset": "moons", "model": "mlp", "samples": 500, "noise": None}))
    assert "--samples" in text and "--noise" in text  # point sets take both


def test_every_train_config_field_is_on_the_form():
    shown = {s.name for s in form_settings()}
    assert {s.name for s in settings()} == shown
    assert {"init_from", "freeze", "head_lr", "log_to", "eval_subset", "weights", "unfreeze_at"} <= shown


async def test_fine_tuning_and_tracker_fields_reach_the_config(tmp_path):
    app = make_app(TrainConfig(runs_dir=str(tmp_path)), trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.click("#form-more CollapsibleTitle")
        await pilot.pause()
        form = app.screen.query_one(ConfigForm)
        form.query_one("#f-freeze").value = "body.*"
        form.query_one("#f-head_lr").value = "0.01"
        form.query_one("#f-eval_subset").value = "100"
        form.query_one("#f-log_to").value = "tensorboard"
        cfg = form.config()
    assert (cfg.freeze, cfg.head_lr, cfg.eval_subset, cfg.log_to) == (["body.*"], 0.01, 100, ["tensorboard"])


async def test_a_dead_run_says_how_to_resume_it_by_name(tmp_path, monkeypatch):
    import subprocess
    import sys
    import time

    import lab_workbench.tui.sources

    from lab_workbench import tui
    monkeypatch.setattr(tui.sources, "WATCH_INTERVAL", 0.05)
    run = make_run(tmp_path / "runs", "w", [0.5], status=None)

    def progress(pid):
        write_json(run / "progress.json", {"pid": pid, "host": socket.gethostname(), "epochs": 3, "step": 1,
                                           "steps": 9, "epoch": 2, "started": time.time(), "time": time.time(),
                                           "status": "running"})
    progress(os.getpid())
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), watch=run)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "running")
        progress(gone)
        app.screen.source.forget()
        await wait_for(pilot, lambda: app.screen.state == "dead", timeout=10)
        said = str(app.screen.query_one("#run-message").render())
        assert f"--resume {run}" in said and "RUN`" not in said


async def test_a_damaged_config_json_is_said_so(tmp_path):
    run = make_run(tmp_path / "runs", "bad", [0.5])
    (run / "config.json").write_text('{"config": {"model": ')
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs", clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.press("5")
        await pilot.pause()
        text = str(app.screen.query_one("#config-view").render())
        assert "unreadable" in text and "no config.json" not in text


def test_the_config_tab_at_80x24(snap_compare):
    async def config_tab(pilot):
        await finished(pilot)
        await pilot.press("5")
        await pilot.pause()
    app = make_app(TrainConfig(epochs=3, dataset="digits"), trainer=fake_train, clock=lambda: 0.0)
    assert snap_compare(app, terminal_size=(80, 24), run_before=config_tab)


async def test_a_confusion_matrix_of_many_classes_scrolls():
    from lab_workbench.tui.widgets.confusion_view import ConfusionView
    app = make_app(TrainConfig(epochs=3), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        await pilot.press("3")
        await pilot.pause()
        k = 30
        classes = [f"c{i}" for i in range(k)]
        app.screen.query_one(ConfusionView).show([[int(i == j) for j in range(k)] for i in range(k)], classes)
        await pilot.pause()
        scroll = app.screen.query_one("#confusion-scroll")
        assert scroll.max_scroll_y > 0 and scroll.has_focus
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y


async def test_every_screen_shows_q_and_help_in_its_footer_at_80_columns_and_q_quits(tmp_path):
    for i in range(3):
        make_run(tmp_path / "runs", f"run-{i}", [0.5 + i / 10])
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        seen = {"form": footer(app)}
        await pilot.press("ctrl+r")
        await pilot.pause()
        seen["runs"] = footer(app)
        await pilot.press("J")
        await pilot.pause()
        seen["jobs"] = footer(app)
        await pilot.press("escape", "space", "down", "space", "m")
        await pilot.pause()
        seen["compare"] = footer(app)
        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        seen["run"] = footer(app)
        await pilot.press("q")
        await pilot.pause()
    assert all("q Quit" in f and "? Help" in f for f in seen.values()), seen
    assert not app.is_running
