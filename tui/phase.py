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
    from lab_workbench.engine.runs import number
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


class Pace:
    """Where a run is (the epoch in progress, 1-based, its batch and batches) and how fast it goes: the time
    per batch since the first batch seen here, validation and saving included, pauses not."""

    def __init__(self) -> None:
        self.epoch, self.step, self.steps = 0, 0, 0
        self.mark: tuple[float, int] | None = None  # (active time, batches done) at the first batch seen
        self.per_step: float | None = None  # seconds a batch takes, measured here

    def move(self, epoch: int, step: int, steps: int, active: float, done_epochs: int = 0) -> None:
        """The run is at batch `step` of `steps` in `epoch`; `active` is the clock less the paused time. A
        heartbeat that names an epoch whose row exists (`done_epochs`) means that epoch's end."""
        steps = steps or self.steps
        if epoch <= done_epochs and steps:
            step = steps
        self.epoch, self.step, self.steps = epoch, step, steps
        if not steps:
            return
        done = (epoch - 1) * steps + step
        if self.mark is None or done < self.mark[1]:  # a resume or a rewound heartbeat: measure afresh
            self.mark = (active, done)
        elif done > self.mark[1] and active > self.mark[0]:
            self.per_step = (active - self.mark[0]) / (done - self.mark[1])

    def eta(self, epochs: int, rows: list[dict]) -> float | None:
        """Seconds left: the batches left (this epoch's included) times the time a batch takes, measured here
        or, before that, from the epochs' own times."""
        if not (epochs and self.steps and self.epoch):
            return None
        left = (epochs - self.epoch) * self.steps + (self.steps - self.step)
        per_step = self.per_step
        if per_step is None and rows:
            from lab_workbench.engine.runs import number
            per_step = sum(number(r.get("seconds"), 0, 1e9, 0) for r in rows) / len(rows) / self.steps
        return None if per_step is None or left <= 0 else left * per_step
