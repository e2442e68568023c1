"""One percent and one byte formatter (engine.core.units) for every face: None, NaN, inf, 0 and huge values."""

import math

import pytest

from lab_workbench.engine.runs.info import RunInfo
from lab_workbench.engine.core.units import format_bytes, is_number, percent


@pytest.mark.parametrize("v, want", [
    (0.9876, "98.76%"), (0, "0.00%"), (0.0, "0.00%"), (1, "100.00%"), (-0.5, "-50.00%"),
    (None, "-"), (math.nan, "-"), (math.inf, "-"), (-math.inf, "-"), (True, "-"), ("0.5", "-"), ([0.5], "-"),
    (1e300, "1e+302%"), (10 ** 400, "-"),  # an int JSON can hold but no float can
])
def test_percent(v, want):
    assert percent(v) == want


def test_percent_digits():
    assert percent(0.98765, 1) == "98.8%" and percent(0.5, 0) == "50%"


@pytest.mark.parametrize("n, want", [
    (0, "0 B"), (1, "1 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"), (96_000, "93.75 KiB"),
    (2 << 30, "2.00 GiB"), (186 * 1024 ** 3, "186.00 GiB"), (1024 ** 4, "1.00 TiB"), (-2048, "-2.00 KiB"),
    (1024 ** 6, "1.00 EiB"), (2 ** 70, "1024.00 EiB"),  # past the last unit: more of it
    (None, "-"), (math.nan, "-"), (math.inf, "-"), (10 ** 400, "-"), (False, "-"),
])
def test_format_bytes(n, want):
    assert format_bytes(n) == want


def test_is_number_refuses_what_no_float_holds():
    assert is_number(3) and is_number(0.0) and not is_number(True) and not is_number(10 ** 400)


def test_the_compare_screen_shows_a_nan_accuracy_as_a_dash(tmp_path):
    """--monitor val_loss can pick a row whose val_acc is NaN; the compare screen printed 'nan%'."""
    from lab_workbench.tui.screens.compare import run_lines
    rows = [{"epoch": 1, "train_loss": 0.5, "train_acc": 0.5, "val_loss": 0.1, "val_acc": math.nan,
             "lr": 0.1, "seconds": 1.0}]
    info = RunInfo(tmp_path / "r", config={"model": "mlp", "monitor": "val_loss"}, rows=rows)
    assert "val -  test -" in run_lines([info])[0]
