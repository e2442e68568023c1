"""Compare that reads at 80x24 (issue 30, point 5): each run's name in its colour in the legend, ten runs in
ten colours as drawn (checked by their rendered colour values), a digit hides a run and f draws one alone,
charts at least 8 rows tall (tabs, not stacked), and a diff of only the options the models take."""

import os

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.files import write_json
from lab_workbench.engine.runs import MAX_ROWS, read_run
from tests.tui.pilot import make_run
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.compare import CompareScreen
from lab_workbench.tui.widgets.curve_plot import CurvePlot


def runs(tmp_path, n):
    paths = []
    for i in range(n):
        d = make_run(tmp_path / "runs", f"run-{i}", [0.3 + 0.05 * i, 0.4 + 0.05 * i, 0.5 + 0.05 * i])
        rows = [f"{e},{1 / e:.4f},0.5,{(2 + i) / e:.4f},{0.3 + 0.05 * i + 0.1 * e:.4f},0.001,1.0" for e in (1, 2, 3)]
        (d / "metrics.csv").write_text("\n".join([(d / "metrics.csv").read_text().splitlines()[0], *rows]) + "\n")
        os.utime(d / "config.json", (1000 + i, 1000 + i))
        paths.append(d)
    return [read_run(p, MAX_ROWS) for p in paths]


def name_colours(screen) -> list:
    """The colour of each run's name in the legend, as rendered (RGB triplets)."""
    from rich.style import Style
    text = screen.legend_text
    out = []
    for r in screen.runs:
        start = text.plain.index(f" {r.name}  ") + 1
        span = next(s for s in text.spans if s.start == start)
        out.append(Style.parse(str(span.style)).color.get_truecolor())
    return out


def drawn_colours(plot) -> set:
    """The colours of what the chart draws (its lines and markers, not the frame), as rendered."""
    text = plot.render()
    return {s.style.color.get_truecolor() for s in text.spans if s.style.color is not None}


async def show(tmp_path, n, pilot):
    pilot.app.push_screen(CompareScreen(runs(tmp_path, n)))
    await pilot.pause()
    return pilot.app.screen


async def test_ten_runs_in_ten_colours_named_in_their_colour_and_drawn_so(tmp_path):
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show(tmp_path, 10, pilot)
        named = name_colours(screen)
        assert len(set(named)) == 10
        plot = screen.query_one("#cmp-loss", CurvePlot)
        assert drawn_colours(plot) == set(named)
        assert plot.size.height >= 8
        await pilot.press("v")
        await pilot.pause()
        acc = screen.query_one("#cmp-acc", CurvePlot)
        assert acc.size.height >= 8 and drawn_colours(acc) == set(named)


async def test_a_digit_hides_a_run_and_f_draws_one_alone(tmp_path):
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show(tmp_path, 4, pilot)
        plot = screen.query_one("#cmp-loss", CurvePlot)
        assert list(plot.series) == ["1:val", "2:val", "3:val", "4:val"]
        await pilot.press("2")
        await pilot.pause()
        assert list(plot.series) == ["1:val", "3:val", "4:val"]
        assert name_colours(screen)[1] not in drawn_colours(plot) and "strike" in str(screen.legend_text.spans)
        await pilot.press("2")
        await pilot.pause()
        assert len(plot.series) == 4
        await pilot.press("f")
        await pilot.pause()
        assert list(plot.series) == ["1:val"]
        await pilot.press("f")
        await pilot.pause()
        assert list(plot.series) == ["2:val"]
        assert drawn_colours(plot) == {name_colours(screen)[1]}


async def test_the_diff_lists_only_options_the_models_take(tmp_path):
    a = make_run(tmp_path / "runs", "a", [0.5])
    b = make_run(tmp_path / "runs", "b", [0.6])
    write_json(a / "config.json", {"config": {"model": "mlp", "epochs": 3, "dataset": "digits", "channels": None,
                                              "hidden": [64]}})
    write_json(b / "config.json", {"config": {"model": "cnn", "epochs": 3, "dataset": "digits",
                                              "channels": [8, 16], "hidden": [64]}})
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(CompareScreen([read_run(p, MAX_ROWS) for p in (a, b)]))
        await pilot.pause()
        lines = app.screen.legend_text.plain.splitlines()
        assert "--channels" not in lines[0] and "--model mlp" in lines[0]
        assert "--channels 8,16" in lines[1]


def test_compare_ten_runs_at_80x24(snap_compare, tmp_path):
    async def compare(pilot):
        await show(tmp_path, 10, pilot)
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), start="runs", clock=lambda: 0.0)
    assert snap_compare(app, terminal_size=(80, 24), run_before=compare)
