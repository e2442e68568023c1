"""The dashboard driven by Textual's Pilot, with the real engine on digits."""

import json
import time

import pytest

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.pilot import make_run, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.compare import CompareScreen
from lab_workbench.tui.screens.confirm import ConfirmScreen
from lab_workbench.tui.screens.run import RunScreen
from lab_workbench.tui.widgets.confusion_view import ConfusionView
from lab_workbench.tui.widgets.epoch_table import EpochTable
from lab_workbench.tui.widgets.runs_table import RunsTable


async def test_start_a_two_epoch_digits_run_from_the_form(tmp_path):
    app = make_app(TrainConfig(epochs=2, runs_dir=str(tmp_path / "runs")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "completed")
        screen = app.screen
        assert screen.query_one(EpochTable).row_count == 2
        confusion = str(screen.query_one(ConfusionView).render())
        assert "validation, epoch 2" in confusion and "(predicted)" in confusion
        run_dir = screen.run_dir
    assert (run_dir / "best.pt").is_file()
    assert json.loads((run_dir / "results.json").read_text())["status"] == "completed"


async def test_form_rejects_bad_values_and_accepts_fixed_ones(tmp_path):
    app = make_app(TrainConfig(epochs=1, runs_dir=str(tmp_path / "runs")))
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#f-lr").value = "-1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "--lr" in str(app.screen.query_one("#form-error").render())
        assert app.screen.query_one("#f-lr").has_class("invalid")
        app.screen.query_one("#f-hidden").value = "12,x"
        app.screen.query_one("#f-lr").value = "0.01"
        await pilot.press("ctrl+s")
        await pilot.pause()
        form_error = str(app.screen.query_one("#form-error").render())
        assert "--hidden: expected a comma-separated list of integers, got '12,x'" in form_error
        app.screen.query_one("#f-hidden").value = "16"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "completed")
        await pilot.press("5")
        await pilot.pause()
        shown = str(app.screen.query_one("#config-view").render()).splitlines()  # the config tab
        assert any(line.split() == ["--hidden", "16"] for line in shown)
        assert any(line.split() == ["--lr", "0.01"] for line in shown)


async def test_cancel_mid_run_keeps_last_pt(tmp_path):
    app = make_app(TrainConfig(epochs=200, batch_size=4, subset=200, runs_dir=str(tmp_path / "runs")))  # short epochs
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and len(app.screen.rows) >= 1)
        await pilot.press("p")
        await pilot.pause()
        assert str(app.screen.query_one("#status").render()).startswith("paused")
        await pilot.press("p")
        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.state == "interrupted")  # resumable: not "cancelled"
        run_dir = app.screen.run_dir
        assert len(app.screen.rows) < 200
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "interrupted" and (run_dir / "last.pt").is_file()


async def test_quit_asks_first_while_a_run_is_active(tmp_path):
    app = make_app(TrainConfig(epochs=500, batch_size=4, subset=200, runs_dir=str(tmp_path / "runs")))  # short epochs
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.run_dir is not None)
        run_dir = app.screen.run_dir
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen) and app.screen.active
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running, timeout=60)
    assert json.loads((run_dir / "results.json").read_text())["status"] == "interrupted"


async def test_runs_browser_opens_and_compares(tmp_path):
    make_run(tmp_path / "runs", "alpha", [0.5, 0.7, 0.9])
    make_run(tmp_path / "runs", "beta", [0.6, 0.65], status="cancelled")
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(RunsTable)
        assert table.row_count == 2
        names = {r.name: r for r in table.infos.values()}
        assert names["alpha"].status == "completed" and names["beta"].status == "cancelled"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen) and "(past run)" in str(app.screen.query_one("#status").render())
        assert app.screen.query_one(EpochTable).row_count == len(app.screen.rows) > 0
        assert "epoch" in str(app.screen.query_one(ConfusionView).render())
        await pilot.press("escape")
        await pilot.press("space", "down", "space", "m")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen) and len(app.screen.runs) == 2


async def test_watch_mode_follows_a_growing_metrics_file(tmp_path, monkeypatch):
    import lab_workbench.tui.sources
    from lab_workbench import tui
    monkeypatch.setattr(tui.sources, "WATCH_INTERVAL", 0.1)
    run_dir = make_run(tmp_path / "runs", "cluster", [0.5], status=None)
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), watch=run_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and len(app.screen.rows) == 1)
        assert app.screen.state == "running"
        with open(run_dir / "metrics.csv", "a") as f:
            f.write("2,0.4,0.8,0.45,0.78,0.001,1.0\n3,0.3,0.85,0.4,0.81,0.001,1.0\n4,0.2")  # last line half-written
        await wait_for(pilot, lambda: len(app.screen.rows) == 3)
        assert app.screen.query_one(EpochTable).row_count == 3
        (run_dir / "results.json").write_text(json.dumps({"status": "completed", "test": {"accuracy": 0.8}}))
        await wait_for(pilot, lambda: app.screen.state == "completed")


