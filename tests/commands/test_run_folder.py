"""The run folder is a safe place: plain names, one writer at a time, umask permissions, no leftovers,
and a real SIGTERM mid-epoch that resumes exactly."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from lab_workbench.commands.app import main
from tests.helpers import ROOT, lab_cmd
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from lab_workbench.engine.runs import RunLock, read_metrics


def lab(*args, capsys):
    """Run `lab ARGS` in-process; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        main(list(map(str, args)))
        raise SystemExit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", "..", "."])
def test_a_run_name_that_is_a_path_is_refused(tmp_path, capsys, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = lab("train", "--epochs", "1", "--name", name, "--runs-dir", tmp_path / "runs", capsys=capsys)
    assert code == 2 and err.startswith("error: --name: expected a plain folder name")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "escape").exists() and not os.path.exists("/tmp/abs/config.json")


@pytest.mark.parametrize("args, message", [
    (["--model", "mlp", "-K", "8"], "--channels: model mlp does not take this option"),
    (["--model", "resnet", "--no-batchnorm"], "--batchnorm: model resnet does not take this option"),
    (["--model", "logistic", "--dropout", "0.5"], "--dropout: model logistic does not take this option"),
    (["--lr", "abc"], "--lr: expected a finite number, got 'abc'"),
    (["--dataset", "MNIST"], "did you mean 'mnist'?"),
])
def test_bad_train_options_are_one_line_errors_before_any_folder(tmp_path, capsys, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = lab("train", "--epochs", "1", *args, capsys=capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert lab("train", "--epochs", "1", "--name", "r", capsys=capsys)[0] == 0
    with RunLock(tmp_path / "runs" / "r"):
        code, _, err = lab("train", "--resume", "runs/r", "--epochs", "2", capsys=capsys)
    assert code == 2 and f"in use by pid {os.getpid()}" in err
    assert [r["epoch"] for r in read_metrics(tmp_path / "runs" / "r" / "metrics.csv")] == [1]
    # the lock went with its holder: now the resume goes through
    assert lab("train", "--resume", "runs/r", "--epochs", "2", capsys=capsys)[0] == 0


def test_a_stale_lock_from_a_killed_process_is_taken_over(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert lab("train", "--epochs", "1", "--name", "r", capsys=capsys)[0] == 0
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]);"
                               "from lab_workbench.engine.runs import RunLock; RunLock(sys.argv[2]).acquire();"
                               "print('held', flush=True); time.sleep(60)", str(ROOT), "runs/r"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    assert lab("train", "--resume", "runs/r", "--epochs", "2", capsys=capsys)[0] == 0


def test_files_get_the_permissions_of_the_umask_and_temp_files_are_cleaned(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        assert lab("train", "--epochs", "1", "--name", "r", capsys=capsys)[0] == 0
    finally:
        os.umask(old)
    run = tmp_path / "runs" / "r"
    for name in ("config.json", "metrics.csv", "results.json", "best.pt", "last.pt", "checkpoints.json"):
        assert (run / name).stat().st_mode & 0o777 == 0o644, name
    (run / ".last.pt.dead.tmp").write_bytes(b"half a checkpoint")
    assert lab("train", "--resume", "runs/r", "--epochs", "2", capsys=capsys)[0] == 0
    assert not list(run.glob(".*.tmp"))


@pytest.mark.slow
def test_sigterm_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path):
    # epochs long enough (~0.5 s) that 0.1 s after epoch 3's row the run is inside epoch 4
    args = ["train", "--epochs", "6", "--model", "cnn", "-K", "8", "-H", "16", "--batch-size", "4",
            "--subset", "1400"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}  # same threads: same float sums

    def lab_run(*more):
        return subprocess.run(lab_cmd(*more), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert lab_run(*args, "--name", "full").returncode == 0
    p = subprocess.Popen(lab_cmd(*args, "--name", "cut"), cwd=tmp_path, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    metrics = tmp_path / "runs" / "cut" / "metrics.csv"
    deadline = time.monotonic() + 120
    while len(read_metrics(metrics)) < 3 and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)
    time.sleep(0.1)  # into epoch 4
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    run = tmp_path / "runs" / "cut"
    ck = load_checkpoint(run / "last.pt")
    assert ck["epoch"] == 3 and ck["epoch_step"] > 0  # stopped inside epoch 4
    assert json.loads((run / "results.json").read_text())["status"] == "interrupted"
    r = lab_run("train", "--resume", "runs/cut")
    assert r.returncode == 0, r.stderr
    full, cut = load_checkpoint(tmp_path / "runs" / "full" / "last.pt"), load_checkpoint(run / "last.pt")
    for k, v in full["model_state_dict"].items():
        assert torch.equal(v, cut["model_state_dict"][k]), k
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in read_metrics(run / "metrics.csv")]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"}
                     for r in read_metrics(tmp_path / "runs" / "full" / "metrics.csv")]
    assert len(strip) == 6


PLUGIN = '''
import torch.nn as nn
from lab_workbench.engine.models import register_model

@register_model("tiny", "a plugin model: one linear layer")
def tiny(input_shape, num_classes, hidden=None):
    c, h, w = input_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, num_classes))
'''


def test_a_model_registered_by_user_code_works_in_train_and_models(tmp_path):
    (tmp_path / "myplugin.py").write_text(PLUGIN)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}", "LAB_PLUGINS": "myplugin"}
    r = subprocess.run(lab_cmd("models"), cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "tiny" in r.stdout.split()
    r = subprocess.run(lab_cmd("train", "--model", "tiny", "--epochs", "1", "--json"), cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["config"]["model"] == "tiny" and os.path.isabs(out["run_dir"])
