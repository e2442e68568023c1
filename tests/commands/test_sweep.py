"""`lab sweep` and `lab compare`: a 2x2 grid, interrupted and resumed; bad grids refused before any run."""

import json
import os
import signal
import subprocess

import pytest

from tests.helpers import ROOT, lab_cmd, lab_here

GRID = ["--grid", "l2=0,1e-3", "--grid", "dropout=0,0.4", "--epochs", "1", "--subset", "300"]


def test_a_sweep_interrupted_and_resumed_runs_each_point_once(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen(lab_cmd("sweep", "s", *GRID), cwd=tmp_path, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()  # "[1/4] ...": one point done
    assert first.startswith("[1/4]"), first + p.stderr.read()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    sweep = tmp_path / "runs" / "s"
    summary = json.loads((sweep / "summary.json").read_text())
    done = [r["point"] for r in summary if r["status"] == "completed"]
    assert 1 <= len(done) < 4
    stamp = {d: (sweep / d / "results.json").stat().st_mtime_ns for d in done}
    r = subprocess.run(lab_cmd("sweep", "s", *GRID, "--resume"), cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert {d: (sweep / d / "results.json").stat().st_mtime_ns for d in done} == stamp  # not run again
    summary = json.loads((sweep / "summary.json").read_text())
    assert [r["status"] for r in summary] == ["completed"] * 4
    assert [(r["l2"], r["dropout"]) for r in summary] == [("0", "0"), ("0", "0.4"), ("1e-3", "0"), ("1e-3", "0.4")]
    header = (sweep / "summary.csv").read_text().splitlines()[0]
    assert header.startswith("point,l2,dropout,status,best_val_acc")
    for point in summary:
        cfg = json.loads((sweep / point["point"] / "config.json").read_text())["config"]
        assert str(cfg["l2"]) in ("0.0", "0.001") and cfg["dropout"] == float(point["dropout"])
        assert cfg["epochs"] == 1
    listing = json.loads(lab_here("runs", "--json", cwd=tmp_path).stdout)
    assert sorted(r["name"] for r in listing) == sorted(f"s/{p['point']}" for p in summary)
    cmp = json.loads(lab_here("compare", "runs/s", "--json", cwd=tmp_path).stdout)
    assert cmp["differing"] == ["dropout", "l2"] and len(cmp["runs"]) == 4
    text = lab_here("compare", "runs/s", cwd=tmp_path).stdout
    assert "val_acc (%) per epoch" in text and "dropout" in text.splitlines()[0]


@pytest.mark.parametrize("grid, message", [
    (["--grid", "nosuch=1,2"], "--grid nosuch: not a field"),
    (["--grid", "l2=a,b"], "--grid l2=a: expected a finite number"),
    (["--grid", "l2="], "--grid l2: expected at least one value"),
    (["--grid", "l2=0,1", "--grid", "dropout=0,0.1,0.2", "--max-runs", "4"], "6 points, more than --max-runs 4"),
    (["--grid", "dropout=0,1.5"], "dropout=1.5"),
    (["--grid", "name=a,b"], "--grid name: not a field"),
])
def test_bad_grids_are_refused_before_anything_starts(tmp_path, grid, message):
    r = lab_here("sweep", "bad", *grid, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_a_failed_point_is_reported_and_the_others_run(tmp_path):
    r = lab_here("sweep", "f", "--grid", "model=mlp,cnn", "--dataset", "moons", "--epochs", "1",
                 "--subset", "200", cwd=tmp_path)
    # a conv net on 2-D points is known to fail only once the data is there: the cnn point fails with a
    # one-line error, the mlp point runs
    assert r.returncode == 1 and "1 of 2 points did not complete: model=cnn" in r.stderr, r.stderr
    summary = {p["point"]: p["status"] for p in json.loads((tmp_path / "runs" / "f" / "summary.json").read_text())}
    assert summary == {"model=mlp": "completed", "model=cnn": "failed"}
    assert "holds 2-D points, not images" in (tmp_path / "runs" / "f" / "logs" / "model=cnn.out").read_text()
