"""Typed events the trainer reports through its callback; the faces render them."""

from __future__ import annotations

from dataclasses import dataclass, field

from lab_workbench.engine.contract.monitor import MONITORS, improves
from lab_workbench.engine.contract.result import RunResult

STATUSES = ("completed", "early-stopped", "cancelled", "interrupted", "pruned", "diverged", "failed")
# the columns of metrics.csv and of every epoch row, declared once
METRICS_HEADER = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]


def best_row(rows: list[dict], monitor: str = "val_acc") -> dict | None:
    """The epoch row that best.pt holds: the best under --monitor (engine.contract.monitor), the first of equals."""
    best = None
    for r in rows:
        if improves(monitor if monitor in MONITORS else "val_acc", r, best):
            best = r
    return best


@dataclass(frozen=True)
class RunStarted:
    config: dict
    run_dir: str
    n_params: int
    device: str
    dataset: dict  # facts: classes, sizes, input shape, normalisation
    start_epoch: int = 1
    start_step: int = 0  # batches of start_epoch already done (a resume from a mid-epoch checkpoint)
    rows: tuple = field(default=(), repr=False)  # the epoch rows a resumed run already has
    resumed: bool = False
    precision: str = "fp32"  # what --precision resolved to on this device
    threads: int = 0  # torch's intra-op CPU threads
    trainable: int = -1  # parameters the optimizer moves (fewer than n_params with --freeze); -1: all
    notes: tuple = ()  # adaptations to tell on the first line: resized inputs, a re-initialised head, ...
    warnings: tuple = ()  # e.g. a tracker that is not installed or not reachable


@dataclass(frozen=True)
class BatchEnded:
    epoch: int
    step: int
    steps: int
    loss: float


@dataclass(frozen=True)
class PhaseChanged:
    """What the run is doing now, so that a face never sits silent for long: sent when a phase starts and,
    for phases that go through samples, as they progress (at most a few times a second).

    phase: 'loading' (reading the data set), 'training', 'validating', 'testing' (the test split at the
    end), 'saving' (a checkpoint) or 'cancelling' (a stop was asked: the run saves and ends).
    done/total: samples of the phase done so far and in all (0/0 when the phase is not counted).
    epoch: the epoch it belongs to (0 before the first).
    """

    phase: str
    done: int = 0
    total: int = 0
    epoch: int = 0


PHASES = ("loading", "training", "validating", "testing", "saving", "cancelling")


@dataclass(frozen=True)
class CheckpointReady:
    """A consistent training state to save as last.pt (and best.pt when `best`)."""

    state: dict = field(repr=False)  # every tensor of the run: printing it would flood a terminal
    best: bool = False

    def __repr__(self) -> str:
        return (f"CheckpointReady(epoch={self.state.get('epoch')}, epoch_step={self.state.get('epoch_step')}, "
                f"best={self.best})")


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
    confusion: list[list[int]] = field(default_factory=list, repr=False)  # validation split, rows = true class
    best: bool = False
    monitor: str = "val"  # the split that val_loss/val_acc come from: 'val', or 'train' without --val-split

    def row(self) -> dict:
        """The metrics.csv row of this epoch."""
        return {k: getattr(self, k) for k in METRICS_HEADER}


@dataclass(frozen=True)
class BoundaryReady:
    """2-D point data sets: the decision regions after an epoch (a BoundaryGrid.to_dict())."""

    epoch: int
    grid: dict = field(repr=False)


@dataclass(frozen=True)
class RunEnded:
    status: str
    history: "History" = field(repr=False)
    test: dict  # {"loss": .., "accuracy": ..} or {} when not evaluated
    error: str = ""
    diverged_at: dict | None = None  # {"epoch", "step", "loss"} when the loss stopped being finite or exploded
    timings: dict = field(default_factory=dict)  # seconds per phase and the wall time (engine.runtime.timings.Timings)


# What a run returns: one row per epoch plus its outcome. One shape for a run's result, wherever it is held
# (train()'s return, RunEnded, results.json, RunInfo.result): engine.contract.result.RunResult.
History = RunResult
