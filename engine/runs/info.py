"""Read a run folder back into one summary: what the runs browser and watch mode show."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab_workbench.engine.contract.events import best_row
from lab_workbench.engine.runs.folder import RunFolder
from lab_workbench.engine.runs.listing import list_runs
from lab_workbench.engine.runs.lock import read_holder
from lab_workbench.engine.contract.result import RunResult
from lab_workbench.engine.contract.values import number

STALE_SECONDS = 300  # a run without progress.json or results.json, metrics unmoved this long: 'stopped?'
HEARTBEAT_STALE = 60  # progress.json is rewritten every 2 s while batches run; a minute of silence is death


@dataclass
class RunInfo:
    path: Path
    config: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    result: RunResult | None = None  # results.json, once the run has ended
    confusion: dict | None = None
    device: str = "-"
    progress: dict | None = None
    params: int = 0
    started: float = 0.0  # config.json's `created` (a resume rewrites the file, not this): 0 when absent

    @property
    def name(self) -> str:
        """The folder name; 'SWEEP/point' for a run of a sweep."""
        if RunFolder(self.path).in_sweep():
            return f"{self.path.parent.name}/{self.path.name}"
        return self.path.name

    @property
    def status(self) -> str:
        """The run's status; a run whose writer is gone says `dead` instead of `running` forever."""
        p = self.progress or {}
        if isinstance(p.get("status"), str) and p["status"] not in ("", "running"):
            return p["status"][:20]
        if p.get("status") == "running":
            return "running" if writer_alive(p) else "dead"
        if self.result and self.result.status:
            return self.result.status
        folder = RunFolder(self.path)
        holder = _lock_holder(folder.lock_file)  # no heartbeat: a folder copied by hand, or an older lab's
        if holder is not None:
            return "running" if writer_alive(holder) else "dead"
        try:
            age = time.time() - (folder.metrics if folder.metrics.exists() else folder.config).stat().st_mtime
        except OSError:
            return "dead"
        # config.json alone, no writer holding the folder: no lab run is that quiet at its start
        return "running" if age < STALE_SECONDS and folder.metrics.exists() else "stopped?"

    @property
    def history(self) -> list[dict]:
        """The epoch rows (metrics.csv) as dicts."""
        return self.rows

    def column(self, key: str) -> list:
        """One metric over the epochs, e.g. run.column("val_acc")."""
        return [r.get(key) for r in self.rows]

    def summary(self) -> dict:
        """What the run listings show: status, best and final validation accuracy, test accuracy, epochs, time."""
        return {"status": self.status, "best_val_acc": self.best_val_acc,
                "final_val_acc": self.rows[-1]["val_acc"] if self.rows else None, "test_acc": self.test_acc,
                "epochs": len(self.rows), "seconds": round(self.seconds, 3)}

    @property
    def seconds(self) -> float:
        return float(sum(r.get("seconds") or 0 for r in self.rows))

    @property
    def created(self) -> float:
        """When the run began: config.json's `created`, else the file's time (a resume keeps the first)."""
        return self.started or RunFolder(self.path).created

    @property
    def epochs(self) -> int:
        return int(number(self.config.get("epochs"), 0, 1e9, 0))

    @property
    def best_val_acc(self) -> float | None:
        best = best_row(self.rows, self.monitor)
        return None if best is None else best["val_acc"]

    @property
    def monitor(self) -> str:
        """The metric that picked best.pt (--monitor; runs of older versions: val_acc)."""
        return str(self.config.get("monitor") or "val_acc")

    @property
    def test_acc(self) -> float | None:
        return self.result.test_acc if self.result else None

    @property
    def source(self) -> str:
        return str(self.data.get("source") or self.config.get("dataset", "?"))[:40]


def writer_alive(progress: dict, now: float | None = None) -> bool:
    """Is the process that writes this progress.json still there? On this host: its pid exists. On another
    host: its heartbeat is recent."""
    now = time.time() if now is None else now
    if progress.get("host") == socket.gethostname() and _is_pid(progress.get("pid")):
        try:
            os.kill(progress["pid"], 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # another user's live process
    t = number(progress.get("time"), 0)
    return t is not None and now - t < HEARTBEAT_STALE


def _lock_holder(lock: Path) -> dict | None:
    """{pid, host} from a .lock written on this host, else None (another host's pid says nothing here)."""
    holder = read_holder(lock)
    return holder._asdict() if holder and holder.host == socket.gethostname() else None


def _is_pid(value) -> bool:
    """A number that names one process: os.kill(0 or a negative number) reaches a process group (so 'alive'),
    and one beyond a C int is an OverflowError, not an answer."""
    return type(value) is int and 0 < value < 2**31


def load_run(path: str | Path) -> RunInfo:
    """A run's config, history (epoch rows), results and status in one call, for notebooks:
    `run = load_run("runs/x"); plt.plot(run.column("epoch"), run.column("val_acc"))`."""
    return read_run(RunFolder(path).require_run().path)


HUGE_PARAMS = 1e15
MAX_ROWS = 2000  # metrics rows a viewer keeps: longer histories are thinned evenly


def read_run(path: str | Path, max_rows: int | None = None, rows: list[dict] | None = None) -> RunInfo:
    """Everything a run folder holds that a viewer needs; missing files, and files of the wrong type, are
    simply absent. `max_rows` thins a very long metrics.csv for drawing; `rows` (from a MetricsReader that
    follows the file) are used instead of reading it."""
    folder = RunFolder(path)
    cfg = folder.read(folder.config) or {}  # a missing, half-written or wrong-typed file counts as absent
    config = cfg.get("config") if isinstance(cfg.get("config"), dict) else {}
    data = cfg.get("data") if isinstance(cfg.get("data"), dict) else {}
    rows = folder.read_metrics(max_rows) if rows is None else rows
    results = folder.read_results()
    result = RunResult.from_results(results, str(folder.path)) if results is not None else None
    return RunInfo(folder.path, config, data, rows, result, folder.read_confusion(), str(cfg.get("device", "-")),
                   folder.read_progress(), int(number(cfg.get("n_params"), 0, HUGE_PARAMS, 0)),
                   _timestamp(cfg.get("created")))


def _timestamp(text) -> float:
    """config.json's `created` ('2026-12-07T22:10:43+0000') as seconds since the epoch; 0.0 if not that."""
    from datetime import datetime
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp() if isinstance(text, str) else 0.0
    except ValueError:
        return 0.0


def read_runs(runs_dir: str | Path = "runs", max_rows: int | None = None) -> list[RunInfo]:
    """Every run under runs_dir, newest first (by when each began: a resumed run keeps its place)."""
    return sorted((read_run(p, max_rows) for p in list_runs(runs_dir)), key=lambda r: r.created, reverse=True)
