"""The learning rate as a pure function of the global step (cf. nanoGPT's get_lr, airbench's precomputed
schedule), so that a resume needs only the step: warm-up, step, cosine and onecycle. `plateau` is the one
exception with state, the validation losses it has seen, kept in the checkpoint's small
`scheduler_state_dict`.

The formulas are torch's (StepLR, CosineAnnealingLR per epoch, OneCycleLR per step with its momentum cycle,
ReduceLROnPlateau with patience 2), written in closed form over (step, steps per epoch, the config's epochs).
Each is registered by name like the models (`register_scheduler`), so a plugin can add one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lab_workbench.engine.core.registry import SCHEDULERS

DIV, FINAL_DIV = 25.0, 1e4  # onecycle starts at max_lr / 25 and ends 1e4 times lower (torch's defaults)
MOMENTUM_LOW, MOMENTUM_HIGH = 0.85, 0.95  # onecycle's momentum (or Adam's beta1) falls as the lr rises
PATIENCE, THRESHOLD, EPS = 2, 1e-4, 1e-8  # plateau: epochs without a 1e-4 relative gain before a decay


@dataclass
class Plateau:
    """The lr scale of --scheduler plateau: times gamma after PATIENCE + 1 epochs without a better val loss."""

    gamma: float
    best: float = math.inf
    num_bad_epochs: int = 0
    scale: float = 1.0

    def observe(self, val_loss: float, base_lr: float) -> None:
        """Count an epoch's validation loss; decay the scale when it has stalled long enough."""
        if val_loss < self.best * (1 - THRESHOLD):  # NaN compares False: a bad epoch
            self.best, self.num_bad_epochs = float(val_loss), 0
        else:
            self.num_bad_epochs += 1
        if self.num_bad_epochs > PATIENCE:
            if base_lr * self.scale * (1 - self.gamma) > EPS:
                self.scale *= self.gamma
            self.num_bad_epochs = 0


def register_scheduler(name: str, description: str, uses: tuple[str, ...] = ()):
    """Decorator: register `lr(schedule, step, base) -> float` under `name` (--scheduler NAME): the learning
    rate at global optimizer step `step` (0-based) of a group whose --lr is `base`; `schedule` (a Schedule)
    has steps_per_epoch, epochs, total, step_size and gamma. Warm-up is applied on top. `uses`: which of
    step_size and gamma it reads (set for a schedule that does not, they are an error)."""
    return SCHEDULERS.register(name, description, uses)


