"""A run's results do not depend on how many processes train it (--batch-size is the global batch), and a
multi-process job survives its failures: torchrun restarts, two nodes on one machine (gloo on CPU)."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lab_workbench.engine.runs.checkpoint import load_checkpoint
from tests.helpers import ROOT, lab_cmd, lab_env

# fp32: bf16 rounds a batch's gradient differently from its halves' mean; 720 training samples split evenly
# among 1, 2 and 4 processes (the last batch of 16 too)
BASE = ["--subset", "800", "--batch-size", "64", "--precision", "fp32", "--threads", "1", "--hidden", "32"]
FAULTY = Path(__file__).with_name("faulty_lab.py")


def torchrun(n: int, *args, script=None, cwd, extra=()) -> subprocess.CompletedProcess:
    target = [str(script)] if script else ["-m", "lab_workbench.commands"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(n), *extra,
           *target, *map(str, args)]
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=lab_env(OMP_NUM_THREADS="1"))
    return finish(p, cmd)


def finish(p: subprocess.Popen, cmd, timeout=300) -> subprocess.CompletedProcess:
    """Wait for torchrun; past the timeout, SIGTERM: torchrun stops its workers (each in its own session, out of
    reach of a kill of torchrun alone), SIGKILLing the ones that do not end."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.terminate()
        out, err = p.communicate(timeout=120)
        pytest.fail(f"torchrun ran past {timeout}s: {err[-3000:]}")
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def assert_same_results(a: Path, b: Path, metrics_tol=1e-5, weights_tol=1e-6) -> None:
    ra, rb = rows(a), rows(b)
    assert [r["epoch"] for r in ra] == [r["epoch"] for r in rb]
    for x, y in zip(ra, rb):
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            assert abs(float(x[key]) - float(y[key])) <= metrics_tol, (x["epoch"], key, x[key], y[key])
    wa = load_checkpoint(a / "last.pt")["model_state_dict"]
    wb = load_checkpoint(b / "last.pt")["model_state_dict"]
    for k in wa:
        assert (wa[k] - wb[k]).abs().max().item() <= weights_tol, k


@pytest.mark.slow
def test_a_two_process_run_resumed_mid_epoch_on_one_or_four_processes_matches_the_straight_run(tmp_path):
    runs = tmp_path / "runs"
    straight = torchrun(2, "train", "--epochs", "3", "--name", "straight", *BASE, cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr[:3000]
    assert "2 processes x batch 32 (global 64)" in straight.stdout.splitlines()[0]
    # two processes write one run, and only rank 0 prints (was test_train_cli.py's own torchrun run)
    epochs = [line.split()[1] for line in straight.stdout.splitlines() if line.startswith("epoch ")]
    assert epochs == ["1/3", "2/3", "3/3"]
    assert [p.name for p in runs.iterdir()] == ["straight"]
    cfg = json.loads((runs / "straight" / "config.json").read_text())
    results = json.loads((runs / "straight" / "results.json").read_text())
    assert cfg["world_size"] == 2 and results["status"] == "completed" and results["test"]["accuracy"] > 0.5
    # 12 batches an epoch (720 / 64): stopped before batch 17, i.e. 4 batches into epoch 2
    part = torchrun(2, "stop", 17, "--epochs", "3", "--name", "part", *BASE, script=FAULTY, cwd=tmp_path)
    assert part.returncode == 0, part.stderr[:3000]
    state = load_checkpoint(runs / "part" / "last.pt")
    assert (state["epoch"], state["epoch_step"], state["world_size"]) == (1, 4, 2)
    shutil.copytree(runs / "part", runs / "part4")
    one = subprocess.run(lab_cmd("train", "--resume", "runs/part"), cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env=lab_env(OMP_NUM_THREADS="1"))
    assert one.returncode == 0, one.stderr[:3000]
    assert "1 process x batch 64 (global 64), the run trained on 2 until now" in one.stdout.splitlines()[0]
    four = torchrun(4, "train", "--resume", "runs/part4", cwd=tmp_path)
    assert four.returncode == 0, four.stderr[:3000]
    assert "4 processes x batch 16 (global 64)" in four.stdout.splitlines()[0]
    for resumed in ("part", "part4"):
        assert json.loads((runs / resumed / "config.json").read_text())["config"]["batch_size"] == 64
        assert_same_results(runs / "straight", runs / resumed)


@pytest.mark.slow
def test_a_global_batch_that_the_processes_cannot_share_is_one_clear_error(tmp_path):
    r = torchrun(4, "train", "--epochs", "1", "--batch-size", "30", *BASE[:2], cwd=tmp_path)
    assert r.returncode != 0
    assert "error: --batch-size 30: the global batch must split evenly among the 4 processes" in r.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def one_process(name: str, cwd: Path, *args) -> Path:
    r = subprocess.run(lab_cmd("train", "--epochs", "3", "--name", name, *BASE, *args), cwd=cwd, capture_output=True,
                       text=True, timeout=300, env=lab_env(OMP_NUM_THREADS="1"))
    assert r.returncode == 0, r.stderr[:3000]
    return cwd / "runs" / name


@pytest.fixture(scope="module")
def one_run(tmp_path_factory) -> Path:
    """The straight one-process run that both restart tests compare with, trained once (they only read it)."""
    return one_process("one", tmp_path_factory.mktemp("one"))


@pytest.mark.slow
def test_a_worker_killed_mid_epoch_restarts_the_group_which_resumes_the_same_run(tmp_path, one_run):
    # rank 1 dies by SIGKILL before batch 17 (epoch 2, batch 5) on the first try; torchrun stops rank 0 and
    # starts both again, and --resume auto continues the run from its last checkpoint (epoch 1's end)
    r = torchrun(2, "kill", 17, "--epochs", "3", "--name", "job", "--resume", "auto", *BASE, script=FAULTY,
                 cwd=tmp_path, extra=["--max-restarts", "2"])
    assert r.returncode == 0, r.stderr[:3000]
    assert "exitcode: -9" in r.stderr or "Signal 9" in r.stderr or "SIGKILL" in r.stderr, r.stderr[:3000]
    # the rank that outlived it says so in one line, not a traceback
    assert "error: rank 0: another process of this run has ended" in r.stderr and "Traceback" not in r.stderr
    runs = tmp_path / "runs"
    assert [p.name for p in runs.iterdir()] == ["job"]
    config = json.loads((runs / "job" / "config.json").read_text())
    assert [(x["epoch"], x["step"]) for x in config["resumes"]] == [(1, 0)]
    assert json.loads((runs / "job" / "results.json").read_text())["status"] == "completed"
    assert_same_results(one_run, runs / "job")  # epochs 1, 2, 3, each once


@pytest.mark.slow
def test_two_nodes_on_one_machine_train_the_same_metrics_as_one_process(tmp_path, one_run):
    import socket
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    nodes = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node-rank", str(rank),
         "--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-endpoint", f"localhost:{port}", "--rdzv-id",
         "two", "-m", "lab_workbench.commands", "train", "--epochs", "3", "--name", "two", *BASE],
        cwd=tmp_path, env=lab_env(OMP_NUM_THREADS="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for rank in (0, 1)]
    done = [finish(p, p.args) for p in nodes]
    assert [r.returncode for r in done] == [0, 0], done[0].stderr[:3000] + done[1].stderr[:3000]
    first = next(r.stdout for r in done if r.stdout).splitlines()[0]  # rank 0 prints, on whichever node it is
    assert "2 processes x batch 32 (global 64)" in first
    assert_same_results(one_run, tmp_path / "runs" / "two")
