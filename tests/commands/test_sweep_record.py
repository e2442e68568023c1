"""A sweep's record never lies (issue 33.5): a resume with other flags is refused and sweep.json is kept; a
point's tracker warning reaches the sweep's own output; points choose their threads as `lab train` does."""

import json

import pytest

from tests.helpers import lab_here

ONE = ["--grid", "l2=0", "--epochs", "1", "--subset", "100"]


def test_a_resume_with_other_flags_is_refused_and_the_record_kept(tmp_path):
    assert lab_here("sweep", "s", *ONE, cwd=tmp_path).returncode == 0
    record = tmp_path / "runs" / "s" / "sweep.json"
    before = record.read_bytes()
    r = lab_here("sweep", "s", *ONE, "--resume", "--epochs", "7", "--lr", "0.5", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--epochs 1 -> 7" in r.stderr and "--lr default -> 0.5" in r.stderr, r.stderr
    assert record.read_bytes() == before
    r = lab_here("sweep", "s", "--grid", "l2=0,0.1", "--epochs", "1", "--subset", "100", "--resume", cwd=tmp_path)
    assert r.returncode == 2 and "--grid" in r.stderr and record.read_bytes() == before, r.stderr
    r = lab_here("sweep", "s", *ONE, "--resume", "--jobs", "2", cwd=tmp_path)  # how, not what: allowed
    assert r.returncode == 0, r.stderr
    assert json.loads(record.read_bytes())["settings"] == json.loads(before)["settings"]


def test_a_points_tracker_warning_reaches_the_sweeps_output(tmp_path):
    pytest.importorskip("mlflow")
    r = lab_here("sweep", "w", *ONE, "--log-to", "mlflow", "--mlflow-uri", "http://127.0.0.1:9", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "l2=0: warning: --log-to mlflow: http://127.0.0.1:9 is not reachable" in r.stderr, r.stderr


def test_points_choose_their_threads_as_lab_train_does(tmp_path, monkeypatch):
    from lab_workbench.commands.sweep_common import Runner
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # a user's own setting passes through untouched
    env = Runner(tmp_path, jobs=2, total=4).env(slot=1)
    assert env["OMP_NUM_THREADS"] == "3" and env["LAB_LOCAL_PROCESSES"] == "2"
    monkeypatch.delenv("OMP_NUM_THREADS")
    env = Runner(tmp_path, jobs=2, total=4).env(slot=1)
    assert "OMP_NUM_THREADS" not in env and "MKL_NUM_THREADS" not in env  # the point decides, busy cores seen


def test_a_process_of_a_sweep_takes_its_share_of_the_idle_cpus(monkeypatch):
    from lab_workbench.engine.runtime import threads
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("LAB_LOCAL_PROCESSES", "2")
    monkeypatch.setattr(threads, "available_cpus", lambda: 8)
    monkeypatch.setattr(threads, "idle_cpus", lambda: 8)
    assert threads.default_threads() == 4
    monkeypatch.setattr(threads, "idle_cpus", lambda: 3)  # a busy machine: lab train's own check
    assert threads.default_threads() == 3
