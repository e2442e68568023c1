"""A dropped SSH connection (here: its tmux session killed) never stops a labtui run and never leaves a process
behind: the run goes on headless to its end, as `lab train` would, and the process ends with it."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from lab_workbench.engine.runs import read_metrics, read_run
from tests.helpers import lab_here, wait_for as wait
from tests.tui.tmux import Terminal, alive

RUN_ENDS_WITHIN = 60.0  # seconds from the hangup to the process gone, the run finished (a 3 s stall included)
EXITS_WITHIN = 10.0  # seconds to leave when no run is active
FLAGS = "--epochs 3 --subset 300 --batch-size 32 --threads 1 --name r"
COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]

# moment, shell: every moment, each shell at the moments that matter most; LAB_HANGUP_MATRIX=1 tries every
# moment through both shells (the suite's time is kept for the rest)
CASES = [("form", "exec"), ("loading", "bash"), ("loading", "exec"), ("mid-epoch", "bash"), ("mid-epoch", "exec"),
         ("paused", "exec"), ("validation", "bash"), ("test", "exec"), ("end", "bash")]
if os.environ.get("LAB_HANGUP_MATRIX"):
    CASES = [(m, s) for m in ("form", "loading", "mid-epoch", "paused", "validation", "test", "end")
             for s in ("bash", "exec")]
PHASES = {"loading": "loading", "mid-epoch": "batch", "paused": "batch", "validation": "validation",
          "test": "test"}


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("moment,shell", CASES, ids=[f"{m}-{s}" for m, s in CASES])
def test_a_hangup_never_stops_the_run_nor_leaves_a_process(tmp_path, moment, shell):
    marker, run = tmp_path / "stalled", tmp_path / "runs" / "r"
    phase = PHASES.get(moment, "none")
    term = Terminal(tmp_path, shell, phase, marker, FLAGS)
    try:
        assert wait(lambda: "new run" in term.screen()), "the form never appeared"
        if moment != "form":
            term.keys("Enter")
        assert wait(marker.is_file), f"never reached {moment}"
        pid = int(marker.read_text())
        if moment == "paused":
            term.keys("p")
            assert wait(lambda: "paused" in term.screen().lower()), f"the run never paused:\n{term.screen()}"
        elif moment == "end":
            assert wait(lambda: (run / "results.json").is_file()), "the run never ended"
        term.hang_up()
        if moment == "mid-epoch":  # still stalled: `labtui --watch` and the browser see it live, as they read it
            assert read_run(run).status == "running"
        started = moment not in ("form", "end")
        assert wait(lambda: not alive(pid), RUN_ENDS_WITHIN if started else EXITS_WITHIN), \
            f"labtui still runs after a hangup at {moment}: {Path(f'/proc/{pid}/status').read_text()[:300]}"
    finally:
        term.close()
    if moment == "form":
        assert not run.exists()
        return
    results = json.loads((run / "results.json").read_text())
    assert results["status"] == "completed", results and results["test"].get("accuracy") is not None
    assert [r["epoch"] for r in read_metrics(run / "metrics.csv")] == [1, 2, 3]
    if moment == "mid-epoch" and shell == "bash":  # the same run as one that no terminal ever left
        r = lab_here("train", *FLAGS.replace("--name r", "--name straight").split(), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        rows = [{k: row[k] for k in COLUMNS} for row in read_metrics(run / "metrics.csv")]
        straight = [{k: row[k] for k in COLUMNS} for row in read_metrics(tmp_path / "runs/straight/metrics.csv")]
        assert rows == straight


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_hangup_during_a_stall_in_the_terminal_writer_still_ends(tmp_path):
    """The hung case of the issue: SIGHUP and SIGCONT arrive together while the UI keeps drawing (a live
    dashboard). Textual's SIGCONT handler must not restart application mode on the dead terminal."""
    marker, run = tmp_path / "stalled", tmp_path / "runs" / "r"
    term = Terminal(tmp_path, "bash", "none", marker, FLAGS.replace("--epochs 3", "--epochs 12"))
    try:
        assert wait(lambda: "new run" in term.screen()), "the form never appeared"
        pid = int(marker.read_text())
        term.keys("Enter")
        assert wait(lambda: len(read_metrics(run / "metrics.csv")) >= 1), "the run never trained"
        time.sleep(0.2)
        term.hang_up()
        assert wait(lambda: not alive(pid), RUN_ENDS_WITHIN), "labtui still runs after the hangup"
    finally:
        term.close()
    assert json.loads((run / "results.json").read_text())["status"] == "completed"
