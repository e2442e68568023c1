"""RunResult: a run's outcome in one shape, whoever holds it.

`train()` returns it (the trainer builds it epoch by epoch; `engine.contract.events.History` is this class),
`RunEnded` carries it, the run writer turns it into results.json, `lab train --json-lines` prints its
summary, and a viewer reads results.json back into it (`RunInfo.result`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from lab_workbench.engine.contract.values import number


@dataclass
class RunResult:
    """One row per epoch plus the run's outcome (status, best epoch, test metrics, how it stopped)."""

    rows: list[dict] = field(default_factory=list)
    status: str = "running"
    best_epoch: int | None = None
    best_val_acc: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    run_dir: str | None = None
    monitor: str = "val"  # split of val_loss/val_acc: 'train' when there is no validation split
    test: dict = field(default_factory=dict)  # {"loss", "accuracy", ...}; {} when not evaluated
    error: str = ""
    diverged_at: dict | None = None  # {"epoch", "step", "loss"} when the loss stopped being finite or exploded
    timings: dict = field(default_factory=dict)  # seconds per phase and the wall time
    warnings: list = field(default_factory=list)  # for the face to tell: e.g. a tracker switched off mid-run

    def column(self, key: str) -> list[float]:
        """One metric over the epochs, e.g. result.column("val_acc")."""
        return [r[key] for r in self.rows]

    @property
    def seconds(self) -> float:
        """Seconds spent in epochs (metrics.csv's `seconds`, summed)."""
        return sum(number(r.get("seconds"), 0.0, default=0.0) for r in self.rows)

    # ---- the checkpoint's record of the run so far (kept as it was, so old checkpoints resume) ----
    def to_dict(self) -> dict:
        """The record a checkpoint keeps (its `history`)."""
        return {"rows": self.rows, "status": self.status, "best_epoch": self.best_epoch,
                "best_val_acc": self.best_val_acc, "test_loss": self.test_loss, "test_acc": self.test_acc,
                "run_dir": self.run_dir, "monitor": self.monitor}

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        """The result a checkpoint's `history` records (see to_dict)."""
        keys = ("status", "best_epoch", "best_val_acc", "test_loss", "test_acc", "run_dir")
        return cls(**{k: d.get(k) for k in keys}, monitor=d.get("monitor") or "val", rows=list(d.get("rows", [])))

    # ---- the ended run: RunEnded, results.json, the --json-lines summary ----
    @classmethod
    def of(cls, ended) -> "RunResult":
        """The result a RunEnded event reports: its history with the event's outcome filled in."""
        return replace(ended.history, status=ended.status, test=dict(ended.test or {}), error=ended.error,
                       diverged_at=ended.diverged_at, timings=dict(ended.timings or {}))

    def summary(self) -> dict:
        """The outcome without the rows: what `--json-lines` prints for RunEnded."""
        return {"status": self.status, "test": self.test, "run_dir": self.run_dir, "best_epoch": self.best_epoch,
                "best_val_acc": self.best_val_acc, "epochs_completed": len(self.rows), "error": self.error,
                "diverged_at": self.diverged_at, "timings": self.timings}

    def to_results(self, config: dict, data: dict, ended: str) -> dict:
        """results.json: the summary, the rows (as `history`), the config and data facts, when it ended."""
        results = {"status": self.status, "config": config, "data": data,
                   "best_epoch": self.best_epoch, "best_val_acc": self.best_val_acc,
                   "epochs_completed": len(self.rows), "history": self.rows, "test": self.test,
                   "monitor": self.monitor, "seconds": self.seconds, "load_seconds": data.get("load_seconds"),
                   "ended": ended, "timings": self.timings}
        if self.error:
            results["error"] = self.error
        if self.diverged_at:
            results["diverged_at"] = self.diverged_at
        return results

    @classmethod
    def from_results(cls, d: dict, run_dir: str | None = None) -> "RunResult":
        """A results.json read back; any field of the wrong type (a hostile or damaged file) reads as absent."""
        def typed(key, kind, default=None):
            return d.get(key) if isinstance(d.get(key), kind) else default
        rows = [r for r in typed("history", list, []) if isinstance(r, dict)]
        test = typed("test", dict, {})
        best = typed("best_epoch", int)
        return cls(rows=rows, status=typed("status", str, "")[:20],
                   best_epoch=None if isinstance(best, bool) else best,
                   best_val_acc=number(d.get("best_val_acc"), 0.0, 1.0),
                   test_loss=number(test.get("loss")), test_acc=number(test.get("accuracy"), 0.0, 1.0),
                   run_dir=run_dir, monitor=typed("monitor", str, "val"), test=test, error=typed("error", str, ""),
                   diverged_at=typed("diverged_at", dict), timings=typed("timings", dict, {}))
