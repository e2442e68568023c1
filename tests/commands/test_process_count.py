"""A run's results do not depend on how many processes train it (--batch-size is the global batch), and a
multi-process job survives its failures: torchrun restarts, two nodes on one machine (gloo on CPU)."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.runs.checkpoint import load_checkpoint
from tests.helpers import ROOT, lab_cmd, lab_env

# fp32: bf16 rounds a batch's gradient differently from its halves' mean; 720 training samples split evenly
# among 1, 2 and 4 processes (the last batch of 16 too)
BASE = ["--subset", "800", "--batch-size", "64", "--precision", "fp32", "--threads", "1", "--hidden", "32"]
STOPPER = Path(__file__).with_name("stopping_lab.py")


def torchrun(n: int, *args, script=None, cwd, extra=()) -> subprocess.CompletedProcess:
    target = [str(script)] if script else ["-m", "commands"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(n), *extra,
           *target, *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, env=lab_env(OMP_NUM_THREADS="1"))


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
    assert straight.returncode == 0, straight.stderr[-2000:]
    assert "2 processes x batch 32 (global 64)" in straight.stdout.splitlines()[0]
    # 12 batches an epoch (720 / 64): stopped before batch 17, i.e. 4 batches into epoch 2
    part = torchrun(2, 17, "--epochs", "3", "--name", "part", *BASE, script=STOPPER, cwd=tmp_path)
    assert part.returncode == 0, part.stderr[-2000:]
    state = load_checkpoint(runs / "part" / "last.pt")
    assert (state["epoch"], state["epoch_step"], state["world_size"]) == (1, 4, 2)
    shutil.copytree(runs / "part", runs / "part4")
    one = subprocess.run(lab_cmd("train", "--resume", "runs/part"), cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env=lab_env(OMP_NUM_THREADS="1"))
    assert one.returncode == 0, one.stderr[-2000:]
    assert "1 process x batch 64 (global 64), the run trained on 2 until now" in one.stdout.splitlines()[0]
    four = torchrun(4, "train", "--resume", "runs/part4", cwd=tmp_path)
    assert four.returncode == 0, four.stderr[-2000:]
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
