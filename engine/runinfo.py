"""Read a run folder back into one summary: what the runs browser and watch mode show."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from .training.events import best_row
from .training.runs import list_runs, read_metrics

STALE_SECONDS = 300  # a run without results.json whose metrics have not moved for this long is 'stopped?'


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # missing, or caught mid-write by a reader on a network file system


@dataclass
class RunInfo:
    path: Path
    config: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    results: dict | None = None
    confusion: dict | None = None
    device: str = "-"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        if self.results and self.results.get("status"):
            return self.results["status"]
        metrics = self.path / "metrics.csv"
        age = time.time() - (metrics.stat().st_mtime if metrics.exists() else (self.path / "config.json").stat().st_mtime)
        return "running" if age < STALE_SECONDS else "stopped?"

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs", 0))

    @property
    def best_val_acc(self) -> float | None:
        best = best_row(self.rows)
        return None if best is None else best["val_acc"]

    @property
    def test_acc(self) -> float | None:
        return ((self.results or {}).get("test") or {}).get("accuracy")

    @property
    def source(self) -> str:
        return self.data.get("source") or self.config.get("dataset", "?")


def read_run(path: str | Path) -> RunInfo:
    """Everything a run folder holds that a viewer needs; missing files are simply absent."""
    path = Path(path)
    cfg = _json(path / "config.json") or {}
    return RunInfo(path, cfg.get("config", {}), cfg.get("data", {}), read_metrics(path / "metrics.csv"),
                   _json(path / "results.json"), _json(path / "confusion.json"), cfg.get("device", "-"))


def read_runs(runs_dir: str | Path = "runs") -> list[RunInfo]:
    """Every run under runs_dir, newest first."""
    return [read_run(p) for p in list_runs(runs_dir)]
