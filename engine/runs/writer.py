"""The run folder's one writer: it consumes the trainer's events, like the CLI printer and the TUI do.

Order of writes, so that the folder never lies: a checkpoint is saved before the metrics row that it
backs; progress.json is a heartbeat that tells a live run from a dead one.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from engine.errors import CheckpointError
from engine.runs.checkpoint import checkpoint_bytes, save_checkpoint
from engine.runs.folder import RunFolder
from engine.runs.result import RunResult
from engine.training.events import BatchEnded, BoundaryReady, CheckpointReady, EpochEnded, RunEnded, RunStarted

PROGRESS_INTERVAL = 2.0  # seconds between progress.json rewrites while batches run


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

    def __call__(self, event) -> None:
        match event:
            case RunStarted():
                self._started(event)
            case BatchEnded():
                self._batch(event)
            case CheckpointReady():
                data = checkpoint_bytes(event.state)  # one serialisation for both files
                if event.best:
                    save_checkpoint(self.folder.best, event.state, data)
                save_checkpoint(self.folder.last, event.state, data)
            case EpochEnded():
                self._epoch(event)
            case BoundaryReady():
                self.folder.write_boundary(event.grid)
            case RunEnded():
                self._ended(event)

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
        self._write_progress({"status": "running", "epoch": e.start_epoch, "step": e.start_step}, force=True)

    def _batch(self, e: BatchEnded) -> None:
        self._write_progress({"status": "running", "epoch": e.epoch, "step": e.step, "steps": e.steps,
                              "loss": e.loss})

    def _epoch(self, e: EpochEnded) -> None:
        self.metrics.append(e.row())
        self.folder.write_confusion({"epoch": e.epoch, "split": e.monitor, "classes": self.data.get("classes", []),
                                     "matrix": e.confusion})
        self._write_progress({"status": "running", "epoch": e.epoch, "step": 0}, force=True)

    def _ended(self, e: RunEnded) -> None:
        self.folder.write_results(RunResult.of(e).to_results(self.config, self.data, _now()))
        self._write_progress({"status": e.status}, force=True)

    def _write_progress(self, fields: dict, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress = now
        self.progress = {"pid": os.getpid(), "host": socket.gethostname(), "epochs": self.epochs,
                         "started": self.started, **fields, "time": now}
        try:
            self.folder.write_progress(self.progress)
        except CheckpointError:
            pass  # a heartbeat that cannot be written must not stop the run; the next one may succeed


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
