"""Turn RawData into normalised tensors on the training device, split into train/val/test."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import DataError
from .sources import RawData, read_source

TEST_FRACTION = 0.2  # held out, with a fixed seed, when a source ships no test split
TEST_SEED = 12345


@dataclass
class Split:
    """Normalised images (N,C,H,W float32) and labels (N int64) on one device."""

    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor  # each row's position in its source split, for error analysis

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    """A data set ready for training: three splits plus the facts a run records."""

    name: str
    classes: list[str]
    input_shape: tuple[int, int, int]
    mean: list[float]
    std: list[float]
    train: Split
    val: Split
    test: Split
    facts: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def split(self, name: str) -> Split:
        if name not in ("train", "val", "test"):
            raise DataError(f"--split: expected train, val or test, got {name!r}")
        return getattr(self, name)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Images back to [0, 1] (as scaled on load) for display."""
        mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
        return x * std + mean


def to_nchw(images: np.ndarray) -> np.ndarray:
    """(N,H,W) or (N,H,W,C) -> (N,C,H,W)."""
    return images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)


def _scaled(images: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(to_nchw(images)))
    return t.float().div_(255.0) if t.dtype == torch.uint8 else t.float()


def _select_classes(x, y, classes: list[int], where: str):
    keep = np.isin(y, classes)
    remap = {c: i for i, c in enumerate(classes)}
    return x[keep], np.array([remap[int(v)] for v in y[keep]], dtype=np.int64), np.flatnonzero(keep)


def _check_classes(name: str, names: list[str], used_y, train_y, test_y) -> list[str]:
    """Refuse a one-class training set; warn about test classes that training never shows."""
    present = np.unique(used_y)
    if len(present) < 2:
        raise DataError(f"{name}: the training data has only one class ({names[int(present[0])]!r}); "
                        f"a classifier needs at least two")
    unseen = sorted(set(np.unique(test_y).tolist()) - set(np.unique(train_y).tolist()))
    if unseen:
        return [f"{name}: test labels {unseen} never occur in the training data; the model cannot learn them"]
    return []


def build_dataset(raw: RawData, *, val_split: float = 0.1, subset: int | None = None,
                  classes: list[int] | None = None, seed: int = 0, device: torch.device | str = "cpu",
                  stats: tuple[list[float], list[float]] | None = None) -> Dataset:
    """Split, subset, relabel and normalise RawData. `stats` (mean, std) reuses a run's normalisation."""
    n_all = len(raw.classes)
    for split_y, where in ((raw.train_y, "train"), (raw.test_y, "test")):
        if split_y is not None and split_y.max() >= n_all:
            raise DataError(f"{raw.name}: {where} label {int(split_y.max())} out of range for {n_all} classes")
    names = raw.classes
    train_x, train_y, test_x, test_y = raw.train_x, raw.train_y, raw.test_x, raw.test_y
    train_idx = np.arange(len(train_y))
    test_idx = None if test_y is None else np.arange(len(test_y))
    if test_x is None:  # carve a stable test split, the same whatever the training seed
        perm = np.random.default_rng(TEST_SEED).permutation(len(train_y))
        n_test = max(1, int(round(len(perm) * TEST_FRACTION)))
        test_idx, train_idx = np.sort(perm[:n_test]), np.sort(perm[n_test:])
        test_x, test_y = train_x[test_idx], train_y[test_idx]
        train_x, train_y = train_x[train_idx], train_y[train_idx]
    if classes is not None:
        bad = [c for c in classes if not 0 <= c < n_all]
        if bad:
            raise DataError(f"--classes: {bad} out of range for {raw.name} with {n_all} classes (0..{n_all - 1})")
        train_x, train_y, keep = _select_classes(train_x, train_y, classes, "train")
        train_idx = train_idx[keep]
        test_x, test_y, keep = _select_classes(test_x, test_y, classes, "test")
        test_idx = test_idx[keep]
        names = [raw.classes[c] for c in classes]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(train_y))
    if subset is not None:
        perm = perm[:subset]
    n_val = int(round(len(perm) * val_split))
    val_rows, train_rows = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    if len(train_rows) == 0:
        raise DataError(f"{raw.name}: no training samples left after --subset/--val-split/--classes")
    warnings = _check_classes(raw.name, names, train_y[train_rows], train_y, test_y)
    x_train = _scaled(train_x[train_rows])
    if stats is None:
        mean = x_train.mean(dim=(0, 2, 3))
        std = x_train.std(dim=(0, 2, 3)).clamp_min(1e-6)
        stats = (mean.tolist(), std.tolist())
    mean_t = torch.tensor(stats[0]).view(1, -1, 1, 1)
    std_t = torch.tensor(stats[1]).view(1, -1, 1, 1)
    if mean_t.shape[1] != x_train.shape[1]:
        raise DataError(f"{raw.name}: images have {x_train.shape[1]} channels, expected {mean_t.shape[1]}")

    def make(x: torch.Tensor, y: np.ndarray, idx: np.ndarray) -> Split:
        x = ((x - mean_t) / std_t).to(device)
        return Split(x, torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device), torch.from_numpy(idx).to(device))

    train = make(x_train, train_y[train_rows], train_idx[train_rows])
    val = make(_scaled(train_x[val_rows]), train_y[val_rows], train_idx[val_rows])
    test = make(_scaled(test_x), test_y, test_idx)
    c, h, w = train.x.shape[1:]
    facts = {"source": raw.name, "origin": raw.origin, "classes": names, "input_shape": [c, h, w],
             "num_classes": len(names), "mean": stats[0], "std": stats[1],
             "sizes": {"train": len(train), "val": len(val), "test": len(test)},
             "test_split": "source" if raw.test_x is not None else f"held out {TEST_FRACTION:.0%} (seed {TEST_SEED})",
             "warnings": warnings}
    return Dataset(raw.name, names, (c, h, w), stats[0], stats[1], train, val, test, facts)


def load_dataset(cfg, device: torch.device | str = "cpu", stats=None) -> Dataset:
    """Read the source a TrainConfig names and build its splits on `device`."""
    raw = read_source(cfg.dataset, cfg.data, cfg.data_dir, cfg.download, cfg.images_key, cfg.labels_key,
                      cfg.samples, cfg.noise, cfg.seed)
    return build_dataset(raw, val_split=cfg.val_split, subset=cfg.subset, classes=cfg.classes,
                         seed=cfg.seed, device=device, stats=stats)
