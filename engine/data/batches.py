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


class EpochBatches:
    """(step, normalised images, labels) of one epoch of a split from step `start` on: slices of the
    resident store, or blocks read ahead from the HDF5 file for a streamed split. Close it when done."""

    def __init__(self, split, perm: torch.Tensor, batch_size: int, start: int = 0):
        self.split, self.perm, self.batch_size, self.start = split, perm, batch_size, start
        self.reader = None

    def __iter__(self):
        split = self.split
        if not split.streamed:
            rows = self.perm if split.rows is None else split.rows[self.perm.to(split.rows.device)]
            for step, idx in batch_indices(self.perm, self.batch_size, self.start):
                at = step * self.batch_size
                yield step, split.take_rows(rows[at:at + len(idx)]), split.y[idx]
            return
        from lab_workbench.engine.data.stream import StreamBatches
        steps = [step for step, _ in batch_indices(self.perm, self.batch_size, self.start)]
        pin = split.norm.device.type == "cuda"
        self.reader = StreamBatches(split, self.perm, self.batch_size, self.start, steps, pin)
        y = split.y
        perm = self.perm.to(y.device)
        for step, raw in self.reader:
            yield step, split.norm(raw), y[perm[step * self.batch_size:(step + 1) * self.batch_size]]

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def __enter__(self) -> "EpochBatches":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def epoch_order(split, gen: torch.Generator) -> torch.Tensor:
    """An epoch's order of the split's positions: a permutation for a resident split; for a streamed one,
    shuffled blocks of the file with the rows shuffled within a window of blocks."""
    if not split.streamed:
        return torch.randperm(len(split), generator=gen)
    from lab_workbench.engine.data.stream import stream_order
    return stream_order(split.rows, split.store.block, split.store.window, gen)
