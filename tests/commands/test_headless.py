"""Headless cluster runs: signals, requeue, time limits, hangups, machine-readable logs, srun ranks."""

import json
import os
import pty
import signal
import subprocess
import threading
import time

import pytest
import torch

from tests.helpers import ROOT, lab_cmd, lab_here
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from lab_workbench.engine.runs import read_metrics

LONG = ["train", "--epochs", "300", "--subset", "600"]


def env(**extra):
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **extra}


def start(tmp_path, *args, **kw):
    return subprocess.Popen(lab_cmd(*args), cwd=tmp_path, env=kw.pop("env", env()), text=True,
                            stdout=kw.pop("stdout", subprocess.PIPE), stderr=subprocess.PIPE, **kw)


def wait_rows(run, n, p, timeout=120):
    deadline = time.monotonic() + timeout
    while len(read_metrics(run / "metrics.csv")) < n and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)


def results(run):
    return json.loads((run / "results.json").read_text())


def test_sighup_does_not_kill_a_headless_run_whose_terminal_went_away(tmp_path):
    master, slave = pty.openpty()
    p = start(tmp_path, "train", "--epochs", "20", "--subset", "600", "--name", "h", stdout=slave)
    os.close(slave)
    # the terminal reads what lab writes until it goes away (an unread pty fills up and blocks the writer)
    reader = threading.Thread(target=_drain, args=(master,), daemon=True)
    reader.start()
    run = tmp_path / "runs" / "h"
    wait_rows(run, 2, p)
    assert p.poll() is None and len(read_metrics(run / "metrics.csv")) < 20, "hang up while the run trains"
    p.send_signal(signal.SIGHUP)
    os.close(master)  # the terminal is gone: writes to it now fail with EIO
    p.wait(timeout=120)
    assert p.returncode == 0, p.stderr.read()
    assert results(run)["status"] == "completed" and len(read_metrics(run / "metrics.csv")) == 20


def _drain(fd):
    try:
        while os.read(fd, 4096):
            pass
    except OSError:  # closed by the test: the hangup
        pass


