"""Crash-proof run folders: SIGKILL at many moments (some inside a save), a full disk, damaged files."""

import errno
import json
import os
import subprocess
import sys

import pytest
import torch

from tests.helpers import ROOT
from lab_workbench.engine import TrainConfig, train
from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.runs.checkpoint import load_checkpoint, save_checkpoint
from lab_workbench.engine.contract.events import METRICS_HEADER

KILLS = 36

# Forks training children from one process that imported torch once (a fresh interpreter per kill would
# spend most of the test importing), kills each with SIGKILL after a random delay, and checks the folder.
HARNESS = r"""
import glob, json, os, random, signal, sys, time
sys.path.insert(0, sys.argv[1])
import torch
from lab_workbench.engine import TrainConfig, train
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from lab_workbench.engine.runs import read_metrics
from lab_workbench.engine.training.trainer import resume_config
from lab_workbench.engine.data.sources import load_digits
load_digits()  # import scikit-learn once, in the parent

runs, kills = sys.argv[2], int(sys.argv[3])
run = os.path.join(runs, "crash")
cfg = TrainConfig(epochs=100000, subset=160, hidden=[512, 512], batch_size=64, runs_dir=runs, name="crash")
random.seed(0)
report = {"kills": 0, "in_save": 0, "loaded": 0, "rows": 0, "problems": []}

def check():
    with open(os.path.join(run, "metrics.csv")) as f:
        lines = f.read().split("\n")
    if lines[-1] != "":
        report["problems"].append(f"half row: {lines[-1]!r}")
    rows = [line.split(",") for line in lines[1:-1]]
    if any(len(r) != 7 for r in rows) or [int(r[0]) for r in rows] != list(range(1, len(rows) + 1)):
        report["problems"].append(f"bad rows: {lines[-3:]}")
    epoch = -1
    for name in ("best.pt", "last.pt"):
        path = os.path.join(run, name)
        if os.path.exists(path):
            state = load_checkpoint(path)  # raises if damaged or if the checksum does not match
            report["loaded"] += 1
            epoch = state["epoch"] if name == "last.pt" else epoch
    if rows and epoch < len(rows):
        report["problems"].append(f"row {len(rows)} not backed by last.pt (epoch {epoch})")
    report["rows"] = len(rows)

for i in range(kills):
    pid = os.fork()
    if pid == 0:
        try:
            if os.path.exists(os.path.join(run, "config.json")):
                c, d = resume_config(run, runs, epochs=100000)
                train(c, resume=d)
            else:
                train(cfg)
        finally:
            os._exit(0)
    time.sleep(random.uniform(0.4, 0.8) if i == 0 else random.uniform(0.0, 0.4))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    report["kills"] += 1
    if glob.glob(os.path.join(run, ".*.tmp")):
        report["in_save"] += 1
    if os.path.exists(os.path.join(run, "metrics.csv")):
        check()
# last.pt may be one epoch ahead of metrics.csv (killed between the save and the row); the resume restores
# that row from the checkpoint's history
done = max(report["rows"], load_checkpoint(os.path.join(run, "last.pt"))["epoch"])
c, d = resume_config(run, runs, epochs=done + 1)
train(c, resume=d)
check()
report["temp_left"] = glob.glob(os.path.join(run, ".*.tmp"))
report["final_rows"] = report["rows"]
report["expected_rows"] = done + 1
print(json.dumps(report))
"""


@pytest.mark.slow
def test_sigkill_at_many_moments_never_leaves_a_broken_run_folder(tmp_path):
    r = subprocess.run([sys.executable, "-c", HARNESS, str(ROOT), str(tmp_path / "runs"), str(KILLS)],
                       capture_output=True, text=True, timeout=400, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["kills"] == KILLS and report["problems"] == []
    # some kills landed inside a checkpoint save (random moments: how many depends on the machine's speed;
    # test_run_integrity.py kills at every write step deterministically)
    assert report["in_save"] >= 1, report
    assert report["rows"] > 10 and report["temp_left"] == []
    assert report["final_rows"] == report["expected_rows"]  # every epoch has its row after the resume


def test_a_full_disk_keeps_the_previous_checkpoint_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"model_state_dict": {"w": torch.ones(3)}, "epoch": 1})
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr("lab_workbench.engine.core.files.os.fsync", full)
    with pytest.raises(CheckpointError, match=r"last.pt: cannot write checkpoint \(No space left on device\); "
                                              r"the previous last.pt is kept"):
        save_checkpoint(path, {"model_state_dict": {"w": torch.zeros(3)}, "epoch": 2})
    assert path.read_bytes() == before and not list(tmp_path.glob(".*.tmp"))
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1  # the checksum record still matches the kept file


def test_a_full_disk_during_training_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    from lab_workbench.commands.app import main
    calls = {"n": 0}
    real = os.fsync

    def fills_up(fd):
        calls["n"] += 1
        if calls["n"] > 12:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)
    monkeypatch.setattr("lab_workbench.engine.core.files.os.fsync", fills_up)
    with pytest.raises(SystemExit) as e:
        main(["train", "--epochs", "5", "--subset", "200", "--runs-dir", str(tmp_path / "runs"), "--name", "f"])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and "No space left on device" in err[0]
    run = tmp_path / "runs" / "f"
    state = load_checkpoint(run / "last.pt")
    with open(run / "metrics.csv") as f:
        rows = f.read().splitlines()
    assert rows[0] == ",".join(METRICS_HEADER) and len(rows) - 1 == state["epoch"]


def test_a_damaged_checkpoint_is_refused_by_its_checksum(tmp_path):
    h = train(TrainConfig(epochs=1, subset=200, runs_dir=str(tmp_path / "runs")))
    path = os.path.join(h.run_dir, "last.pt")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside a tensor: torch.load would not notice
    open(path, "wb").write(bytes(data))
    with pytest.raises(CheckpointError, match="last.pt: checksum mismatch"):
        load_checkpoint(path)
