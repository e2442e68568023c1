"""What the loop tracks across epochs: the best one (best.pt, --monitor), the epochs since it (--patience),
and whether the loss diverged (not finite, or far above chance level)."""

from __future__ import annotations

import math

import torch

from lab_workbench.engine.training.epoch_state import EpochAccum, plain_state
from lab_workbench.engine.contract.monitor import improves

EXPLODE_FACTOR = 1e4  # a batch loss above this many times the chance-level loss counts as diverged


class EpochTracker:
    """The best epoch so far and its weights, the epochs without improvement, and the divergence check."""

    def __init__(self, monitor: str, patience: int | None, num_classes: int):
        self.monitor, self.patience = monitor, patience
        self.limit = EXPLODE_FACTOR * max(1.0, math.log(max(num_classes, 2)))
        self.best_acc, self.best_loss, self.bad_epochs = -1.0, math.inf, 0
        self.best_row: dict | None = None  # the metrics of best.pt's epoch, compared under --monitor
        self.best_state: dict | None = None  # best.pt's weights, for the test score

    def restore(self, state, rows: list[dict], best_epoch: int | None, best_weights: dict | None) -> None:
        """Continue from a TrainingState, its history's rows and best.pt's weights."""
        self.best_acc, self.best_loss, self.bad_epochs = state.best_accuracy, state.best_val_loss, state.bad_epochs
        self.best_row = next((r for r in rows if r.get("epoch") == best_epoch), None)
        self.best_state = best_weights

    def fields(self) -> dict:
        """Its part of a TrainingState."""
        return {"best_accuracy": self.best_acc, "best_val_loss": self.best_loss, "bad_epochs": self.bad_epochs}

    def observe(self, row: dict, model: torch.nn.Module) -> bool:
        """Count an epoch's row; when it is the best so far (one rule for best.pt and --patience), keep a copy
        of `model`'s weights and return True."""
        if not improves(self.monitor, row, self.best_row):
            self.bad_epochs += 1
            return False
        self.best_row, self.best_acc, self.best_loss, self.bad_epochs = row, row["val_acc"], row["val_loss"], 0
        self.best_state = {k: v.detach().clone() for k, v in plain_state(model.state_dict()).items()}
        return True

    def patience_spent(self) -> bool:
        return bool(self.patience) and self.bad_epochs >= self.patience

    def check_loss(self, acc: EpochAccum, loss: torch.Tensor, step: int) -> None:
        """Record in `acc` the first step whose loss is not finite or exploded, on the device (no sync)."""
        bad = ~(loss <= self.limit)  # NaN and inf compare False: one test covers all three
        acc.bad_step = torch.where((acc.bad_step < 0) & bad, step, acc.bad_step)

    def diverged(self, acc: EpochAccum | None, epoch: int, first_step: int, dist) -> dict | None:
        """{epoch, step, global_step, limit} when the epoch (whose first global step is `first_step`) saw a
        diverged loss on any rank, else None."""
        bad = int(acc.bad_step.item()) if acc is not None else -1
        if not dist.any(bad >= 0):
            return None
        if bad < 0:  # another rank saw it
            return {"epoch": epoch, "step": None, "global_step": None, "limit": self.limit}
        return {"epoch": epoch, "step": bad - first_step + 1, "global_step": bad + 1, "limit": self.limit}
