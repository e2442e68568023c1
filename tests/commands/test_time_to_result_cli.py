"""Issue 25: the last line of `lab train` gives the wall time beside the training time; --subset and
--eval-subset say what they apply to."""

import re

from tests.helpers import lab_here, run_lab


def test_last_line_prints_train_and_wall_seconds_and_the_first_line_the_splits(tmp_path):
    r = run_lab("train", "-e", "1", "--subset", "300", "--eval-subset", "40", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert "train/val/test 270/30/40 of 359 (--eval-subset) (--subset 300: train+val)" in lines[0]
    m = re.search(r"train=(\d+\.\d+)s wall=(\d+\.\d+)s", lines[-1])
    assert m and 0 < float(m.group(1)) < float(m.group(2)), lines[-1]


def test_subset_help_says_what_it_applies_to(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    r = lab_here("train", "--help", cwd=tmp_path)
    text = " ".join(r.stdout.split())
    assert "for training and validation; the test split stays whole" in text and "--eval-subset" in text