def test_sigusr1_checkpoints_and_requeues_the_slurm_job(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/scontrol.args\n")
    (bin_dir / "scontrol").chmod(0o755)
    p = start(tmp_path, *LONG, "--name", "q", env=env(SLURM_JOB_ID="4242", PATH=f"{bin_dir}:{os.environ['PATH']}"))
    run = tmp_path / "runs" / "q"
    wait_rows(run, 2, p)
    p.send_signal(signal.SIGUSR1)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert (tmp_path / "scontrol.args").read_text().split() == ["requeue", "4242"]
    assert results(run)["status"] == "interrupted" and "requeueing Slurm job 4242" in err
    ck = load_checkpoint(run / "last.pt")
    assert ck["epoch"] == len(read_metrics(run / "metrics.csv"))
    # the requeued job runs the same command line with --resume auto and continues the same run
    r = lab_here("train", "--epochs", "300", "--subset", "600", "--name", "q", "--resume", "auto",
                 "--epochs", str(ck["epoch"] + 2), cwd=tmp_path)  # in this process: the signal was the point
    assert r.returncode == 0, r.stderr
    assert [row["epoch"] for row in read_metrics(run / "metrics.csv")] == list(range(1, ck["epoch"] + 3))
    assert len(json.loads((run / "config.json").read_text())["resumes"]) == 1


def test_sigusr1_outside_slurm_is_an_interrupt(tmp_path):
    p = start(tmp_path, *LONG, "--name", "u")
    wait_rows(tmp_path / "runs" / "u", 1, p)
    p.send_signal(signal.SIGUSR1)
    p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGUSR1
    assert results(tmp_path / "runs" / "u")["status"] == "interrupted"


def test_resume_auto_starts_a_run_then_continues_it(tmp_path):
    args = ["train", "--subset", "300", "--name", "auto", "--resume", "auto"]
    r1 = lab_here(*args, "--epochs", "1", cwd=tmp_path)
    r2 = lab_here(*args, "--epochs", "2", cwd=tmp_path)
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    assert "resuming runs/auto at epoch 2:" in r2.stdout
    assert [r["epoch"] for r in read_metrics(tmp_path / "runs" / "auto" / "metrics.csv")] == [1, 2]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["auto"]


def test_time_limit_stops_with_a_checkpoint_and_exit_75(tmp_path):
    # the limit counts the data's loading too (seconds on a busy machine): room for it, and epochs to spare; in
    # this process, so no interpreter or torch start-up inside the limit (it was 10 s with them)
    r = lab_here("train", "--epochs", "5000", "--subset", "600", "--name", "t", "--time-limit", "5s", "--threads",
                 "1", cwd=tmp_path)
    assert r.returncode == 75, r.stderr
    run = tmp_path / "runs" / "t"
    assert results(run)["status"] == "interrupted" and 0 < len(read_metrics(run / "metrics.csv")) < 5000
    assert "--time-limit reached" in r.stderr


def test_a_second_ctrl_c_keeps_the_interrupted_status(tmp_path):
    p = start(tmp_path, *LONG, "--name", "c")
    run = tmp_path / "runs" / "c"
    wait_rows(run, 1, p)
    p.send_signal(signal.SIGINT)
    time.sleep(0.005)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "Traceback" not in err
    assert results(run)["status"] == "interrupted"
    load_checkpoint(run / "last.pt")  # whatever moment the second one hit, last.pt is whole


def test_json_lines_and_log_file_for_log_collectors(tmp_path):
    r = lab_here("train", "--epochs", "2", "--subset", "300", "--json-lines", "--log-file", "log.txt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    kinds = [e["event"] for e in events if e["event"] != "PhaseChanged"]
    assert events[0] == {**events[0], "event": "PhaseChanged", "phase": "loading"}
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunEnded" and kinds.count("EpochEnded") == 2
    assert events[-1]["status"] == "completed" and "\x1b" not in r.stdout
    log = (tmp_path / "log.txt").read_text().splitlines()
    assert log[0].startswith("run ") and [line.split()[1] for line in log[1:3]] == ["1/2", "2/2"]
    assert log[-1].startswith("completed:")


def test_plain_output_without_a_tty_is_one_line_per_epoch(tmp_path):
    r = lab_here("train", "--epochs", "3", "--subset", "300", cwd=tmp_path)  # its stdout is no tty either
    lines = r.stdout.splitlines()
    assert len(lines) == 5 and lines[0].startswith("run ") and lines[-1].startswith("completed:")
    assert "\x1b" not in r.stdout


def _srun(tmp_path, rank, extra, world=2):
    e = env(SLURM_NTASKS=str(world), SLURM_PROCID=str(rank), SLURM_LOCALID=str(rank), SLURM_JOB_ID="7",
            SLURM_JOB_NODELIST="localhost", MASTER_PORT=str(29500 + os.getpid() % 1000))
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        e.pop(k, None)
    return subprocess.Popen(lab_cmd("train", *extra), cwd=tmp_path, env=e, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _srun_all(tmp_path, extra, world=2):
    procs = [_srun(tmp_path, r, extra, world) for r in range(world)]
    outs = [p.communicate(timeout=300) for p in procs]
    return procs, outs


@pytest.mark.slow
def test_srun_ranks_give_one_data_parallel_run_that_resumes_exactly(tmp_path):
    # a schedule that does not depend on --epochs: 2 epochs extended to 4 are then 4 straight ones
    base = ["--subset", "800", "--batch-size", "32", "--dropout", "0.2", "--scheduler", "none"]
    procs, outs = _srun_all(tmp_path, ["--epochs", "4", "--name", "full", *base])
    assert [p.returncode for p in procs] == [0, 0], outs[0][1][-1500:] + outs[1][1][-1500:]
    assert outs[1][0] == ""  # only rank 0 prints
    assert json.loads((tmp_path / "runs" / "full" / "config.json").read_text())["world_size"] == 2
    single = lab_here("train", "--epochs", "4", "--name", "one", *base, cwd=tmp_path)
    assert single.returncode == 0
    two, one = results(tmp_path / "runs" / "full"), results(tmp_path / "runs" / "one")
    assert abs(two["test"]["accuracy"] - one["test"]["accuracy"]) < 0.06  # the same recipe within noise
    # 2 epochs, then a resume to 4: the same weights as 4 straight epochs
    _srun_all(tmp_path, ["--epochs", "2", "--name", "part", *base])
    procs, outs = _srun_all(tmp_path, ["--resume", "runs/part", "--epochs", "4"])
    assert [p.returncode for p in procs] == [0, 0], outs[0][1][-1500:]
    a = load_checkpoint(tmp_path / "runs" / "full" / "last.pt")["model_state_dict"]
    b = load_checkpoint(tmp_path / "runs" / "part" / "last.pt")["model_state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_hangup_in_the_first_moments_does_not_kill_the_run(tmp_path):
    master, slave = pty.openpty()
    p = start(tmp_path, "train", "--epochs", "1", "--subset", "200", "--name", "early", stdout=slave)
    os.close(slave)
    threading.Thread(target=_drain, args=(master,), daemon=True).start()
    time.sleep(0.5)  # the interpreter is up, torch is still importing: lab's own handler is not installed yet
    p.send_signal(signal.SIGHUP)
    os.close(master)
    p.wait(timeout=120)
    assert p.returncode == 0, p.stderr.read()  # was -1: killed by the hangup
    assert results(tmp_path / "runs" / "early")["status"] == "completed"


def test_a_stop_before_training_starts_says_so_and_leaves_no_folder(tmp_path):
    done = lab_here("train", "--time-limit", "0.001s", "--name", "none", cwd=tmp_path)
    assert done.returncode == 75, done.stderr
    said = done.stdout + done.stderr
    assert "stopping before training starts" in said and "with a checkpoint" not in said
    assert "no run folder was made" in said and not (tmp_path / "runs" / "none").exists()
