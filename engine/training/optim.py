"""Optimizers and the explicit L1/L2 penalties (the lr schedules are in schedule.py)."""

from __future__ import annotations

import torch
import torch.nn as nn

from engine.errors import ConfigError


def make_optimizer(model: nn.Module, cfg) -> torch.optim.Optimizer:
    """sgd (momentum, nesterov) | adam | adamw | rmsprop, with cfg.lr and cfg.weight_decay."""
    from engine.training.finetune import param_groups
    params = param_groups(model, cfg)  # one group, or the head apart with --head-lr
    name = cfg.optimizer
    first = next(model.parameters(), None)
    # one fused kernel per step instead of a loop over tensors: ~20% off an MLP step on CPU (bench/README.md)
    fused = {"fused": True} if first is not None and first.device.type in ("cpu", "cuda") else {}
    if name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0,
                               weight_decay=cfg.weight_decay, **fused)
    if name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    raise ConfigError(f"--optimizer: expected one of sgd, adam, adamw, rmsprop, got {name!r}")


def penalty_params(model: nn.Module) -> list[torch.Tensor]:
    """Weights that L1/L2 act on: matrices and kernels, not biases or norm scales."""
    return [p for p in model.parameters() if p.ndim > 1]


def penalty(params: list[torch.Tensor], l1: float, l2: float) -> torch.Tensor | float:
    """l1 * sum|w| + l2 * sum w^2 over the given weights (0.0 when both are off)."""
    total = 0.0
    if l1:
        total = total + l1 * sum(p.abs().sum() for p in params)
    if l2:
        total = total + l2 * sum(p.pow(2).sum() for p in params)
    return total
