"""The run folder under kills at every write step: `--resume auto` always continues the same run, and every
complete checkpoint is accepted (sealed with its own SHA-256, whatever checkpoints.json says)."""

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.helpers import ROOT
from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.runs.checkpoint import load_checkpoint, save_checkpoint

# Forks one child per start from a process that imported torch and the CLI once. A child with
# LAB_CRASH_AT_WRITE=N dies (os._exit) at its Nth write step. For every N: a first start killed at step N,
# the restart killed at its own step N, then a plain `--resume auto` that must finish the same run.
HARNESS = r"""
import glob, json, os, shutil, sys
sys.path.insert(0, sys.argv[1])
import torch
from lab_workbench.commands.app import main
import lab_workbench.engine.core.files as files
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from lab_workbench.engine.runs import read_metrics
from lab_workbench.engine.data.sources import load_digits
load_digits()
torch.optim.Adam([torch.zeros(1, requires_grad=True)])

runs = sys.argv[2]
job = os.path.join(runs, "job")
ARGS = ["train", "--resume", "auto", "--name", "job", "--runs-dir", runs, "--epochs", "2", "--subset", "40",
        "--hidden", "4", "--batch-size", "32", "--quiet"]
report = {"steps": 0, "problems": []}

def start(crash_at):
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1), os.dup2(null, 2)
        os.environ[files.CRASH_ENV] = str(crash_at)
        files._steps[0] = 0
        try:
            main(ARGS)
        except SystemExit as e:
            os._exit(e.code if isinstance(e.code, int) else 1)
        except BaseException:
            os._exit(3)
        os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

def check(n, when):
    if sorted(os.listdir(runs)) not in (["job"], []):
        report["problems"].append(f"step {n} {when}: forked {sorted(os.listdir(runs))}")
    for name in ("best.pt", "last.pt"):
        if os.path.exists(os.path.join(job, name)):
            try:
                load_checkpoint(os.path.join(job, name))
            except Exception as e:
                report["problems"].append(f"step {n} {when}: {name} refused: {e}")

n = 0
while True:
    n += 1
    shutil.rmtree(runs, ignore_errors=True)
    os.makedirs(runs)
    first = start(n)
    if first == 0:
        break  # the whole first start has fewer than n write steps: every step was killed once
    if first != 137:
        report["problems"].append(f"step {n}: first start exited {first}")
    check(n, "after one kill")
    done = os.path.exists(os.path.join(job, "results.json"))  # finished already: a resume says "ask for more"
    second = start(n)
    if second not in ((0, 137, 2) if done else (0, 137)):
        report["problems"].append(f"step {n}: the restart exited {second}")
    check(n, "after two kills")
    done = os.path.exists(os.path.join(job, "results.json"))  # finished already: a resume says "ask for more"
    last = start(0)
    check(n, "at the end")
    results = json.load(open(os.path.join(job, "results.json"))) if last == 0 or done else {}
    epochs = [r["epoch"] for r in read_metrics(os.path.join(job, "metrics.csv"))]
    if last not in ((0, 2) if done else (0,)) or results.get("status") != "completed" or epochs != [1, 2] \
            or load_checkpoint(os.path.join(job, "last.pt"))["epoch"] != 2:
        report["problems"].append(f"step {n}: --resume auto did not finish the run (exit {last}, {epochs})")
    if glob.glob(os.path.join(job, ".*.tmp")):
        report["problems"].append(f"step {n}: temp files left")
    report["steps"] = n
print(json.dumps(report))
"""


@pytest.mark.slow
def test_a_kill_at_every_write_step_twice_never_forks_or_loses_the_run(tmp_path):
    r = subprocess.run([sys.executable, "-c", HARNESS, str(ROOT), str(tmp_path / "runs")], capture_output=True,
                       text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["steps"] > 25, report  # lock, config.json, metrics.csv, 2 x (best.pt, last.pt, row), results
    assert report["problems"] == [], report["problems"][:10]


def test_a_kill_after_metrics_before_config_leaves_a_folder_that_auto_resume_takes_again(tmp_path):
    # what an older lab left when killed at the config.json write: .lock, metrics.csv and a temp config
    from lab_workbench.commands.app import main
    job = tmp_path / "runs" / "job"
    job.mkdir(parents=True)
    (job / ".lock").write_text("")
    (job / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n")
    (job / ".config.json.1234abcd.tmp").write_text("{")
    try:
        main(["train", "--resume", "auto", "--name", "job", "--runs-dir", str(tmp_path / "runs"), "--epochs", "1",
              "--subset", "64", "--hidden", "4", "--quiet"])
    except SystemExit as e:
        assert e.code in (0, None)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["job"]  # no job-2
    assert json.loads((job / "results.json").read_text())["status"] == "completed"
    assert not list(job.glob(".*.tmp"))


def _sealed(tmp_path, epoch):
    save_checkpoint(tmp_path / "last.pt", {"model_state_dict": {"w": torch.full((64,), float(epoch))},
                                           "epoch": epoch})


def test_two_kills_between_the_record_and_the_rename_never_make_an_intact_file_damaged(tmp_path):
    _sealed(tmp_path, 1)
    sums = json.loads((tmp_path / "checkpoints.json").read_text())
    # what two saves killed before their rename left in the older protocol: hashes of files never renamed
    sums["last.pt"].update(sha256="0" * 64, previous="1" * 64)
    (tmp_path / "checkpoints.json").write_text(json.dumps(sums))
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1


def test_an_unsealed_complete_file_is_accepted_whatever_checkpoints_json_says(tmp_path):
    torch.save({"model_state_dict": {"w": torch.ones(64)}, "epoch": 3}, tmp_path / "last.pt")
    (tmp_path / "checkpoints.json").write_text(json.dumps({"last.pt": {"sha256": "0" * 64, "previous": None}}))
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 3  # a reader racing a save: not damage


@pytest.mark.parametrize("sealed", [True, False])
def test_a_bit_flip_is_caught_without_checkpoints_json(tmp_path, sealed):
    if sealed:
        _sealed(tmp_path, 1)
    else:
        torch.save({"model_state_dict": {"w": torch.ones(64)}, "epoch": 1}, tmp_path / "last.pt")
    (tmp_path / "checkpoints.json").unlink(missing_ok=True)
    data = bytearray((tmp_path / "last.pt").read_bytes())
    at = data.find(b"archive/data/0") + 200  # inside the tensor's bytes
    data[at] ^= 0x01
    (tmp_path / "last.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="last.pt: checksum mismatch .*damaged"):
        load_checkpoint(tmp_path / "last.pt")


def test_a_short_epoch_perm_is_refused(tmp_path):
    from lab_workbench.engine import TrainConfig, train
    from lab_workbench.engine.training.trainer import resume_config
    polls = iter([None])  # one batch, then stopped mid-epoch: last.pt records the epoch's shuffle
    h = train(TrainConfig(epochs=2, subset=64, hidden=[4], runs_dir=str(tmp_path / "runs"), name="p"),
              should_stop=lambda: next(polls, True))
    state = load_checkpoint(os.path.join(h.run_dir, "last.pt"))
    assert state["epoch_perm"] is not None
    state["epoch_perm"] = state["epoch_perm"][:10]
    save_checkpoint(os.path.join(h.run_dir, "last.pt"), state)
    cfg, run = resume_config(h.run_dir)
    with pytest.raises(CheckpointError, match="last.pt: epoch_perm is not a shuffle of the"):
        train(cfg, resume=run)
