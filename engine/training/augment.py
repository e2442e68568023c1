"""Batch augmentation on the training device: one batched op per batch, no per-sample Python."""

from __future__ import annotations

import torch
import torch.nn.functional as F

SHIFT = 2  # pixels of the batch shift


def augment(x: torch.Tensor, kinds: tuple[str, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    """Random horizontal flips and random translations of up to 1/8 of the image (zero-filled borders,
    i.e. the data set mean after normalisation), drawn independently for each image; 'shift' moves the
    batch as a whole by up to 2 pixels."""
    if not kinds:
        return x
    n = x.shape[0]
    if "flip" in kinds:
        flip = torch.rand(n, device="cpu", generator=generator).to(x.device) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    if "crop" in kinds:
        # integer pixel shifts of up to 1/8 of each side, as grid_sample's [-1, 1] coordinates (2 * pixels / size)
        h, w = x.shape[2:]
        limit = torch.tensor([max(w // 8, 1), max(h // 8, 1)])
        pixels = torch.round((torch.rand(n, 2, generator=generator) * 2 - 1) * limit)
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = 2 * pixels / torch.tensor([w, h])
        grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    if "shift" in kinds:
        # the whole batch moved by the same (dy, dx) in [-2, 2]: one roll, no per-image work; the pixels that
        # wrap around are the border, which is background in digit-like data
        dy, dx = (torch.randint(-SHIFT, SHIFT + 1, (2,), generator=generator)).tolist()
        x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    return x
