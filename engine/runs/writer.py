"""The run folder's one writer: it consumes the trainer's events, like the CLI printer and the TUI do.

Order of writes, so that the folder never lies: a checkpoint is saved before the metrics row that it
backs; progress.json is a heartbeat that tells a live run from a dead one.

The writes after config.json happen in that order on one background thread (WriteQueue): a checkpoint is
serialised in the training thread, where its tensors are consistent, and hashed, written and fsynced while
the next batches run.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.runs.checkpoint import save_checkpoint, seal, serialise
from lab_workbench.engine.runs.folder import RunFolder
from lab_workbench.engine.contract.result import RunResult
from lab_workbench.engine.contract.events import (BatchEnded, BoundaryReady, CheckpointReady, EpochEnded, PhaseChanged, RunEnded,
                                    RunStarted)

PROGRESS_INTERVAL = 2.0  # seconds between progress.json rewrites while batches run


class WriteQueue:
    """Jobs run in order on one background thread. A job that fails drops those queued after it (a metrics
    row is never written without the checkpoint before it), and its error is raised to the next caller."""

    def __init__(self):
        self._jobs: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        # raising an error starts a new generation: a job queued before it (behind the failed one) stays
        # dropped even when the training thread raised the error before this thread reached the job
        self._generation = 0
        self._thread = threading.Thread(target=self._work, name="lab-run-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        self.raise_error()
        self._jobs.put((self._generation, job))

    def wait(self) -> None:
        """Block until every job submitted so far is done; raise the error of one that failed."""
        self._jobs.join()
        self.raise_error()

    def raise_error(self) -> None:
        error = self._error
        if error is not None:
            self._generation += 1  # first: the worker never finds the error cleared and the generation old
            self._error = None
            raise error

    def close(self) -> None:
        """Finish the queued jobs and end the thread (errors not yet raised are dropped: the run has ended)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _work(self) -> None:
        while (item := self._jobs.get()) is not None:
            generation, job = item
            try:
                if self._error is None and generation == self._generation:
                    job()
            except BaseException as e:  # kept for the training thread, which reports it
                self._error = e
            finally:
                self._jobs.task_done()
        self._jobs.task_done()


class RunWriter:
    """Writes config.json, metrics.csv, confusion.json, progress.json, best.pt, last.pt and results.json."""

    def __init__(self, run_dir: str | Path, meta: dict | None = None):
        self.dir = Path(run_dir)
        self.folder = RunFolder(run_dir)
        self.meta = meta or {}  # device, world size, torch version: recorded in config.json
        # created after config.json: a folder with no config.json is then recognisably not started yet
        self.metrics = self.folder.metrics_writer(create=False)
        self.epochs = 0
        self.config: dict = {}
        self.data: dict = {}
        self.started = time.time()
        self._last_progress = 0.0
        self.progress: dict = {}
        self.fields: dict = {}  # progress.json's fields but its pid, host and time: a phase change keeps them
        self.phase = ""
        self.queue = WriteQueue()

    def __call__(self, event) -> None:
        match event:
            case RunStarted():
                self.queue.wait()
                self._started(event)
            case BatchEnded():
                self._batch(event)
            case PhaseChanged() if event.phase != self.phase:  # what the run does now, for readers of the folder
                self.phase = event.phase
                fields = {**self.fields, "phase": event.phase, "epoch": event.epoch or self.fields.get("epoch")}
                self.queue.submit(lambda: self._write_progress(fields))
            case CheckpointReady():
                self.queue.wait()  # one checkpoint in flight at a time: memory stays one copy of the state
                self.queue.submit(self._saver(event))
            case EpochEnded():
                self.queue.submit(lambda: self._epoch(event))
            case BoundaryReady():
                self.queue.submit(lambda: self.folder.write_boundary(event.grid))
            case RunEnded():
                self.queue.submit(lambda: self._ended(event))
                self.queue.wait()

    def wait(self) -> None:
        """Block until every write so far is on disk; raise the error of one that failed."""
        self.queue.wait()

    def close(self) -> None:
        self.queue.close()

    def _saver(self, e: CheckpointReady) -> Callable[[], None]:
        raw = serialise(e.state)  # here, while the tensors hold this state; once for both files
        position = {"epoch": e.state.get("epoch"), "epoch_step": e.state.get("epoch_step", 0)}
        best = e.best  # not the event: its state (a copy of every weight for channels_last) goes now

        def save() -> None:
            data = seal(raw)
            if best:
                save_checkpoint(self.folder.best, position, data)
            save_checkpoint(self.folder.last, position, data)
        return save

    def _started(self, e: RunStarted) -> None:
        self.epochs, self.config, self.data = e.config["epochs"], e.config, e.dataset
        record = {"config": e.config, "data": e.dataset, "device": e.device, "n_params": e.n_params,
                  "precision": e.precision, "threads": e.threads, "trainable": e.trainable, "notes": list(e.notes),
                  **self.meta}
        if e.resumed:
            try:
                old = self.folder.read_config()
            except CheckpointError:
                old = {}
            before = old.get("config") if isinstance(old.get("config"), dict) else {}
            changes = {k: v for k, v in e.config.items() if before.get(k) != v}
            resumes = old.get("resumes") if isinstance(old.get("resumes"), list) else []
            resumes.append({"time": _now(), "epoch": e.start_epoch - 1, "step": e.start_step, "changes": changes,
                            "pid": os.getpid(), "host": socket.gethostname()})
            record = {**old, **record, "resumes": resumes}
        else:
            record["created"] = _now()
        self.folder.write_config(record)
        self.metrics.rewrite(list(e.rows))
        self._write_progress({"status": "running", "epoch": e.start_epoch, "step": e.start_step})

    def _batch(self, e: BatchEnded) -> None:
        if time.time() - self._last_progress >= PROGRESS_INTERVAL:  # checked here: a batch must never wait
            fields = {"status": "running", "phase": self.phase, "epoch": e.epoch, "step": e.step, "steps": e.steps,
                      "loss": e.loss}
            self._last_progress = time.time()
            self.queue.submit(lambda: self._write_progress(fields))

    def _epoch(self, e: EpochEnded) -> None:
        self.metrics.append(e.row())
        self.folder.write_confusion({"epoch": e.epoch, "split": e.monitor, "classes": self.data.get("classes", []),
                                     "matrix": e.confusion})
        self._write_progress({"status": "running", "phase": self.phase, "epoch": e.epoch, "step": 0})

    def _ended(self, e: RunEnded) -> None:
        self.folder.write_results(RunResult.of(e).to_results(self.config, self.data, _now()))
        self._write_progress({"status": e.status})

    def _write_progress(self, fields: dict) -> None:
        now = time.time()  # batches are rate-limited in _batch, before they reach the writer's thread
        self.fields = fields
        self.progress = {"pid": os.getpid(), "host": socket.gethostname(), "epochs": self.epochs,
                         "started": self.started, **fields, "time": now}
        try:
            self.folder.write_progress(self.progress)
        except CheckpointError:
            pass  # a heartbeat that cannot be written must not stop the run; the next one may succeed


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
