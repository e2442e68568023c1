"""Batches as index slices of a permutation of tensors already on the device."""

from __future__ import annotations

import math
from typing import Iterator

import torch


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Number of batches an epoch of n samples takes (the last one may be short)."""
    return max(1, math.ceil(n / batch_size))


def batch_indices(perm: torch.Tensor, batch_size: int, start: int = 0) -> Iterator[tuple[int, torch.Tensor]]:
    """(step, indices) for each batch of `perm` from step `start` on.

    A trailing batch of a single sample is skipped: batch norm cannot train on one sample.
    """
    for step in range(start, steps_per_epoch(len(perm), batch_size)):
        idx = perm[step * batch_size:(step + 1) * batch_size]
        if len(idx) < 2 and step > 0:
            continue
        yield step, idx
