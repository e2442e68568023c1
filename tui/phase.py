"""What a live run is doing now, from its events: the one place where labtui maps events to a phase.

The engine may announce phases itself (an event with a `phase` field); until it does for every phase, the
phase is derived from the events that exist: a batch that ends an epoch is followed by validation, a
checkpoint by the epoch's row, and the last epoch's row by the evaluation of the test split.
"""

from __future__ import annotations

LOADING = "loading data"
TRAINING = "training"
VALIDATING = "validating"
SAVING = "saving"
TESTING = "evaluating test split"
CANCELLING = "stopping..."
BUSY = (VALIDATING, SAVING, TESTING, LOADING, CANCELLING)  # no batches arrive: the clock must tick itself
# engine.PhaseChanged's names, as the status line says them
LABELS = {"loading": LOADING, "training": TRAINING, "validating": VALIDATING, "testing": TESTING,
          "saving": SAVING, "cancelling": CANCELLING}


def next_phase(event, phase: str) -> str:
    """The phase after `event`, given the current one (a cancelling run stays cancelling until it ends)."""
    name = type(event).__name__
    if name == "RunEnded":
        return event.status
    if phase == CANCELLING:  # a stop's saving is part of stopping
        return phase
    explicit = getattr(event, "phase", None)
    if isinstance(explicit, str) and explicit:
        return LABELS.get(explicit, explicit)
    if name == "RunStarted":
        return TRAINING
    if name == "BatchEnded":
        return VALIDATING if event.step == event.steps else TRAINING
    if name == "CheckpointReady":
        return SAVING
    if name == "EpochEnded":
        return TESTING if event.epoch >= event.epochs else TRAINING
    return phase


class Rate:
    """Samples per second over the last interval between two batch events of the same epoch."""

    def __init__(self) -> None:
        self.mark: tuple[int, int, float] | None = None
        self.per_second: float | None = None

    def update(self, epoch: int, step: int, batch_size: int, now: float) -> None:
        if self.mark and self.mark[0] == epoch and step > self.mark[1] and now > self.mark[2]:
            self.per_second = (step - self.mark[1]) * batch_size / (now - self.mark[2])
        self.mark = (epoch, step, now)


def folder_phase(progress: dict, rows: list[dict], epochs: int) -> str:
    """What a run that another process trains is doing, from its folder: progress.json's `phase` where the
    writer records one, else from its heartbeat and rows (a batch at the end of its epoch is followed by
    validation; once the last epoch's row is written, the test split is evaluated)."""
    from engine.runs import number
    explicit = progress.get("phase")
    if isinstance(explicit, str) and explicit in LABELS:
        return LABELS[explicit]
    done = number(rows[-1].get("epoch"), 0, 1e9, 0) if rows else 0
    if epochs and done >= epochs:
        return TESTING
    step, steps = number(progress.get("step"), 0, 1e12, 0), number(progress.get("steps"), 1, 1e12)
    if steps and step >= steps:
        return VALIDATING
    return TRAINING
