"""Finding runs: the run folders under a runs folder, and a run or checkpoint named on a command line.

The folder's own files are RunFolder's (engine/runs/folder.py); taking and locking a folder is in lock.py,
metrics.csv in metrics.py, following it in follow.py.
"""

from __future__ import annotations

import time
from pathlib import Path

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.runs.folder import RunFolder, run_of_file

def default_run_name(source: str, model: str) -> str:
    return f"{source}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def list_runs(runs_dir: str | Path = "runs") -> list[Path]:
    """Run folders (those with a config.json), newest first; the runs of a sweep (a folder with sweep.json)
    are listed too."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    runs = []
    for p in root.iterdir():
        if RunFolder(p).is_run():
            runs.append(p)
        elif RunFolder(p).is_sweep():
            runs += [q for q in p.iterdir() if RunFolder(q).is_run()]
    return sorted(runs, key=lambda p: RunFolder(p).created, reverse=True)


def resolve_run(ref: str | Path, runs_dir: str | Path = "runs") -> Path:
    """A run folder from a path, a run name under runs_dir, or 'latest'."""
    if str(ref) == "latest":
        runs = list_runs(runs_dir)
        if not runs:
            raise CheckpointError(f"latest: no runs in {runs_dir}/")
        return runs[0]
    path = Path(ref)
    if not path.is_dir() and (Path(runs_dir) / str(ref)).is_dir() and "/" not in str(ref):
        path = Path(runs_dir) / str(ref)
    if not path.is_dir() and path.exists():  # a named pipe, a device or a socket: say so, not "not found"
        raise CheckpointError(f"{path}: not a regular file or a folder (a device, a socket or a pipe)")
    if not path.is_dir():
        raise CheckpointError(f"{path}: run folder not found")
    return RunFolder(path).require_run().path


def resolve_checkpoint(ref: str | Path, which: str = "best", runs_dir: str | Path = "runs") -> tuple[Path, Path | None]:
    """(checkpoint file, run folder or None) from a run folder, 'latest' or a checkpoint path; a run without
    best.pt gives its last.pt."""
    path = Path(ref)
    if path.is_file():
        return path, run_of_file(path)
    run = RunFolder(resolve_run(ref, runs_dir))
    ckpt = run.checkpoint(which)
    if not ckpt.is_file():
        if which == "best" and run.last.is_file():
            return run.last, run.path
        raise CheckpointError(f"{run.path}: no {ckpt.name} checkpoint")
    return ckpt, run.path
