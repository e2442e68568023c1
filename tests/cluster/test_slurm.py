"""Runs tests/cluster/slurm_requeue.sh (a real one-node Slurm) when Slurm is installed; skipped otherwise."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT

SCRIPT = ROOT / "tests" / "cluster" / "slurm_requeue.sh"


@pytest.mark.slow
def test_a_slurm_job_signalled_with_usr1_requeues_and_resumes_the_same_run(tmp_path):
    _slurm_or_skip()
    # 12 epochs (the script's default is 25): the USR1 comes after 3, so 9 are left to stop, requeue and resume in
    env = {**os.environ, "LAB": f"{sys.executable} -m lab_workbench.commands", "PYTHONPATH": str(ROOT), "EPOCHS": "12"}
    r = subprocess.run(["bash", str(SCRIPT), str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    print(r.stdout[-3000:])
    assert r.returncode == 0 and "PASS:" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]


CLUSTER = ROOT / "tests" / "cluster" / "slurm_cluster.sh"


def _slurm_or_skip():
    missing = [c for c in ("sbatch", "slurmctld", "slurmd", "munged") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"Slurm is not installed here ({', '.join(missing)} not on PATH); "
                    f"`apt-get install slurm-wlm munge` to run this test")
    if os.geteuid() != 0:
        pytest.skip("the one-node Slurm of this test runs its daemons as root")


@pytest.fixture
def slurm(tmp_path):
    """A one-node Slurm for this test (tests/cluster/slurm_cluster.sh); the environment that reaches it."""
    _slurm_or_skip()
    work = tmp_path / "slurm"
    r = subprocess.run(["bash", str(CLUSTER), "start", str(work)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    env = {**os.environ, "SLURM_CONF": str(work / "slurm.conf"), "PYTHONPATH": str(ROOT)}
    env.pop("OMP_NUM_THREADS", None)  # the tasks size their threads from their allocation, as on a cluster
    yield env
    subprocess.run(["bash", str(CLUSTER), "stop", str(work)], timeout=60)


def _wait(predicate, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_slurm_sweep_with_a_preempted_point_finishes_with_four_runs_each_epoch_once(tmp_path, slurm):
    lab = [sys.executable, "-P", "-m", "lab_workbench.commands"]
    grid = ["--grid", "l2=0,1e-3", "--grid", "dropout=0,0.2", "--epochs", "2", "--subset", "900", "--model", "cnn",
            "-K", "8", "-H", "16", "--batch-size", "2"]  # ~2 s epochs: time to preempt one
    r = subprocess.run([*lab, "sweep", "s", *grid, "--slurm", "-j", "2", "--sbatch", "--cpus-per-task=1"],
                       cwd=tmp_path, env=slurm, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "submitted Slurm array job" in r.stdout, r.stdout + r.stderr
    job = r.stdout.split("array job ")[1].split(":")[0]
    folder = tmp_path / "runs" / "s"
    status = subprocess.run([*lab, "sweep", "s", "--status"], cwd=tmp_path, env=slurm, capture_output=True,
                            text=True, timeout=120)
    assert status.returncode == 0 and ("PENDING" in status.stdout or "RUNNING" in status.stdout), status.stdout

    # preempt the first point mid-training: USR1 to its batch step, as Slurm sends before a limit
    _wait(lambda: (folder / "l2=0_dropout=0" / "progress.json").is_file(), 300, "point 0 to start training")
    # scancel goes on retrying ("job can not be altered now") once the task is requeued: do not wait for it
    scancel = subprocess.Popen(["scancel", "--signal=USR1", "--batch", f"{job}_0"], env=slurm,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out0 = folder / "logs" / "l2=0_dropout=0.out"
    _wait(lambda: "SIGUSR1" in out0.read_text(), 120, "point 0 to get USR1")
    scancel.kill()  # or it would signal the task again once it restarts
    queued = lambda: subprocess.run(["squeue", "-h", "-r", "-j", job, "-o", "%i %T"], env=slurm, capture_output=True,
                                    text=True, timeout=60).stdout
    end = time.monotonic() + 500
    while queued().strip() and time.monotonic() < end:  # a requeued task waits for its begin time: release it
        if f"{job}_0 PENDING" in queued():
            subprocess.run(["scontrol", "update", f"JobId={job}_0", "StartTime=now"], env=slurm, timeout=60)
        time.sleep(1)
    assert not queued().strip(), queued()

    text = out0.read_text()
    assert text.count("SIGUSR1") == 1 and "requeueing Slurm job" in text, text[-3000:]
    assert "resuming runs/s/l2=0_dropout=0 at epoch" in text, text[-3000:]
    points = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name != "logs")
    assert points == ["l2=0_dropout=0", "l2=0_dropout=0.2", "l2=1e-3_dropout=0", "l2=1e-3_dropout=0.2"]
    for p in points:
        epochs = [line.split(",")[0] for line in (folder / p / "metrics.csv").read_text().splitlines()[1:]]
        assert epochs == ["1", "2"], (p, epochs)
    summary = json.loads((folder / "summary.json").read_text())  # written by the last task to end
    assert [row["status"] for row in summary] == ["completed"] * 4
    status = subprocess.run([*lab, "sweep", "s", "--status"], cwd=tmp_path, env=slurm, capture_output=True,
                            text=True, timeout=120)
    assert status.returncode == 0 and "4 of 4 points ended" in status.stdout, status.stdout + status.stderr


@pytest.mark.slow
def test_slurm_array_tasks_draw_the_trials_of_one_optuna_study(tmp_path, slurm):
    pytest.importorskip("optuna")
    lab = [sys.executable, "-P", "-m", "lab_workbench.commands"]
    r = subprocess.run([*lab, "sweep", "o", "--search", "random", "--trials", "3", "--param", "lr=log:1e-3..1e-1",
                        "--epochs", "2", "--subset", "200", "--slurm", "-j", "2", "--sbatch", "--cpus-per-task=1"],
                       cwd=tmp_path, env=slurm, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "3 trial(s) of the study" in r.stdout, r.stdout + r.stderr
    job = r.stdout.split("array job ")[1].split(":")[0]
    _wait(lambda: not subprocess.run(["squeue", "-h", "-j", job], env=slurm, capture_output=True, text=True,
                                     timeout=60).stdout.strip(), 400, "the array to finish")
    folder = tmp_path / "runs" / "o"
    runs = sorted(p.name for p in folder.iterdir() if p.name.startswith("trial-"))
    assert runs == ["trial-000", "trial-001", "trial-002"], runs
    summary = json.loads((folder / "summary.json").read_text())  # written by the task that ended the study
    assert [row["state"] for row in summary] == ["COMPLETE"] * 3
    workers = {json.loads((folder / run / "progress.json").read_text())["pid"] for run in runs}
    assert len(workers) == 3  # one array task per trial
    shown = subprocess.run([*lab, "sweep", "o"], cwd=tmp_path, env=slurm, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "best: trial-00" in shown.stdout, shown.stdout + shown.stderr
