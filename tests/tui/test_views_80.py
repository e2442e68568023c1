"""Every view fits 80x24: compare with 6 runs keeps both charts, `s` keeps the accuracy chart's title and
legend, the config view shows values as flags would."""

import os

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.pilot import make_run, on_tab
from tests.tui.fake import fake_train
from lab_workbench.tui.app import make_app
from lab_workbench.tui.widgets.config_panel import flag, render_config
from lab_workbench.tui.widgets.curve_plot import CurvePlot


def six_runs(tmp_path):
    for i in range(6):
        d = make_run(tmp_path / "runs", f"mnist-cnn-lr-sweep-point-{i}-20261129", [0.5 + 0.05 * i, 0.6 + 0.05 * i])
        os.utime(d / "config.json", (1000 + i, 1000 + i))
    return make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs", clock=lambda: 0.0)


async def test_compare_with_six_runs_keeps_both_charts_tall(tmp_path):
    app = six_runs(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for _ in range(6):
            await pilot.press("space", "down")
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.query_one("#cmp-loss", CurvePlot).size.height >= 8  # a tab each: no stacking
        await pilot.press("v")
        await pilot.pause()
        assert app.screen.query_one("#cmp-acc", CurvePlot).size.height >= 8


def test_compare_six_runs_at_80x24(snap_compare, tmp_path):
    async def compare(pilot):
        for _ in range(6):
            await pilot.press("space", "down")
        await pilot.press("m")
        await pilot.pause()
    assert snap_compare(six_runs(tmp_path), terminal_size=(80, 24), run_before=compare)


async def test_smoothing_keeps_every_chart_title_and_legend_at_80_columns():
    app = make_app(TrainConfig(epochs=3), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_tab("2")(pilot)
        await pilot.press("s")
        await pilot.pause()
        for plot in app.screen.query(CurvePlot):
            heading = plot.heading()
            assert len(heading) <= plot.size.width - 2 and "train" in heading and "val" in heading
            assert "0.6" in heading


def test_config_shows_values_as_flags():
    assert flag("hidden", [32, 32]) == "--hidden 32,32" and flag("batch_size", 64) == "--batch-size 64"
    text = str(render_config({"hidden": [32, 32], "dropout": None, "amp": False}))
    assert "--hidden" in text and "32,32" in text and "None" not in text and "False" not in text


def test_without_colour_the_confusion_errors_are_bold_reverse_or_underlined_never_coloured():
    from lab_workbench.tui.widgets.confusion_view import render_confusion
    text = render_confusion([[8, 2, 0], [1, 9, 0], [0, 0, 10]], ["a", "b", "c"], color=False)
    styles = {text.plain[s.start:s.end].strip(): str(s.style) for s in text.spans}
    assert styles["2"] == "bold reverse" and styles["1"] == "bold underline" and styles["0"] == "dim"


async def test_v_chooses_the_second_chart_accuracy_learning_rate_or_batch_loss():
    app = make_app(TrainConfig(epochs=3), trainer=fake_train, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_tab("2")(pilot)
        plot = app.screen.query_one("#acc-plot", CurvePlot)
        seen = []
        for _ in range(3):
            await pilot.press("v")
            await pilot.pause()
            seen.append((plot.heading().split()[0], list(plot.series)))
        assert seen == [("learning", ["lr"]), ("batch", ["batch"]), ("accuracy", ["train", "val"])]
        assert plot.series["train"][1][-1] == 82.0
