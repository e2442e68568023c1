"""RunFolder: the one place that knows a run folder's file names, how each is read and how each is written
(what eval/ and export/ hold is named by the code that writes them there).

Like Lightning's CSVLogger owns its log folder, `RunFolder(path)` owns a run's folder: a property per file,
the lock, `is_run()`, and tolerant reads and crash-safe writes (engine/core/files.py) of its JSON and CSV files;
checkpoints are written to its `best`/`last` by engine.runs.checkpoint, which seals them. Everything else in
engine, commands and tui asks it for a path instead of spelling a file name (the names: engine/runs/names.py).

Layout (what `RunWriter` writes, in this order): config.json first (a folder without it is no run yet),
metrics.csv (one row per epoch), progress.json (heartbeat), confusion.json and boundary.json (last epoch's
views), best.pt / last.pt (sealed checkpoints) recorded in checkpoints.json, results.json at the end; `lab
eval` and `lab export` write into eval/ and export/; --log-to adds trackers.json and tb/. `.lock` is held
while a process trains in the folder.
"""

from __future__ import annotations

from pathlib import Path

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.core.files import read_json, safe_folder, write_json
from lab_workbench.engine.runs.names import (BEST, BOUNDARY, CHECKPOINTS, CHECKSUMS, CONFIG, CONFUSION, EVAL, EXPORT,  # noqa: F401
                               LAST, LOCK, METRICS, PRE_CONFIG, PROGRESS, RESULTS, SWEEP, TENSORBOARD, TRACKERS)


