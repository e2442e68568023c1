"""One training step, the same for the training loop and lr-find: the forward pass under autocast, the loss
(with the L1/L2 penalty), a backward pass through the fp16 grad scaler, clipping on unscaled gradients and
the optimizer step. The caller sets the lr before it (the schedule) and updates the EMA after it."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lab_workbench.engine.runtime.precision import autocast, grad_scaler
from lab_workbench.engine.training.optim import penalty, penalty_params


@dataclass
class StepParts:
    """What every step of a run uses: the network, its optimizer and grad scaler, and the loss settings."""

    net: torch.nn.Module  # what computes the forward pass (the DDP wrapper under torchrun)
    opt: torch.optim.Optimizer
    scaler: torch.amp.GradScaler  # enabled for fp16 only; disabled, it passes the loss and the step through
    precision: str
    device: torch.device
    label_smoothing: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip_grad: float = 0.0
    params: list = field(default_factory=list)  # what clipping bounds: every parameter of the model
    weights: list = field(default_factory=list)  # what L1/L2 act on: matrices and kernels

    @classmethod
    def build(cls, net: torch.nn.Module, model: torch.nn.Module, opt, cfg, precision: str, device) -> "StepParts":
        """The step parts of `cfg` for `model` (computed through `net`), with a grad scaler for fp16."""
        return cls(net, opt, grad_scaler(precision, device), precision, device, cfg.label_smoothing, cfg.l1,
                   cfg.l2, cfg.clip_grad, list(model.parameters()), penalty_params(model))


def train_step(parts: StepParts, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on the batch (xb, yb); returns (loss, logits), both still on the device."""
    with autocast(parts.precision, parts.device):
        out = parts.net(xb)
        loss = F.cross_entropy(out, yb, label_smoothing=parts.label_smoothing)
    parts.opt.zero_grad(set_to_none=True)
    total = loss + penalty(parts.weights, parts.l1, parts.l2) if parts.l1 or parts.l2 else loss
    parts.scaler.scale(total).backward()  # fp16: scaled so that small gradients do not underflow to zero
    if parts.clip_grad:
        parts.scaler.unscale_(parts.opt)
        torch.nn.utils.clip_grad_norm_(parts.params, parts.clip_grad)
    parts.scaler.step(parts.opt)
    parts.scaler.update()
    return loss, out
