"""The runs browser is live (issue 30, point 3): rows refresh by themselves, Enter on a running run follows
it, a resumed run keeps its place, created and time columns, list keys, reverse sort."""

import json
import os
import socket
import time

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.files import write_json
from tests.tui.pilot import make_run, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.run import RunScreen
from lab_workbench.tui.screens.runs import RunsScreen
from lab_workbench.tui.widgets.runs_table import RunsTable


def browser(root):
    return make_app(TrainConfig(runs_dir=str(root)), start="runs", clock=lambda: 0.0)


def cell(app, name, column) -> str:
    table = app.screen.query_one(RunsTable)
    key = next(k for k, r in table.infos.items() if r.name == name)
    return str(table.get_cell(key, column))


def live(d, epoch=1):
    """progress.json of a run that this process trains (its pid is alive)."""
    write_json(d / "progress.json", {"pid": os.getpid(), "host": socket.gethostname(), "status": "running",
                                     "epoch": epoch, "step": 3, "steps": 10, "time": time.time(),
                                     "started": time.time() - 65})


async def test_rows_refresh_by_themselves(tmp_path, monkeypatch):
    import lab_workbench.tui.screens.runs as runs_module
    monkeypatch.setattr(runs_module, "REFRESH", 0.2)
    d = make_run(tmp_path, "going", [0.5], status=None)
    live(d)
    app = browser(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert cell(app, "going", "epochs") == "1/3" and cell(app, "going", "status") == "running"
        with open(d / "metrics.csv", "a") as f:
            f.write("2,0.5,0.7,0.6,0.69,0.001,1.0\n")
        write_json(d / "results.json", {"status": "completed", "test": {"accuracy": 0.7, "loss": 0.3}})
        (d / "progress.json").unlink()
        await wait_for(pilot, lambda: cell(app, "going", "epochs") == "2/3", timeout=10)
        await wait_for(pilot, lambda: cell(app, "going", "status") == "completed", timeout=10)


async def test_enter_on_a_running_run_follows_it_live(tmp_path):
    d = make_run(tmp_path, "going", [0.5], status=None)
    live(d)
    app = browser(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.source.follow and "past run" not in app.screen.state


async def test_a_resumed_run_keeps_its_place(tmp_path):
    for i, name in enumerate(["old", "new"]):
        d = make_run(tmp_path, name, [0.5])
        record = json.loads((d / "config.json").read_text())
        record["created"] = f"2026-12-0{i + 1}T10:00:00+0000"
        write_json(d / "config.json", record)
    os.utime(tmp_path / "new" / "config.json", (1000, 1000))  # `old` was resumed last: its file is newer
    app = browser(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        assert [str(table.get_row_at(i)[1]) for i in range(2)] == ["new", "old"]


async def test_created_and_time_columns_where_there_is_room(tmp_path):
    make_run(tmp_path, "done", [0.5, 0.6, 0.7])
    app = browser(tmp_path)
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        assert "created" in table.shown and "duration" in table.shown
        assert cell(app, "done", "duration") == "0:03"  # three epochs of 1.0 s


async def test_list_keys_and_reverse_sort(tmp_path):
    for i in range(30):
        d = make_run(tmp_path, f"run{i:02d}", [0.5])
        os.utime(d / "config.json", (1000 + i, 1000 + i))
    app = browser(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == 29
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == 29
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("pagedown")
        assert table.cursor_row > 5
        await pilot.press("pageup")
        assert table.cursor_row == 0
        assert table.current().name == "run29"
        await pilot.press("O")
        await pilot.pause()
        assert str(table.get_row_at(0)[1]) == "run00"
        assert "reversed" in app.screen.sub_title


async def test_a_folder_with_only_config_json_is_not_running(tmp_path):
    d = tmp_path / "bare"
    d.mkdir()
    write_json(d / "config.json", {"config": {"model": "mlp", "epochs": 3}})
    app = browser(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert cell(app, "bare", "status") == "stopped?"


def test_the_live_browser_at_80x24(snap_compare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i, (name, status) in enumerate([("digits-mlp-a", "completed"), ("digits-mlp-b", "interrupted"),
                                         ("digits-mlp-c", "failed")]):
        d = make_run(tmp_path / "runs", name, [0.5 + 0.1 * i, 0.6 + 0.1 * i], status=status)
        os.utime(d / "config.json", (1000 + i, 1000 + i))
    assert snap_compare(make_app(TrainConfig(), start="runs", clock=lambda: 0.0), terminal_size=(80, 24))
