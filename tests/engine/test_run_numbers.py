"""One parser for every number read from a run folder: NaN, inf, negative and huge values never raise."""

import math

from lab_workbench.engine.runs import number, parse_metrics


def test_number_keeps_what_is_in_bounds_and_defaults_the_rest():
    assert number("0.5") == 0.5 and number(b"3") == 3.0 and number(7) == 7.0
    for bad in ("nan", float("nan"), "inf", float("-inf"), "1e308", 10 ** 400, True, None, "x", [1], "9" * 100):
        assert number(bad, default="d") == "d", bad
    assert number(-1, 0) is None and number(2, 0, 1) is None and number(1, 0, 1) == 1.0


def test_metrics_rows_read_nan_inf_and_huge_as_nan_and_bad_seconds_as_zero():
    rows = parse_metrics(b"h\n1,nan,inf,1e300,0.5,-inf,nan\n2,0.1,0.9,0.2,0.8,0.01,-4\n-1,1,1,1,1,1,1\n1.5,1,1,1,1,1,1\n")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(math.isnan(rows[0][k]) for k in ("train_loss", "train_acc", "val_loss", "lr"))
    assert rows[0]["val_acc"] == 0.5 and rows[0]["seconds"] == 0.0 and rows[1]["seconds"] == 0.0
