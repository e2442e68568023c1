"""labtui's keys and views added for life over SSH: help, palette, log/EMA curves, boundary and config
views, the grouped form with its path checks, and a torch-free first paint."""

import os
import subprocess
import sys

import pytest

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.fake import fake_train
from tests.tui.pilot import make_run, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.compare import CompareScreen
from lab_workbench.tui.screens.help import HelpScreen
from lab_workbench.tui.screens.new_run import NewRunScreen
from lab_workbench.tui.screens.run import RunScreen
from lab_workbench.tui.widgets.curve_plot import MARKERS, CurvePlot, epoch_ticks, smooth


async def finished(pilot):
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunScreen) and pilot.app.screen.state == "completed")


async def test_help_lists_the_keys_that_work_on_this_screen(tmp_path):
    app = make_app(TrainConfig(epochs=3), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("Static").render())
        assert "Log y" in text and "Smooth" in text and "ctrl+p" in text
        assert "Cancel run" not in text  # the run has ended: cancel would not work
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)


async def test_log_y_smoothing_percent_and_whole_epoch_ticks(tmp_path):
    app = make_app(TrainConfig(epochs=3), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        await pilot.press("2")
        acc = app.screen.query_one("#acc-plot", CurvePlot)
        assert acc.series["val"][1] == pytest.approx([55.0, 71.0, 79.0])  # % as in the table
        await pilot.press("l")
        await pilot.press("s")
        await pilot.pause()
        assert all(p.log_y and p.smoothing == 0.6 for p in app.screen.query(CurvePlot))
        assert "log" in acc.heading() and "0.6" in acc.heading() and "⠿ train" in acc.heading()
    assert epoch_ticks([1, 2, 3]) == [1, 2, 3] and epoch_ticks(list(range(1, 101))) == list(range(1, 101, 13))
    assert smooth([1.0, float("nan"), 3.0], 0.5)[0] == 1.0 and smooth([2.0, 4.0], 0.0) == [2.0, 4.0]


async def test_compare_overlays_many_runs_with_ascii_or_braille_markers_and_an_outside_legend(tmp_path):
    for i in range(6):
        make_run(tmp_path / "runs", f"r{i}", [0.5 + i / 20, 0.6 + i / 20])
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_compare_latest()
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen) and len(app.screen.runs) == 5
        legend = app.screen.legend_text.plain.splitlines()  # each run's marker before its number
        assert [line.split()[:2] for line in legend] == [[g, str(i)] for i, g in enumerate("⠿+xo*", 1)]
        plot = app.screen.query_one("#cmp-acc", CurvePlot)
        assert not plot.legend_in_title and len(plot.series) == 5
    assert all(m == "braille" or (len(m) == 1 and m.isascii()) for m in MARKERS)


async def test_palette_offers_lab_commands_and_watch_latest_opens_the_newest_run(tmp_path):
    make_run(tmp_path / "runs", "old", [0.5])
    new = make_run(tmp_path / "runs", "new", [0.6])
    os.utime(tmp_path / "runs" / "old" / "config.json", (1, 1))
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")))
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles[:4] == ["New run", "Runs", "Watch latest run", "Compare latest runs"]
        app.action_watch_latest()
        await pilot.pause()
        assert isinstance(app.screen, RunScreen) and app.screen.sub_title == f"watching {new}"
        await pilot.press("5")
        await pilot.pause()
        assert "model" in str(app.screen.query_one("#config-view").render())


async def test_form_groups_rare_fields_and_checks_paths_before_leaving(tmp_path):
    app = make_app(TrainConfig(epochs=1, runs_dir=str(tmp_path / "runs")), trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        more = app.screen.query_one("#form-more")
        assert more.collapsed and len(more.query("#f-lr")) == 0
        await pilot.click("#form-more CollapsibleTitle")  # the rare fields are built when first opened
        await pilot.pause()
        assert not more.collapsed and len(more.query("#f-momentum")) == 1
        app.screen.query_one("#f-data").value = str(tmp_path / "missing.h5")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewRunScreen)
        assert "missing.h5: file not found" in str(app.screen.query_one("#form-error").render())
        app.screen.query_one("#f-data").value = ""
        app.screen.query_one("#f-dataset").value = "mnist"
        app.screen.query_one("#f-data_dir").value = str(tmp_path / "nowhere")
        more.collapsed = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#form-error").render())
        assert "--data-dir" in error and "not a folder" in error
        assert not more.collapsed  # the field the error names is shown
        app.screen.query_one("#f-data_dir").value = ""
        app.screen.query_one("#f-momentum").value = "2"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "--momentum: expected a number in [0, 1)" in str(app.screen.query_one("#form-error").render())


async def test_a_points_run_shows_its_boundary_as_a_fourth_view(tmp_path):
    app = make_app(TrainConfig(dataset="moons", epochs=3, lr=0.01, runs_dir=str(tmp_path / "runs")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state == "completed")
        await pilot.press("4")
        await pilot.pause()
        text = str(app.screen.query_one("#boundary-view").render())
        assert "#" in text and "regions:" in text and "epoch 3" in text


def test_first_paint_does_not_import_torch(tmp_path):
    code = """
import asyncio, sys
from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.tui.app import make_app
async def main():
    for start in ("form", "runs"):
        app = make_app(TrainConfig(runs_dir="runs"), start=start)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
    assert "torch" not in sys.modules, "torch imported"
asyncio.run(main())
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=120)
    assert r.returncode == 0, r.stderr[-800:]
