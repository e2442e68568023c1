"""Closing the SSH window under labtui (SIGHUP, here: killing its tmux session) loses nothing."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT, lab_here, wait_for as wait
from engine.runs.checkpoint import load_checkpoint
from engine.runs import read_metrics


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_hangup_checkpoints_the_run_marks_it_interrupted_and_ends_labtui(tmp_path):
    tmux = ["tmux", "-L", f"lab-test-{os.getpid()}"]
    name = f"hup{os.getpid()}"
    cmd = (f"cd {tmp_path} && env -u COLORTERM TERM=xterm PYTHONPATH={ROOT} {sys.executable} -m commands.labtui "
           f"--epochs 3000 --subset 800 --name {name}")
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24", cmd], check=True)
    run = tmp_path / "runs" / name
    try:
        shown = wait(lambda: "new run" in subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"],
                                                         capture_output=True, text=True).stdout)
        assert shown, "the form never appeared"
        subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True)
        assert wait(lambda: len(read_metrics(run / "metrics.csv")) >= 2), "the run never trained"
        subprocess.run([*tmux, "kill-session", "-t", "t"], check=True)  # the terminal goes away: SIGHUP
        results = run / "results.json"
        assert wait(lambda: results.is_file() and json.loads(results.read_text())["status"] == "interrupted", 40)
        gone = wait(lambda: subprocess.run(["pgrep", "-f", f"--name {name}"], capture_output=True).returncode != 0)
        assert gone, "labtui is still running without a terminal"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    done = load_checkpoint(run / "last.pt")["epoch"]
    r = lab_here("train", "--resume", f"runs/{name}", "--epochs", str(done + 2), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [row["epoch"] for row in read_metrics(run / "metrics.csv")] == list(range(1, done + 3))