def test_labtui_rejects_bad_flags(capsys):
    from lab_workbench.commands.labtui import main
    with pytest.raises(SystemExit) as e:
        main(["--model", "vit"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model" in err[0]
    with pytest.raises(SystemExit) as e:
        main(["--watch", "/nonexistent"])
    assert e.value.code == 2


async def test_missing_data_is_caught_by_the_form_with_the_whole_hint(tmp_path):
    app = make_app(TrainConfig(dataset="mnist", data_dir=str(tmp_path), runs_dir=str(tmp_path / "runs")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, RunScreen)
        message = str(app.screen.query_one("#form-error").render())
        assert "train-images-idx3-ubyte" in message and "or pass --download" in message  # wrapped, not cut


async def test_a_run_that_cannot_start_shows_the_error(tmp_path):
    (tmp_path / "bad.h5").write_bytes(b"not an HDF5 file")  # there (the form's check passes), unreadable
    app = make_app(TrainConfig(data=str(tmp_path / "bad.h5"), runs_dir=str(tmp_path / "runs")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "failed")
        message = str(app.screen.query_one("#run-message").render())
        assert "error" in message and "bad.h5: not a readable HDF5 file" in message
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunScreen)  # back at the form to fix it


@pytest.mark.parametrize("field, value", [("hidden", "12,x"), ("lr", "-1"), ("epochs", "0"), ("name", "../x")])
async def test_form_and_cli_give_the_same_error_text(tmp_path, capsys, field, value):
    from lab_workbench.commands.app import main
    with pytest.raises(SystemExit):
        main(["train", f"--{field.replace('_', '-')}", value, "--runs-dir", str(tmp_path / "runs")])
    cli = capsys.readouterr().err.strip().removeprefix("error: ")
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")))
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one(f"#f-{field}").value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert str(app.screen.query_one("#form-error").render()) == cli
        assert app.screen.query_one(f"#f-{field}").has_class("invalid")


async def test_a_model_registered_in_code_is_offered_by_the_form(tmp_path):
    import torch.nn as nn

    from lab_workbench.engine.models import MODELS, register_model

    @register_model("formtiny", "a model registered by a test")
    def formtiny(input_shape, num_classes):
        return nn.Sequential(nn.Flatten(), nn.Linear(64, num_classes))
    try:
        app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs"), epochs=1))
        async with app.run_test(size=(80, 24)) as pilot:
            select = app.screen.query_one("#f-model")
            assert "formtiny" in [value for _, value in select._options]
            select.value = "formtiny"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "completed")
    finally:
        MODELS.remove("formtiny")


async def test_runs_browser_groups_a_sweep_and_compares_all_of_its_runs(tmp_path):
    sweep = tmp_path / "runs" / "l2"
    sweep.mkdir(parents=True)
    (sweep / "sweep.json").write_text(json.dumps({"points": ["l2=0", "l2=1e-3", "l2=1e-2"]}))
    for i, point in enumerate(["l2=0", "l2=1e-3", "l2=1e-2"]):
        make_run(sweep, point, [0.5 + 0.1 * i, 0.6 + 0.1 * i])
    make_run(tmp_path / "runs", "solo", [0.4, 0.5])
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(RunsTable)
        assert table.row_count == 5  # the sweep's header, its three runs, the lone run
        keys = [str(k.value) for k in table.rows]
        header = keys.index(f"sweep:{sweep}")
        assert all(k.startswith(str(sweep)) for k in keys[header + 1:header + 4])
        table.move_cursor(row=header)
        await pilot.press("space", "m")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen) and len(app.screen.runs) == 3
        assert "l2=1e-2" in str(app.screen.query_one("#compare-legend").render())


def _progress(run, pid, **fields):
    import socket
    from lab_workbench.engine.core.files import write_json
    write_json(run / "progress.json", {"pid": pid, "host": socket.gethostname(), "epochs": 3,
                                       "started": time.time() - 5, "time": time.time(), **fields})


async def test_watch_tells_a_dead_writer_without_any_file_changing_and_esc_quits(tmp_path):
    import os
    import subprocess
    import sys
    run = make_run(tmp_path / "runs", "w", [0.5], status=None)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    _progress(run, os.getpid(), status="running", epoch=2, step=7, steps=20, loss=0.4321)
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), watch=run)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "running")
        status = str(app.screen.query_one("#status").render())
        assert "batch loss 0.4321" in status and "ETA" in status
        bar = app.screen.query_one("#progress")
        assert (bar.total, bar.progress) == (20, 7)  # within the epoch
        assert not app.screen.check_action("cancel", ()) and not app.screen.check_action("pause", ())
        # the writer dies: no file changes, but the next tick sees its pid gone
        _progress(run, int(dead.stdout), status="running", epoch=2, step=7, steps=20, loss=0.4321)
        app.screen.source.forget()  # the rewrite above is the test's, not the run's: read it once
        await wait_for(pilot, lambda: app.screen.state == "dead", timeout=10)
        assert "dead" in str(app.screen.query_one("#run-message").render())
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 0  # esc left the app instead of a blank screen
