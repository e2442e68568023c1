"""Facts about a data set for `lab data`: shapes, class counts, pixel statistics and warnings."""

from __future__ import annotations

import hashlib

import numpy as np

from lab_workbench.engine.data.sources import RawData

IMBALANCE_RATIO = 1.5  # largest class / smallest class above this is worth a warning


def _splits(raw: RawData) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {"train": (raw.train_x, raw.train_y)}
    if raw.test_x is not None:
        out["test"] = (raw.test_x, raw.test_y)
    return out


def _hashes(images: np.ndarray) -> list[bytes]:
    flat = images.reshape(len(images), -1)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]


def describe(raw: RawData, declared_classes: int | None = None, bins: int = 16) -> dict:
    """A JSON-able summary of every split and a list of warnings."""
    n_classes = declared_classes or len(raw.classes)
    info = {"name": raw.name, "origin": raw.origin, "classes": raw.classes, "splits": {}, "warnings": []}
    warn = info["warnings"].append
    hashes = {}
    for split, (x, y) in _splits(raw).items():
        counts = np.bincount(y, minlength=len(raw.classes))
        flat = x.reshape(len(x), -1)
        scale = 255.0 if x.dtype == np.uint8 else 1.0
        values = x.astype(np.float64) / scale
        hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0) if scale == 255.0 else None)
        constant = int(np.sum(flat.min(1) == flat.max(1)))
        info["splits"][split] = {
            "count": int(len(y)), "image_shape": list(x.shape[1:]), "dtype": str(x.dtype),
            "label_dtype": str(y.dtype), "class_counts": counts.tolist(),
            "pixels": {"min": float(values.min()), "max": float(values.max()), "mean": float(values.mean()),
                       "std": float(values.std()), "scale": scale},
            "histogram": {"counts": hist.tolist(), "edges": edges.tolist()}, "constant_images": constant,
        }
        out_of_range = int(np.sum(y >= n_classes))
        if out_of_range:
            warn(f"{split}: {out_of_range} labels are >= {n_classes}, the number of class names")
        present = counts[counts > 0]
        if len(present) and present.max() / present.min() > IMBALANCE_RATIO:
            big, small = int(np.argmax(counts)), int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))
            warn(f"{split}: class imbalance: {raw.classes[big]!r} has {counts[big]} samples, "
                 f"{raw.classes[small]!r} has {counts[small]} ({counts[big] / counts[small]:.1f}x)")
        missing = [raw.classes[i] for i in range(min(n_classes, len(counts))) if counts[i] == 0]
        if missing:
            warn(f"{split}: no samples of class {', '.join(map(repr, missing))}")
        if constant:
            warn(f"{split}: {constant} constant images (every pixel the same value)")
        hashes[split] = _hashes(x)
    if "test" in hashes:
        train_set = set(hashes["train"])
        dup = sum(h in train_set for h in hashes["test"])
        info["duplicates_train_test"] = int(dup)
        if dup:
            warn(f"{dup} test images also appear in train (exact duplicates)")
    return info


def samples_per_class(raw: RawData, per_class: int = 3, split: str = "train") -> dict[int, np.ndarray]:
    """The first few images of each class, as (H,W) or (H,W,C) arrays scaled to [0, 1]."""
    x, y = _splits(raw)[split]
    out = {}
    for k in range(len(raw.classes)):
        rows = np.flatnonzero(y == k)[:per_class]
        if len(rows):
            imgs = x[rows].astype(np.float32)
            out[k] = imgs / 255.0 if x.dtype == np.uint8 else imgs
    return out
