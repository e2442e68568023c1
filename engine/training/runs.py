"""The run folder: config.json, metrics.csv, results.json, best.pt, last.pt."""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

from ..errors import CheckpointError
from .checkpoint import atomic_write

METRICS_HEADER = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]


def create_run_dir(runs_dir: str | Path, name: str) -> Path:
    """Make runs_dir/name, or name-2, name-3... if taken: an existing run is never overwritten."""
    root = Path(runs_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for i in range(1, 10_000):
            path = root / (name if i == 1 else f"{name}-{i}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as e:
        raise CheckpointError(f"--runs-dir {root}: cannot create a run folder ({e.strerror or e})") from None
    raise CheckpointError(f"--runs-dir {root}: too many runs named {name!r}")


def default_run_name(source: str, model: str) -> str:
    return f"{source}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def _clean(obj):
    # JSON has no NaN/inf; write them as null so every reader can parse the file
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: str | Path, data) -> None:
    """Write JSON atomically (readers such as `labtui --watch` never see half a file)."""
    text = json.dumps(_clean(data), indent=2)

    def write(tmp):
        Path(tmp).write_text(text + "\n")
    atomic_write(path, write)


def read_json(path: str | Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not found") from None
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None


class MetricsWriter:
    """Appends one row per epoch to metrics.csv and flushes it at once, so `tail -f` can follow."""

    def __init__(self, path: str | Path, keep_epochs: int | None = None):
        self.path = Path(path)
        if keep_epochs is not None and self.path.exists():  # a resumed run drops rows past its checkpoint
            rows = [r for r in read_metrics(self.path) if r["epoch"] <= keep_epochs]
            self._rewrite(rows)
        elif not self.path.exists():
            self._rewrite([])

    def _rewrite(self, rows):
        def write(tmp):
            with open(tmp, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(METRICS_HEADER)
                for r in rows:
                    w.writerow([r[k] for k in METRICS_HEADER])
        atomic_write(self.path, write)

    def append(self, row: dict) -> None:
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([_fmt(row[k]) for k in METRICS_HEADER])
            f.flush()


def _fmt(v):
    return f"{v:.6g}" if isinstance(v, float) else v


def read_metrics(path: str | Path) -> list[dict]:
    """Rows of a metrics.csv as dicts of numbers; a half-written last line is skipped."""
    rows = []
    try:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                try:
                    rows.append({k: (int(r[k]) if k == "epoch" else float(r[k])) for k in METRICS_HEADER})
                except (TypeError, ValueError, KeyError):
                    continue
    except FileNotFoundError:
        return []
    return rows


def list_runs(runs_dir: str | Path = "runs") -> list[Path]:
    """Run folders (those with a config.json), newest first."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / "config.json").is_file()]
    return sorted(runs, key=lambda p: (p / "config.json").stat().st_mtime, reverse=True)


def resolve_run(ref: str | Path, runs_dir: str | Path = "runs") -> Path:
    """A run folder from a path or 'latest'."""
    if str(ref) == "latest":
        runs = list_runs(runs_dir)
        if not runs:
            raise CheckpointError(f"latest: no runs in {runs_dir}/")
        return runs[0]
    path = Path(ref)
    if not path.is_dir():
        raise CheckpointError(f"{path}: run folder not found")
    if not (path / "config.json").is_file():
        raise CheckpointError(f"{path}: not a run folder (no config.json)")
    return path


def resolve_checkpoint(ref: str | Path, which: str = "best", runs_dir: str | Path = "runs") -> tuple[Path, Path | None]:
    """(checkpoint file, run folder or None) from a run folder, 'latest' or a checkpoint path."""
    path = Path(ref)
    if path.is_file():
        run = path.parent if (path.parent / "config.json").is_file() else None
        return path, run
    run = resolve_run(ref, runs_dir)
    ckpt = run / f"{which}.pt"
    if not ckpt.is_file():
        other = run / ("last.pt" if which == "best" else "best.pt")
        if which == "best" and other.is_file():
            return other, run
        raise CheckpointError(f"{run}: no {which}.pt checkpoint")
    return ckpt, run
