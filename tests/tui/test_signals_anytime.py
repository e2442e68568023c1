"""A hangup, SIGTERM or Ctrl-C at any moment of a labtui run (form, loading, mid-epoch, validation, test
evaluation, after the end) checkpoints if training started, writes a final status and exits within seconds."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, wait_for as wait
from lab_workbench.engine.runs import read_metrics

HELPER = Path(__file__).with_name("stalled_labtui.py")
EXIT_WITHIN = 12.0  # seconds from the signal to the process gone (a stalled phase takes 3 of them)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (tmux has not reaped it yet) is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# moment, signal, epochs: every moment is covered, every signal at least twice (a hangup mid-epoch is
# test_hangup.py's case, which also resumes the run)
CASES = [
    ("form", "hangup", 2),
    ("loading", "sigterm", 2),
    ("mid-epoch", "ctrl-c", 3000),
    ("validation", "sigterm", 3000),
    ("test", "hangup", 2),
    ("end", "ctrl-c", 1),
]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("moment,how,epochs", CASES, ids=[f"{m}-{h}" for m, h, _ in CASES])
def test_a_signal_at_any_moment_ends_labtui_with_a_final_status(tmp_path, moment, how, epochs):
    tmux = ["tmux", "-L", f"lab-sig-{os.getpid()}-{moment}-{how}"]
    marker, run = tmp_path / "stalled", tmp_path / "runs" / "r"
    phase = moment if moment in ("loading", "validation", "test") else "none"
    cmd = (f"cd {tmp_path} && env -u COLORTERM TERM=xterm OMP_NUM_THREADS=1 PYTHONPATH={ROOT} {sys.executable} "
           f"{HELPER} {phase} {marker} --epochs {epochs} --subset 300 --batch-size 32 --name r")
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24", cmd], check=True)

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True).stdout
    try:
        assert wait(lambda: "new run" in screen()), "the form never appeared"
        pid = int(marker.read_text()) if phase == "none" else None
        if moment != "form":
            subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True)
        if phase != "none":
            assert wait(lambda: marker.is_file()), f"never reached {moment}"
            pid = int(marker.read_text())
        elif moment == "mid-epoch":  # the defect: after the first epoch's row, not during it
            assert wait(lambda: len(read_metrics(run / "metrics.csv")) >= 1), "the run never trained"
            time.sleep(0.3)
        elif moment == "end":
            assert wait(lambda: (run / "results.json").is_file()), "the run never ended"
        sent = time.monotonic()
        if how == "hangup":
            subprocess.run([*tmux, "kill-session", "-t", "t"], check=True)
        elif how == "sigterm":
            os.kill(pid, signal.SIGTERM)
        else:
            subprocess.run([*tmux, "send-keys", "-t", "t", "C-c"], check=True)
        assert wait(lambda: not alive(pid), EXIT_WITHIN), f"labtui still runs {EXIT_WITHIN:.0f} s after {how}"
        took = time.monotonic() - sent
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert took < EXIT_WITHIN
    if moment in ("form", "loading"):  # training never started: nothing to save, no folder
        assert not (run / "config.json").exists()
        return
    status = json.loads((run / "results.json").read_text())["status"]
    if moment in ("test", "end"):  # every epoch was trained: the test evaluation is part of completing
        assert status == "completed"
        return
    assert status == "interrupted" and (run / "last.pt").is_file()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_stdin_at_eof_ends_labtui_instead_of_spinning(tmp_path):
    """Input that ends (here </dev/null; a hung-up terminal reads the same) is the end of the session."""
    tmux = ["tmux", "-L", f"lab-eof-{os.getpid()}"]
    marker = tmp_path / "started"
    cmd = (f"cd {tmp_path} && env -u COLORTERM TERM=xterm PYTHONPATH={ROOT} {sys.executable} {HELPER} none "
           f"{marker} --epochs 1 < /dev/null; sleep 30")
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24", cmd], check=True)
    try:
        assert wait(lambda: marker.is_file() and marker.read_text()), "labtui never started"
        pid = int(marker.read_text())
        assert wait(lambda: not alive(pid), EXIT_WITHIN), "labtui reads EOF in a loop instead of ending"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
