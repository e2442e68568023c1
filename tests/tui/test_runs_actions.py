"""The runs browser you can act from: / filters, o sorts, the cursor stays, u unmarks, d deletes after a yes
(never a run whose folder is locked), and b leaves a live run to browse while it trains."""

import os

import pytest

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.runs import RunLock
from tests.tui.pilot import make_run, recording_browser, resumable_run, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.confirm import ConfirmScreen
from lab_workbench.tui.screens.run import RunScreen
from lab_workbench.tui.screens.runs import RunsScreen
from lab_workbench.tui.widgets.runs_table import RunsTable


def runs(tmp_path, n=3):
    for i, name in enumerate(["alpha", "beta", "gamma", "delta", "eps", "zeta"][:n]):
        d = make_run(tmp_path / "runs", name, [0.5 + 0.05 * i])
        os.utime(d / "config.json", (1000 + i, 1000 + i))  # gamma is the newest
    return make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs", clock=lambda: 0.0)


def names(app) -> list[str]:
    table = app.screen.query_one(RunsTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_filter_sort_and_the_cursor_that_stays(tmp_path):
    app = runs(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert names(app) == ["gamma", "beta", "alpha"]
        await pilot.press("/", "a", "l")
        await pilot.pause()
        assert names(app) == ["alpha"]
        await pilot.press("escape")
        await pilot.pause()
        assert names(app) == ["gamma", "beta", "alpha"]
        await pilot.press("o")  # by name
        await pilot.pause()
        assert names(app) == ["alpha", "beta", "gamma"]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert app.screen.query_one(RunsTable).current().name == "beta"


async def test_unmark_all_and_delete_with_a_yes_but_never_a_locked_run(tmp_path):
    app = runs(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("space", "down", "space")
        table = app.screen.query_one(RunsTable)
        assert len(table.marked) == 2
        await pilot.press("u")
        assert table.marked == []
        await pilot.press("d")  # beta, under the cursor
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert (tmp_path / "runs" / "beta").is_dir()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not (tmp_path / "runs" / "beta").exists() and names(app) == ["gamma", "alpha"]
        with RunLock(tmp_path / "runs" / "alpha"):  # another process trains there
            await pilot.press("down", "d")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
        assert (tmp_path / "runs" / "alpha" / "config.json").is_file()


def test_the_runs_browser_at_80x24(snap_compare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i, name in enumerate(["digits-mlp-20261129-201016", "mnist-cnn-lr-0.001-long-name-20261129-201544",
                              "fashion-resnet-20261129-211500"]):
        d = make_run(tmp_path / "runs", name, [0.5 + 0.1 * i, 0.6 + 0.1 * i])
        os.utime(d / "config.json", (1000 + i, 1000 + i))
    assert snap_compare(make_app(TrainConfig(), start="runs", clock=lambda: 0.0), terminal_size=(80, 24))


async def test_r_resumes_an_interrupted_run_live_and_refuses_a_running_one(tmp_path):
    d = resumable_run(tmp_path / "runs", "stopped", [0.5], "interrupted")
    app, seen = recording_browser(tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(pilot, lambda: "resume" in seen)
        assert isinstance(app.screen, RunScreen) and app.screen.sub_title == "digits / mlp"  # a live run's title
    assert seen == {"resume": d, "epochs": 3}


@pytest.mark.parametrize("link", ["sweep", "lone"])
async def test_d_never_deletes_through_a_symlinked_run_or_sweep(tmp_path, link):
    from lab_workbench.engine.core.files import write_json
    outside = tmp_path / "outside"
    make_run(outside / "sweep", "p1", [0.5])
    write_json(outside / "sweep" / "sweep.json", {})
    make_run(outside, "lone", [0.5])
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / link).symlink_to(outside / link)
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs", clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        if link == "sweep":  # the sweep's row, then its run's
            await pilot.press("down")
        assert app.screen.query_one(RunsTable).current().name.endswith(link if link == "lone" else "p1")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert any("symlink" in n.message for n in app._notifications)
    kept = outside / "sweep" / "p1" if link == "sweep" else outside / "lone"
    assert (kept / "config.json").is_file() and not (kept / ".lock").exists()
