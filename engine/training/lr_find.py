"""The learning-rate range test (Smith 2015, fastai's lr_find): train a fresh copy of the model for a few
hundred steps with an exponentially growing lr, and read a good lr off the loss curve.

It builds its own model from the config and never reads or writes a run folder.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.data.batches import batch_indices
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runs.curves import Smoother


@dataclass
class LRFindResult:
    """The curve (lr, raw and smoothed loss per step) and the suggestions read off it."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    steepest: float | None  # lr where the smoothed loss falls fastest (per unit of log lr)
    minimum: float  # lr at the smoothed loss's minimum
    suggestion: float  # the value to train with: steepest, else minimum / 10
    stopped: str  # 'exploded' (the loss passed 4x its best) or 'end' (reached --end)

    def to_dict(self) -> dict:
        return asdict(self)


MAX_STEPS = 100_000  # a range test reads its curve from a few hundred steps; each step is kept in three lists


def lr_find(cfg: TrainConfig, start: float = 1e-7, end: float = 10.0, steps: int = 200, beta: float = 0.98,
            diverge: float = 4.0, dataset=None, should_stop=None) -> LRFindResult:
    """Run the range test for `cfg` (its model, optimizer, batch size, data, precision)."""
    from lab_workbench.engine.data import load_dataset
    from lab_workbench.engine.runtime.device import resolve_device
    from lab_workbench.engine.runtime.precision import resolve_precision
    from lab_workbench.engine.runtime.threads import configure_threads
    from lab_workbench.engine.training.optim import make_optimizer
    from lab_workbench.engine.training.step import StepParts, train_step
    from lab_workbench.engine.training.trainer import build_model
    if not (0 < start < end) or not math.isfinite(end):
        raise ConfigError(f"--start/--end: expected 0 < start < end, got {start:g} and {end:g}")
    if steps < 10:
        raise ConfigError(f"--steps: expected at least 10, got {steps}")
    if steps > MAX_STEPS:
        raise ConfigError(f"--steps: expected at most {MAX_STEPS:,}, got {steps}")
    cfg.validate()
    device = resolve_device(cfg.device)
    configure_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    data = dataset or load_dataset(cfg, device)
    model = build_model(cfg, data, device).train()
    opt = make_optimizer(model, cfg.replace(lr=start))
    # the training loop's own step: at fp16 its grad scaler keeps small gradients from underflowing
    parts = StepParts.build(model, model, opt, cfg, resolve_precision(cfg.precision, device), device)
    gen = torch.Generator().manual_seed(cfg.seed)
    y = data.train.y
    lrs, losses, smoothed = [], [], []
    best, stopped, smoother = math.inf, "end", Smoother(beta)
    batches = _endless(len(y), cfg.batch_size, gen, device)
    for i in range(steps):
        if should_stop is not None and should_stop():
            stopped = "cancelled"
            break
        lr = start * (end / start) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = next(batches)
        loss, _ = train_step(parts, data.train.take(idx), y[idx])
        value = loss.item()
        smooth = smoother.add(value)
        lrs.append(lr), losses.append(value), smoothed.append(smooth)
        best = min(best, smooth)
        if not math.isfinite(value) or smooth > diverge * best:
            stopped = "exploded"
            break
    return _suggest(lrs, losses, smoothed, stopped)


def _endless(n: int, batch_size: int, gen: torch.Generator, device):
    while True:
        perm = torch.randperm(n, generator=gen).to(device)
        for _, idx in batch_indices(perm, batch_size, 0):
            yield idx


def _suggest(lrs, losses, smoothed, stopped) -> LRFindResult:
    if len(lrs) < 5:
        raise ConfigError(f"lr-find: the loss exploded after {len(lrs)} steps; lower --start")
    sm = np.asarray(smoothed)
    finite = np.isfinite(sm)
    i_min = int(np.nanargmin(np.where(finite, sm, np.inf)))
    # steepest descent before the minimum, past the first tenth where the smoothing is still settling
    lo = max(1, len(sm) // 10)
    steepest = None
    if i_min - lo >= 2:
        grad = np.gradient(sm[lo:i_min + 1], np.log(np.asarray(lrs[lo:i_min + 1])))
        steepest = float(lrs[lo + int(np.argmin(grad))])
    minimum = float(lrs[i_min])
    # steepest descent trained best on MNIST (bench/README.md: the minimum / 10 was 0.9 points behind it)
    suggestion = steepest if steepest is not None else minimum / 10
    return LRFindResult(list(map(float, lrs)), list(map(float, losses)), list(map(float, smoothed)), steepest,
                        minimum, suggestion, stopped)
