"""Every `lab` table fits the terminal (issue 24: `lab runs` was 114 columns and wrapped at 80)."""

import time

import pytest

from lab_workbench.commands.textviz import middle_cut, table
from tests.helpers import fake_run, lab_here


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_lab_runs_fits_80_columns(tmp_path, monkeypatch, utc):
    runs = tmp_path / "runs"
    fake_run(runs, "fashion-resnet-20261129-201017", "resnet", "fashion", [0.81, 0.9012], 0.8899,
             created=1_790_000_100)
    fake_run(runs, "digits-mlp-20261129-195512", "mlp", "digits", [0.95], 0.9612, status="early-stopped")
    monkeypatch.setenv("COLUMNS", "80")
    r = lab_here("runs", "--runs-dir", runs, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "run                             status         model   epochs  best val    test\n"
        "------------------------------  -------------  ------  ------  --------  ------\n"
        "fashion-resnet-20261129-201017  completed      resnet    2/10    90.12%  88.99%\n"
        "digits-mlp-20261129-195512      early-stopped  mlp       1/10    95.00%  96.12%\n")
    monkeypatch.setenv("COLUMNS", "120")
    wide = lab_here("runs", "--runs-dir", runs, cwd=tmp_path).stdout.splitlines()
    assert wide[0].split() == ["run", "status", "data", "model", "epochs", "best", "val", "test", "train", "time",
                               "created"]
    assert wide[2].endswith("25.0s  2026-09-21 14:15") and max(map(len, wide)) <= 120


def test_a_narrow_terminal_cuts_the_name_in_the_middle_and_keeps_the_first_two_columns():
    rows = [["digits-mlp-20261129-195512", "completed", "mlp", "95.00%"]]
    text = table(rows, ["run", "status", "model", "best"], width=30)
    assert text.splitlines() == ["run                     status", "-------------------  ---------",
                                 "digits-ml~29-195512  completed"]
    assert middle_cut("abcdef", 6) == "abcdef" and middle_cut("abcdefgh", 5) == "ab~gh"
    assert table(rows, ["run", "status", "model", "best"], width=None).splitlines()[2].endswith("95.00%")


def test_a_ten_class_confusion_matrix_fits_80_columns_with_every_number_whole():
    import numpy as np
    from lab_workbench.commands.textviz import confusion_grid
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    cm = np.arange(100).reshape(10, 10) * 11
    lines = confusion_grid(cm, classes, width=80).splitlines()
    assert max(map(len, lines)) <= 80 and lines[1].split()[:3] == ["T-sh~", "Trou~", "Pull~"]
    assert lines[-1].split()[-3:] == ["1067", "1078", "1089"] and lines[2].startswith("T-shirt/top")
    assert max(map(len, confusion_grid(cm, classes, width=None).splitlines())) > 80  # a pipe gets it all


def test_lab_models_wraps_its_descriptions_at_the_terminal_width(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lines = lab_here("models", cwd=tmp_path).stdout.splitlines()
    assert max(map(len, lines)) <= 80 and any(line.startswith("          ") for line in lines)