class RunFolder:
    """A run folder: `RunFolder("runs/x").config` is its config.json path, `.read_results()` its results."""

    # the names, for messages that name a file without a folder ("no config.json")
    CONFIG, METRICS, RESULTS, PROGRESS, CHECKSUMS = CONFIG, METRICS, RESULTS, PROGRESS, CHECKSUMS
    CONFUSION, BOUNDARY, BEST, LAST, LOCK, SWEEP = CONFUSION, BOUNDARY, BEST, LAST, LOCK, SWEEP

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # ---- one property per file ----
    config = property(lambda self: self.path / CONFIG, doc="config.json: the settings, data facts, device")
    metrics = property(lambda self: self.path / METRICS, doc="metrics.csv: one row per epoch")
    results = property(lambda self: self.path / RESULTS, doc="results.json: status and outcome, at the end")
    progress = property(lambda self: self.path / PROGRESS, doc="progress.json: the live run's heartbeat")
    checksums = property(lambda self: self.path / CHECKSUMS, doc="checkpoints.json: the checkpoints' SHA-256")
    confusion = property(lambda self: self.path / CONFUSION, doc="confusion.json: the last epoch's matrix")
    boundary = property(lambda self: self.path / BOUNDARY, doc="boundary.json: 2-D decision regions")
    best = property(lambda self: self.path / BEST, doc="best.pt: the best epoch's checkpoint")
    last = property(lambda self: self.path / LAST, doc="last.pt: the latest checkpoint, for resuming")
    lock_file = property(lambda self: self.path / LOCK, doc=".lock: flocked while a process trains here")
    eval_dir = property(lambda self: self.path / EVAL, doc="eval/: what `lab eval` writes")
    export_dir = property(lambda self: self.path / EXPORT, doc="export/: what `lab export` writes")
    trackers = property(lambda self: self.path / TRACKERS, doc="trackers.json: the --log-to trackers' run ids")
    tb_dir = property(lambda self: self.path / TENSORBOARD, doc="--log-to tensorboard's event files, in tb/")

    def checkpoint(self, which: str = "best") -> Path:
        """best.pt or last.pt by name ('best', 'last')."""
        return self.path / CHECKPOINTS[which]

    def existing_checkpoint(self, prefer: str = "best") -> Path | None:
        """The preferred checkpoint, else the other one, else None."""
        other = "last" if prefer == "best" else "best"
        return next((p for p in (self.checkpoint(prefer), self.checkpoint(other)) if p.is_file()), None)

    @property
    def data_files(self) -> list[Path]:
        """The files a viewer follows (their changes mean something to show)."""
        return [self.metrics, self.results, self.confusion, self.progress, self.boundary]

    @property
    def resume_files(self) -> list[Path]:
        """Every file a resume reads or rewrites."""
        return [self.config, self.metrics, self.results, self.progress, self.checksums, self.confusion,
                self.last, self.best]

    # ---- what the folder is ----
    def is_run(self) -> bool:
        """A run of lab: its config.json exists (it is written first)."""
        return self.config.is_file()

    def in_sweep(self) -> bool:
        """One point of a sweep (the folder above holds sweep.json)."""
        return (self.path.parent / SWEEP).is_file()

    def is_sweep(self) -> bool:
        """A sweep's folder (it holds sweep.json), not a run."""
        return (self.path / SWEEP).is_file()

    @property
    def created(self) -> float:
        """When the run began (config.json's mtime); 0 when unreadable."""
        try:
            return self.config.stat().st_mtime
        except OSError:
            return 0.0

    def require_run(self) -> "RunFolder":
        """self, or a CheckpointError when the folder holds no config.json."""
        if not self.is_run():
            raise CheckpointError(f"{self.path}: {self.not_run_reason()}")
        return self

    def not_run_reason(self) -> str:
        """Why this folder is no run, for error lines: a sweep's folder names one of its runs."""
        if self.is_sweep():
            points = sorted(d.name for d in self.path.iterdir() if RunFolder(d).is_run())
            some = f" (e.g. {self.path / points[0]})" if points else ""
            return (f"a sweep's folder, not a run: name one of its runs{some}, or compare them all with lab "
                    f"compare {self.path}")
        return f"not a run folder (no {CONFIG})"

    def lock(self):
        """The folder's RunLock (not yet acquired)."""
        from lab_workbench.engine.runs.lock import RunLock
        return RunLock(self.path)

    # ---- reading: tolerant (a viewer shows what is there) or strict (a resume needs it) ----
    def read(self, path: Path) -> dict | None:
        """A JSON object file of this folder, or None when missing, half-written or not an object."""
        try:
            return read_json(path)
        except CheckpointError:
            return None

    def read_config(self) -> dict:
        """config.json's record ({config, data, device, ...}); CheckpointError naming the file if unreadable."""
        return read_json(self.config)

    def read_results(self) -> dict | None:
        return self.read(self.results)

    def read_progress(self) -> dict | None:
        return self.read(self.progress)

    def read_confusion(self) -> dict | None:
        return self.read(self.confusion)

    def read_metrics(self, max_rows: int | None = None) -> list[dict]:
        """metrics.csv's rows (see engine.runs.metrics_csv.read_metrics)."""
        from lab_workbench.engine.runs.metrics_csv import read_metrics
        return read_metrics(self.metrics, max_rows)

    def ended(self) -> bool:
        """results.json says the run completed or stopped early (a resume has nothing left to do)."""
        return (self.read_results() or {}).get("status") in ("completed", "early-stopped")

    # ---- writing: crash-safe (temp file, fsync, rename; never through a symlink) ----
    def write_config(self, record: dict) -> None:
        write_json(self.config, record)

    def write_results(self, results: dict) -> None:
        write_json(self.results, results)

    def write_progress(self, progress: dict) -> None:
        write_json(self.progress, progress, durable=False)  # a heartbeat: the next one replaces it

    def write_confusion(self, confusion: dict) -> None:
        write_json(self.confusion, confusion, durable=False)

    def write_boundary(self, grid: dict) -> None:
        write_json(self.boundary, grid, durable=False)

    def metrics_writer(self, create: bool = True):
        """A MetricsWriter appending to metrics.csv."""
        from lab_workbench.engine.runs.metrics_csv import MetricsWriter
        return MetricsWriter(self.metrics, create=create)

    def eval_folder(self) -> Path:
        """eval/, made if missing; refused if it or the run folder is a symlink (it would take files outside
        the run)."""
        return safe_folder(self.writable().eval_dir)

    def export_folder(self) -> Path:
        """export/, made if missing; refused if it or the run folder is a symlink."""
        return safe_folder(self.writable().export_dir)

    def writable(self) -> "RunFolder":
        """self, or a CheckpointError when the run folder is a symlink (as a resume refuses it): every
        command that writes into a run asks this first."""
        from lab_workbench.engine.runs.lock import check_run_folder
        check_run_folder(self.path)
        return self


def run_of_file(path: str | Path, up: int = 1) -> Path | None:
    """The run folder `up` levels above a file (best.pt: 1, export/model.onnx: 2), or None if that is no run."""
    folder = Path(path)
    for _ in range(up):  # .parent, not .parents[]: a bare relative name ("model.onnx") has no parents[1]
        folder = folder.parent
    return folder if RunFolder(folder).is_run() else None