class Schedule:
    """The lr of each parameter group (and onecycle's momentum) at any global step of a run of `cfg`."""

    def __init__(self, cfg, steps_per_epoch: int, base_lrs: list[float]):
        self.lr_at = SCHEDULERS.get(cfg.scheduler).fn  # an unknown name: the --scheduler error with the choices
        self.name, self.base = cfg.scheduler, list(base_lrs)  # the groups' lrs (--head-lr has its own)
        self.steps_per_epoch, self.epochs = max(1, steps_per_epoch), cfg.epochs
        self.total = self.epochs * self.steps_per_epoch  # of the config being run: --epochs N stretches it
        self.step_size, self.gamma = cfg.step_size, cfg.gamma
        self.warmup_steps = 0 if self.name == "onecycle" else round(cfg.warmup * self.steps_per_epoch)
        # onecycle's rising part: --warmup epochs, else 30% of the run; at least 2 steps (a recipe on
        # --subset 512 has a handful of steps in all), at most 99%
        pct = cfg.warmup / cfg.epochs if cfg.warmup else 0.3
        self.peak = min(max(pct, 0.01, 2 / self.total), 0.99) * self.total - 1  # the step at max_lr
        self.plateau = Plateau(cfg.gamma) if self.name == "plateau" else None

    def lrs(self, step: int) -> list[float]:
        """Each group's lr for optimizer step `step` (0-based, counted over the whole run)."""
        warm = (step + 1) / self.warmup_steps if step < self.warmup_steps else 1.0
        return [self.lr_at(self, step, base) * warm for base in self.base]

    def epoch(self, step: int) -> int:
        """The 0-based epoch of `step`: step, cosine and plateau hold an epoch's lr fixed."""
        return step // self.steps_per_epoch

    def momentum(self, step: int) -> float | None:
        """onecycle's momentum (beta1 for Adam) at `step`; None for the schedules that leave it alone."""
        if self.name != "onecycle":
            return None
        rising, pct = self.cycle(step)
        return _anneal(MOMENTUM_HIGH, MOMENTUM_LOW, pct) if rising else _anneal(MOMENTUM_LOW, MOMENTUM_HIGH, pct)

    def cycle(self, step: int) -> tuple[bool, float]:
        """onecycle: (whether `step` is in the rising part, how far along that part it is, 0 to 1)."""
        if step <= self.peak:
            return True, step / self.peak
        return False, (step - self.peak) / (self.total - 1 - self.peak)

    def apply(self, opt, step: int) -> None:
        """Set the optimizer's lr (and onecycle's momentum) for step `step`: done before every step."""
        momentum = self.momentum(step)
        for group, lr in zip(opt.param_groups, self.lrs(step)):
            group["lr"] = lr
            if momentum is not None and "betas" in group:
                group["betas"] = (momentum, *group["betas"][1:])
            elif momentum is not None and "momentum" in group:
                group["momentum"] = momentum

    def end_epoch(self, val_loss: float) -> None:
        """Tell plateau the epoch's validation loss (the other schedules need only the step)."""
        if self.plateau is not None:
            self.plateau.observe(val_loss, self.base[0])

    def state_dict(self, step: int) -> dict:
        """What the checkpoint keeps as `scheduler_state_dict`: the step and, for plateau, its state."""
        state = {"schedule": self.name, "global_step": step, "_last_lr": self.lrs(max(step - 1, 0))}
        if self.plateau is not None:
            state.update(best=self.plateau.best, num_bad_epochs=self.plateau.num_bad_epochs,
                         scale=self.plateau.scale)
        return state

    def load_state_dict(self, state: dict | None) -> None:
        """Restore plateau's state (TrainingState migrates the older formats to this one); the others have
        nothing to restore."""
        if self.plateau is None or not state:
            return
        self.plateau.best, self.plateau.scale = float(state.get("best", math.inf)), float(state.get("scale", 1.0))
        self.plateau.num_bad_epochs = int(state.get("num_bad_epochs", 0))


@register_scheduler("none", "a constant learning rate")
def _constant(schedule: Schedule, step: int, base: float) -> float:
    return base


@register_scheduler("step", "times --gamma every --step-size epochs", ("step_size", "gamma"))
def _step(schedule: Schedule, step: int, base: float) -> float:
    return base * schedule.gamma ** (schedule.epoch(step) // schedule.step_size)


@register_scheduler("plateau", "times --gamma after 3 epochs without a better validation loss", ("gamma",))
def _plateau(schedule: Schedule, step: int, base: float) -> float:
    return base * schedule.plateau.scale


@register_scheduler("cosine", "cosine annealing to 0 over the run, per epoch")
def _cosine(schedule: Schedule, step: int, base: float) -> float:
    return base * (1 + math.cos(math.pi * schedule.epoch(step) / schedule.epochs)) / 2


@register_scheduler("onecycle", "one cycle, per step: up from --lr/25 (over --warmup, else 30%) and down, "
                                "with the momentum cycled the other way")
def _onecycle(schedule: Schedule, step: int, base: float) -> float:
    rising, pct = schedule.cycle(step)
    low = base / DIV
    return _anneal(low, base, pct) if rising else _anneal(base, low / FINAL_DIV, pct)


def _anneal(start: float, end: float, pct: float) -> float:
    """Cosine from `start` (pct 0) to `end` (pct 1), as torch's OneCycleLR computes it."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
