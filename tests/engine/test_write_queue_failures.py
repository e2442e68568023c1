"""Hostile review of the run folder's background writer (engine/runs/writer.py)."""

import threading

import pytest

from lab_workbench.engine.runs.writer import WriteQueue


def test_jobs_queued_before_a_failure_stay_dropped_after_the_error_is_raised():
    # a checkpoint that fails must drop the metrics row queued behind it, even when the training thread
    # picks the error up before the writer thread reaches that row
    q = WriteQueue()
    raised, ran, go = threading.Event(), [], threading.Event()
    get = q._jobs.get

    def slow_get(*a, **kw):  # the writer thread reaches the next job only after the error was raised
        if q._error is not None:
            raised.wait(2)
        return get(*a, **kw)
    q._jobs.get = slow_get

    def failing():
        go.wait(2)
        raise OSError(28, "No space left on device")
    q.submit(failing)
    q.submit(lambda: ran.append("row"))
    go.set()
    for _ in range(200):
        if q._error is not None:
            break
        threading.Event().wait(0.01)
    with pytest.raises(OSError):
        q.raise_error()
    raised.set()
    q.wait()
    q.close()
    assert ran == []


def test_later_jobs_run_once_the_error_was_raised():
    q = WriteQueue()
    ran = []
    q.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        q.wait()
    q.submit(lambda: ran.append("results"))  # results.json of the failed run is still written
    q.wait()
    q.close()
    assert ran == ["results"]


def test_a_disk_that_fills_under_a_background_checkpoint(tmp_path, capsys):
    # room for config.json and one checkpoint in best.pt and last.pt, not for the next one's temp file
    import csv
    import os
    import subprocess

    from lab_workbench.engine.runs.checkpoint import load_checkpoint
    from tests.helpers import lab_errors, mount_tmpfs
    disk = mount_tmpfs(tmp_path / "small", "1600k")
    try:
        code, err = lab_errors(capsys, "train", "--subset", "300", "--epochs", "5", "--runs-dir", str(disk),
                               "--name", "f", "-q")
        run = disk / "f"
        assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and "No space left" in err[0], err
        rows = list(csv.DictReader(open(run / "metrics.csv")))
        last = load_checkpoint(run / "last.pt")
        assert len(rows) == last["epoch"] >= 1  # every row backed by the checkpoint kept
        assert not [n for n in os.listdir(run) if n.endswith(".tmp")]
    finally:
        subprocess.run(["umount", str(disk)])



def test_a_queued_checkpoint_holds_its_bytes_not_the_state_it_was_made_from(tmp_path):
    # the state of a channels_last model is a copy of every weight: it must go once serialised, not stay
    # alive until the background write is done
    import gc
    import weakref

    import torch

    from lab_workbench.engine.runs.writer import RunWriter
    from lab_workbench.engine.contract.events import CheckpointReady
    writer = RunWriter(tmp_path)
    gate = threading.Event()
    writer.queue.submit(lambda: gate.wait(5))  # the writer thread is busy: the checkpoint waits in the queue
    weights = torch.zeros(1000)
    alive = weakref.ref(weights)
    writer.queue.submit(writer._saver(CheckpointReady({"model_state_dict": {"w": weights}, "epoch": 1}, best=True)))
    del weights
    gc.collect()
    try:
        assert alive() is None
    finally:
        gate.set()
        writer.close()
