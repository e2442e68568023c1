"""`lab sweep --slurm` without a cluster: the record, the array script and the sbatch call (a stand-in
sbatch on PATH), array tasks run by hand, --status and --resume. The real Slurm test is in tests/cluster/."""

import json
import os
import subprocess

import pytest

from tests.helpers import lab_env, lab_here

GRID = ["--grid", "l2=0,1e-3", "-e", "1", "--subset", "100"]


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    """sbatch that records its arguments and answers job 4242; squeue that reports what queue.txt holds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "sbatch.calls"
    (bin_dir / "sbatch").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {calls}\necho 4242\n')
    (bin_dir / "squeue").write_text(f"#!/bin/sh\ncat {tmp_path / 'queue.txt'} 2>/dev/null\n")
    (bin_dir / "sacct").write_text("#!/bin/sh\nexit 1\n")  # accounting off, as on many small clusters
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return calls


def test_slurm_writes_the_record_and_the_array_script_and_submits_it(tmp_path, fake_slurm):
    r = lab_here("sweep", "s", "--grid", "l2=0,1e-3", "--grid", "dropout=0,0.2", "-e", "1", "--slurm", "-j", "2",
                 "--sbatch", "--partition debug --time 10", cwd=tmp_path)
    assert r.returncode == 0 and "submitted Slurm array job 4242: 4 point(s), 2 at a time" in r.stdout, r.stderr
    folder = tmp_path / "runs" / "s"
    script = (folder / "sweep.sbatch").read_text()
    for line in ("#SBATCH --array=0-3%2", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@",
                 f"#SBATCH --chdir={tmp_path}", f"#SBATCH --output={folder.resolve()}/logs/slurm-%a.out"):
        assert line in script
    assert script.rstrip().endswith("-P -m lab_workbench.commands sweep s --runs-dir runs --slurm-task")
    assert fake_slurm.read_text().splitlines() == ["--parsable", "--array=0-3%2", "--partition", "debug", "--time",
                                                   "10", str(folder / "sweep.sbatch")]
    record = json.loads((folder / "sweep.json").read_text())
    assert record["slurm"]["jobs"][0]["job"] == "4242" and record["slurm"]["jobs"][0]["points"] == [0, 1, 2, 3]
    assert sorted(p.name for p in folder.iterdir()) == ["logs", "sweep.json", "sweep.sbatch"]  # nothing trained


def run_task(tmp_path, index):
    """What Slurm runs for array task `index`: the script itself, in the folder it names."""
    env = lab_env(SLURM_ARRAY_TASK_ID=str(index), SLURM_JOB_ID=str(5000 + index))
    return subprocess.run(["bash", "runs/s/sweep.sbatch"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_array_tasks_train_their_points_and_the_last_writes_the_summary(tmp_path, fake_slurm):
    assert lab_here("sweep", "s", *GRID, "--slurm", cwd=tmp_path).returncode == 0
    folder = tmp_path / "runs" / "s"
    (tmp_path / "queue.txt").write_text("4242|1|PENDING\n")
    status = lab_here("sweep", "s", "--status", "--json", cwd=tmp_path)
    assert [(p["status"], p["slurm"]) for p in json.loads(status.stdout)] == [("pending", "-"), ("pending", "PENDING")]
    r = run_task(tmp_path, 0)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (folder / "l2=0" / "results.json").is_file() and not (folder / "l2=1e-3").exists()
    assert "point l2=0" in r.stdout and "summary" not in r.stdout  # one point of two: no summary yet
    # a resubmission while a point is still queued is refused; once Slurm forgets it, only it is resubmitted
    r = lab_here("sweep", "s", *GRID, "--slurm", "--resume", cwd=tmp_path)
    assert r.returncode == 2 and "l2=1e-3 still queued or running in Slurm" in r.stderr, r.stderr
    (tmp_path / "queue.txt").write_text("")
    assert lab_here("sweep", "s", *GRID, "--slurm", "--resume", cwd=tmp_path).returncode == 0
    assert fake_slurm.read_text().splitlines()[-2] == "--array=1"
    r = run_task(tmp_path, 1)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads((folder / "summary.json").read_text())
    assert [(p["point"], p["status"]) for p in summary] == [("l2=0", "completed"), ("l2=1e-3", "completed")]
    status = lab_here("sweep", "s", "--status", cwd=tmp_path)
    assert status.returncode == 0 and "2 of 2 points ended" in status.stdout, status.stderr


def test_a_task_that_fails_before_its_run_folder_is_reported_failed(tmp_path, fake_slurm):
    # a conv net on 2-D points: lab train refuses it once the data is there, before it makes a run folder
    assert lab_here("sweep", "s", "--grid", "model=cnn", "--dataset", "moons", "-e", "1", "--slurm",
                    cwd=tmp_path).returncode == 0
    assert run_task(tmp_path, 0).returncode == 2
    summary = json.loads((tmp_path / "runs" / "s" / "summary.json").read_text())
    assert [p["status"] for p in summary] == ["failed"]


@pytest.mark.parametrize("args, message", [
    (["--status", "--epochs", "3"], "--epochs: not with --status"),
    (["--status", "--grid", "l2=0"], "--grid: not with --status"),
    (["--grid", "l2=0", "--sbatch", "-p x"], "--sbatch: only with --slurm"),
    (["--grid", "l2=0", "--slurm", "--sbatch", "'"], "--sbatch: cannot split"),
    (["--status"], "no sweep here"),
    (["-e", "1"], "--grid: expected at least one"),
])
def test_bad_slurm_and_status_flags_are_one_line(tmp_path, args, message):
    r = lab_here("sweep", "s", *args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_slurm_without_sbatch_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    r = lab_here("sweep", "s", *GRID, "--slurm", cwd=tmp_path)
    assert r.returncode == 2 and "--slurm: sbatch is not on PATH" in r.stderr, r.stderr
