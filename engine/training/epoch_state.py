"""What the loop saves of an epoch in progress besides the weights: its running sums and the RNG states."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class EpochAccum:
    """Running sums of one epoch, kept on the device (read back only at log intervals and the end)."""

    loss_sum: torch.Tensor
    correct: torch.Tensor
    seen: int = 0
    seconds: float = 0.0
    bad_step: torch.Tensor | None = None  # first global step whose loss was not finite or exploded, else -1

    @classmethod
    def zeros(cls, device) -> "EpochAccum":
        return cls(torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long), 0, 0.0,
                   torch.full((), -1, device=device, dtype=torch.long))

    def to_state(self) -> dict:
        return {"loss_sum": self.loss_sum.cpu(), "correct": self.correct.cpu(), "seen": self.seen,
                "seconds": self.seconds}

    @classmethod
    def from_state(cls, d: dict, device) -> "EpochAccum":
        acc = cls.zeros(device)
        acc.loss_sum, acc.correct = d["loss_sum"].to(device), d["correct"].to(device)
        acc.seen, acc.seconds = int(d["seen"]), float(d["seconds"])
        return acc


def plain_state(state: dict) -> dict:
    """A state dict in the standard (contiguous) layout: channels_last is how the loop computes, not what
    checkpoints and exports hold."""
    return {k: v.contiguous() if isinstance(v, torch.Tensor) else v for k, v in state.items()}


def rng_state(gen: torch.Generator) -> dict:
    """The RNGs an exact resume restores: torch's, the epoch-order generator's, CUDA's where there is one."""
    state = {"torch": torch.get_rng_state(), "generator": gen.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(gen: torch.Generator, state: dict) -> None:
    """Restore what rng_state saved."""
    torch.set_rng_state(state["torch"])
    gen.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
