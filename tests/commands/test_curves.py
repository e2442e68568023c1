"""One home for curves: `lab compare` and the TUI draw the same smoothed values and list the same differing
config fields, from engine.runs.curves."""

import math
from pathlib import Path

import pytest

from lab_workbench.engine.runs.curves import differing, final_against_field, points, smooth
from lab_workbench.engine.runs.info import RunInfo

NAN = float("nan")
ROWS = [{"epoch": 1, "train_loss": 1.0, "val_loss": 2.0}, {"epoch": 2, "train_loss": 0.8, "val_loss": NAN},
        {"epoch": 3, "train_loss": 0.7, "val_loss": 1.0}, {"epoch": 4, "train_loss": 0.6, "val_loss": 0.5}]


def test_smoothing_corrects_the_early_bias_and_skips_nan():
    # debiased EMA by hand, alpha 0.6: the first value is the data; NaN is kept and not averaged in
    a = 0.6
    second = (a * (1 - a) * 2.0 + (1 - a) * 1.0) / (1 - a ** 2)
    got = smooth([2.0, NAN, 1.0], a)
    assert got[0] == 2.0 and math.isnan(got[1]) and math.isclose(got[2], second)
    assert smooth([3.0, 1.0], 0.0) == [3.0, 1.0]


def test_cli_and_tui_draw_the_same_smoothed_values(monkeypatch):
    import lab_workbench.commands.plots as plots
    from lab_workbench.commands.compare import overlay
    from lab_workbench.tui.widgets.curve_plot import CurvePlot

    cli = []
    monkeypatch.setattr(plots, "plot_series", lambda plt, i, x, y: cli.append(list(y)))
    overlay([RunInfo(Path("a"), {}, rows=ROWS)], "val_loss", False, 0.6)

    tui = []
    plot = CurvePlot("loss", "loss")
    plot.plt.plot = lambda x, y, **kw: tui.append(list(y))
    plot.smoothing = 0.6
    plot.set_rows(ROWS, splits=("val",))
    _, values = points(ROWS, "val_loss")
    assert cli == tui == [smooth(values, 0.6)]
    assert cli[0][0] == 2.0  # no pull towards 0 at the start


def test_one_list_of_fields_that_never_differ():
    from lab_workbench.tui.screens.compare import run_lines
    base = {"lr": 0.1, "model": "mlp", "device": "cpu", "data_dir": "/a", "download": False, "name": "x"}
    other = {**base, "lr": 0.01, "device": "cuda", "data_dir": "/b", "download": True, "name": "y"}
    assert differing([base, other]) == ["lr"]
    runs = [RunInfo(Path("x"), base), RunInfo(Path("y"), other)]
    lines = run_lines(runs)
    assert "--lr 0.1" in lines[0] and "data" not in " ".join(lines) and "cuda" not in " ".join(lines)


def test_sweep_curve_keeps_the_values_as_given_and_leaves_out_a_nan_final():
    configs = [{"l2": 0}, {"l2": 1e-4}, {"l2": 1e-2}, {"l2": 1e-3}]
    pairs, log = final_against_field(configs, [0.9, 0.8, NAN, 0.7], "l2")
    assert log and [p[2] for p in pairs] == [0, 1e-4, 1e-3] and [p[1] for p in pairs] == [0.9, 0.8, 0.7]
    assert final_against_field(configs, [0.9, None, 0.8, 0.7], "l2") is None
    assert final_against_field([{"l2": "a"}, {"l2": "b"}], [0.1, 0.2], "l2") is None


def test_tables_show_a_dash_for_a_number_that_is_not_finite():
    from lab_workbench.engine.core.units import percent
    assert [percent(v) for v in (0.5, None, float("nan"), float("inf"))] == ["50.00%", "-", "-", "-"]


def test_lr_find_smooths_its_loss_as_the_curves_do():
    """One debiased moving average: lr-find's running loss is smooth() of its raw losses."""
    from lab_workbench.engine.settings.config import TrainConfig
    from lab_workbench.engine.training.lr_find import lr_find
    r = lr_find(TrainConfig(model="logistic", device="cpu", subset=256, precision="fp32"), steps=20, beta=0.9)
    assert len(r.losses) >= 10 and r.smoothed == pytest.approx(smooth(r.losses, 0.9), nan_ok=True)
