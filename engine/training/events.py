"""Typed events the trainer reports through its callback; the faces render them."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("completed", "early-stopped", "cancelled", "interrupted", "diverged", "failed")


@dataclass(frozen=True)
class RunStarted:
    config: dict
    run_dir: str
    n_params: int
    device: str
    dataset: dict  # facts: classes, sizes, input shape, normalisation
    start_epoch: int = 1


@dataclass(frozen=True)
class BatchEnded:
    epoch: int
    step: int
    steps: int
    loss: float


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float
    confusion: list[list[int]] = field(default_factory=list)  # validation split, rows = true class
    best: bool = False


@dataclass(frozen=True)
class RunEnded:
    status: str
    history: "History"
    test: dict  # {"loss": .., "accuracy": ..} or {} when not evaluated


@dataclass
class History:
    """What a run returns: one row per epoch plus its outcome."""

    rows: list[dict] = field(default_factory=list)
    status: str = "running"
    best_epoch: int | None = None
    best_val_acc: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    run_dir: str | None = None

    def column(self, key: str) -> list[float]:
        return [r[key] for r in self.rows]

    def to_dict(self) -> dict:
        return {"rows": self.rows, "status": self.status, "best_epoch": self.best_epoch,
                "best_val_acc": self.best_val_acc, "test_loss": self.test_loss, "test_acc": self.test_acc,
                "run_dir": self.run_dir}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(**{k: d.get(k) for k in ("status", "best_epoch", "best_val_acc", "test_loss", "test_acc",
                                              "run_dir")}, rows=list(d.get("rows", [])))
