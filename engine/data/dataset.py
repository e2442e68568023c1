"""Turn RawData into train/val/test splits: index tensors into one store of images in their stored dtype.

Images stay as read (uint8 for image data) on the training device; each batch is scaled and normalised
on the device when it is fetched. Splits, --subset and --classes are row indices, never copies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.data.budget import data_budget
from lab_workbench.engine.data.sources import RawData, read_source
from lab_workbench.engine.core.units import format_bytes, percent

TEST_FRACTION = 0.2  # held out, with a fixed seed, when a source ships no test split
TEST_SEED = 12345
CHUNK_BYTES = 32 << 20  # of images per step of the statistics pass and of whole-split reads


class Normalize:
    """Stored images (B,H,W,C) -> normalised float32 (B,C,H,W) on the device: /255 for uint8, then
    (x - mean) / std per channel; the same float ops, in the same order, as a float copy of the set."""

    def __init__(self, mean: list[float], std: list[float], scale: bool, device):
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1).to(device)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1).to(device)
        self.scale, self.device = scale, torch.device(device)

    def __call__(self, raw: torch.Tensor) -> torch.Tensor:
        x = raw.to(self.device, non_blocking=True).permute(0, 3, 1, 2).contiguous().float()
        if self.scale:
            x.div_(255.0)
        return x.sub_(self.mean).div_(self.std)  # in place: one float tensor per batch


class Split:
    """One split: labels and row indices into a store of images; batches come normalised from take().

    Split(x, y, index) also wraps a tensor that is already normalised (N,C,H,W), one row per sample."""

    def __init__(self, x, y: torch.Tensor, index: torch.Tensor, rows: torch.Tensor | None = None,
                 norm: Normalize | None = None):
        self.store, self.y, self.index, self.rows, self.norm = x, y, index, rows, norm

    def __len__(self) -> int:
        return len(self.y)

    @property
    def streamed(self) -> bool:
        """Whether the images are read from the HDF5 file as batches need them."""
        return not isinstance(self.store, torch.Tensor)

    def take(self, idx) -> torch.Tensor:
        """Normalised images of the split's positions `idx` (a slice, a tensor or a list of positions)."""
        if not isinstance(idx, (slice, torch.Tensor)):
            idx = torch.as_tensor(idx, dtype=torch.long)
        if self.rows is None:
            return self.store[idx]
        rows = self.rows[idx.to(self.rows.device) if isinstance(idx, torch.Tensor) else idx]
        return self.norm(self.store[rows])

    def take_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Normalised images of store rows (an epoch composes its order with `rows` once, not per batch)."""
        return self.norm(self.store[rows]) if self.norm is not None else self.store[rows]

    def subset(self, positions: torch.Tensor) -> "Split":
        """The split's samples at `positions` (an index tensor), sharing its store: no image is copied."""
        at = lambda t: t[positions.to(t.device)]  # noqa: E731
        if self.rows is None:
            return Split(at(self.store), at(self.y), at(self.index))
        return Split(self.store, at(self.y), at(self.index), at(self.rows), self.norm)

    def chunks(self, size: int):
        """The whole split, in order, as normalised batches of at most `size` rows."""
        for start in range(0, len(self), size):
            yield self.take(slice(start, start + size))

    @property
    def x(self) -> torch.Tensor:
        """Every image of the split normalised in one float tensor: for small sets and a few rows' views."""
        if self.rows is None:
            return self.store
        parts = list(self.chunks(max(1, CHUNK_BYTES // max(1, _row_bytes(self.store)))))
        return torch.cat(parts) if parts else self.take(slice(0, 0))


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


def _row_bytes(store) -> int:
    return int(np.prod(store.shape[1:])) * store.dtype.itemsize


def as_store(images, device) -> torch.Tensor:
    """Images (N,H,W[,C]) as a (N,H,W,C) tensor in their stored dtype (floats as float32) on `device`;
    no copy on the CPU for uint8 and float32 arrays."""
    if images.dtype != np.uint8 and images.dtype != np.float32:
        images = images.astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(images))
    t = t.unsqueeze(-1) if t.dim() == 3 else t
    return t.to(device)


def channel_stats(store, rows: torch.Tensor, scale: bool) -> tuple[list[float], list[float]]:
    """Per-channel mean and (unbiased) std of the store's `rows`, scaled to [0, 1] for uint8, in one
    chunked pass: exact integer sums for uint8, float64 sums otherwise; never a float copy of the set."""
    c = store.shape[-1]
    n = len(rows) * int(np.prod(store.shape[1:3]))
    if scale:
        s, q = _uint8_sums(store, rows)
        mean = [si / n / 255.0 for si in s]  # python integers: exact whatever the size of the set
        var = [(qi * n - si * si) / (n * max(n - 1, 1)) / 255.0 ** 2 for si, qi in zip(s, q)]
    else:
        step = max(1, CHUNK_BYTES // (8 * _row_bytes(store)))
        total = sq = torch.zeros(c, dtype=torch.float64)
        for start in range(0, len(rows), step):
            chunk = store[rows[start:start + step]].to(torch.float64).reshape(-1, c)
            total, sq = total + chunk.sum(0).cpu(), sq + chunk.square_().sum(0).cpu()
        mean = [v / n for v in total.tolist()]
        var = [(qi - si * si / n) / max(n - 1, 1) for si, qi in zip(total.tolist(), sq.tolist())]
    return mean, [max(float(np.sqrt(max(v, 0.0))), 1e-6) for v in var]


STATS_ROWS_BYTES = 768 << 10  # rows per step of the uint8 pass: its uint16 squares stay in the CPU cache


def _uint8_sums(store, rows: torch.Tensor) -> tuple[list[int], list[int]]:
    """Per-channel sums of the values and of their squares, as python ints. On the CPU, numpy sums each
    pixel position over a few hundred rows at a time (vectorised across the row, several times faster
    than a channel reduction); on a GPU, torch in int64."""
    c = store.shape[-1]
    width = int(np.prod(store.shape[1:]))
    if isinstance(store, torch.Tensor) and store.device.type != "cpu":
        total = sq = torch.zeros(c, dtype=torch.int64, device=store.device)
        for start in range(0, len(rows), max(1, (CHUNK_BYTES // 8) // width)):
            chunk = store[rows[start:start + CHUNK_BYTES // 8 // width]].to(torch.int64).reshape(-1, c)
            total, sq = total + chunk.sum(0), sq + chunk.square_().sum(0)
        return [int(v) for v in total.tolist()], [int(v) for v in sq.tolist()]
    step = max(1, STATS_ROWS_BYTES // width)
    total, sq = np.zeros(width, np.uint64), np.zeros(width, np.uint64)
    source = store.numpy() if isinstance(store, torch.Tensor) else store  # numpy gathers rows faster
    rows = rows.numpy()
    for start in range(0, len(rows), step):
        chunk = source[rows[start:start + step]]
        chunk = (chunk.numpy() if isinstance(chunk, torch.Tensor) else chunk).reshape(-1, width)
        total += chunk.sum(0, dtype=np.uint64)
        squares = chunk.astype(np.uint16)
        np.multiply(squares, squares, out=squares)  # 255 ** 2 fits in 16 bits
        sq += squares.sum(0, dtype=np.uint64)
    fold = lambda v: [int(x) for x in v.reshape(-1, c).sum(0, dtype=np.uint64)]  # noqa: E731
    return fold(total), fold(sq)


def _select_classes(y: np.ndarray, rows: np.ndarray, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isin(y, classes)
    remap = np.full(int(max(y.max(), max(classes))) + 1, -1, dtype=np.int64)
    remap[classes] = np.arange(len(classes))
    return remap[y[keep]], rows[keep]


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


def _check_labels(raw: RawData) -> None:
    n_all = len(raw.classes)
    for split_y, where in ((raw.train_y, "train"), (raw.test_y, "test")):
        if split_y is not None and split_y.max() >= n_all:
            raise DataError(f"{raw.name}: {where} label {int(split_y.max())} out of range for {n_all} classes")


def plan_splits(raw: RawData, val_split: float, subset: int | None, classes: list[int] | None,
                seed: int) -> tuple[dict, list[str], list[str]]:
    """{split: (store name, rows, labels)}, the class names and the warnings: indices only, no images."""
    _check_labels(raw)
    n_all = len(raw.classes)
    train_y, test_y = raw.train_y, raw.test_y
    train_rows, test_store = np.arange(len(train_y)), "test"
    test_rows = None if test_y is None else np.arange(len(test_y))
    if raw.test_x is None:  # carve a stable test split, the same whatever the training seed
        perm = np.random.default_rng(TEST_SEED).permutation(len(train_y))
        n_test = max(1, int(round(len(perm) * TEST_FRACTION)))
        test_rows, train_rows, test_store = np.sort(perm[:n_test]), np.sort(perm[n_test:]), "train"
        test_y, train_y = train_y[test_rows], train_y[train_rows]
    names = raw.classes
    if classes is not None:
        bad = [c for c in classes if not 0 <= c < n_all]
        if bad:
            raise DataError(f"--classes: {bad} out of range for {raw.name} with {n_all} classes (0..{n_all - 1})")
        train_y, train_rows = _select_classes(train_y, train_rows, classes)
        test_y, test_rows = _select_classes(test_y, test_rows, classes)
        names = [raw.classes[c] for c in classes]
    perm = np.random.default_rng(seed).permutation(len(train_y))
    if subset is not None:
        perm = perm[:subset]
    n_val = int(round(len(perm) * val_split))
    val_pos, train_pos = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    if len(train_pos) == 0:
        raise DataError(f"{raw.name}: no training samples left after --subset/--val-split/--classes")
    warnings = _check_classes(raw.name, names, train_y[train_pos], train_y, test_y)
    plan = {"train": ("train", train_rows[train_pos], train_y[train_pos]),
            "val": ("train", train_rows[val_pos], train_y[val_pos]),
            "test": (test_store, test_rows, test_y)}
    return plan, names, warnings


def build_dataset(raw: RawData, *, val_split: float = 0.1, subset: int | None = None,
                  classes: list[int] | None = None, seed: int = 0, device: torch.device | str = "cpu",
                  stats: tuple[list[float], list[float]] | None = None) -> Dataset:
    """Split, subset, relabel and normalise RawData. `stats` (mean, std) reuses a run's normalisation.

    raw.train_x/test_x are numpy arrays (held on `device` in their dtype) or streamed HDF5 row readers."""
    plan, names, warnings = plan_splits(raw, val_split, subset, classes, seed)
    warnings = [*raw.warnings, *warnings]
    stores = {"train": _store(raw.train_x, device)}
    if raw.test_x is not None:
        stores["test"] = _store(raw.test_x, device)
    first = stores["train"]
    scale = first.dtype in (torch.uint8, np.uint8)
    h, w, c = (tuple(first.shape[1:]) + (1,))[:3]
    row_device = lambda s: torch.device("cpu") if not isinstance(s, torch.Tensor) else s.device  # noqa: E731
    rows = {k: torch.from_numpy(np.ascontiguousarray(r, dtype=np.int64)).to(row_device(stores[s]))
            for k, (s, r, _) in plan.items()}
    if stats is None:
        try:
            stats = channel_stats(first, rows["train"], scale)
        except DataError as e:  # a streamed file is first read whole here: say so, as batches say their epoch
            raise DataError(f"{e}, while reading its statistics, before epoch 1") from None
    if len(stats[0]) != c:
        raise DataError(f"{raw.name}: images have {c} channels, expected {len(stats[0])}")
    norm = Normalize(stats[0], stats[1], scale, device)
    splits = {k: Split(stores[s], torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device),
                       torch.from_numpy(np.asarray(r, dtype=np.int64)).to(device), rows[k], norm)
              for k, (s, r, y) in plan.items()}
    stored = sum(_row_bytes(s) * len(s) for s in stores.values())
    facts = {"source": raw.name, "origin": raw.origin, "classes": names, "input_shape": [c, h, w],
             "num_classes": len(names), "mean": stats[0], "std": stats[1],
             "sizes": {k: len(v) for k, v in splits.items()},
             "test_split": "source" if raw.test_x is not None else f"held out {percent(TEST_FRACTION, 0)} (seed {TEST_SEED})",
             "warnings": warnings, "stored_bytes": stored, "held": _held(first, stored)}
    if not isinstance(first, torch.Tensor):
        facts["stream"] = {"block": first.block, "window": first.window}
    return Dataset(raw.name, names, (c, h, w), stats[0], stats[1], splits["train"], splits["val"],
                   splits["test"], facts)


def _store(images, device):
    return as_store(images, device) if isinstance(images, np.ndarray) else images


def _held(store, stored: int) -> str:
    if not isinstance(store, torch.Tensor):
        return f"streamed from {store.path}"
    dtype = str(store.dtype).replace("torch.", "")
    return f"{format_bytes(stored)} {dtype} in memory" + (f" ({store.device})" if store.device.type != "cpu" else "")


def load_dataset(cfg, device: torch.device | str = "cpu", stats=None, layout: dict | None = None) -> Dataset:
    """Read the source a TrainConfig names and build its splits on `device`: resident, or streamed from
    its HDF5 file when --stream is set or the images exceed --data-memory. `layout` (a resumed run's
    {block, window}) streams the file as that run did."""
    from lab_workbench.engine.data.folder import folder_h5
    from lab_workbench.engine.data.stream import hdf5_bytes, open_hdf5_stream
    t0 = time.perf_counter()
    budget = data_budget(getattr(cfg, "data_memory", "auto"), torch.device(device))
    stream = bool(getattr(cfg, "stream", False) or layout)
    data = folder_h5(cfg.data, cfg.data_dir) if cfg.data else None  # a folder: its cached HDF5 copy
    if data and not stream and budget is not None:
        stream = hdf5_bytes(data, cfg.images_key, cfg.allow_external_h5) > budget
    if stream:
        if not data:
            raise DataError(f"--stream/--data-memory: only HDF5 files stream; write one with `lab convert "
                            f"{cfg.dataset} data/{cfg.dataset}.h5` and train with --data")
        raw = open_hdf5_stream(data, cfg.images_key, cfg.labels_key, budget, layout, cfg.allow_external_h5)
    else:
        raw = read_source(cfg.dataset, data, cfg.data_dir, cfg.download, cfg.images_key, cfg.labels_key,
                          cfg.samples, cfg.noise, cfg.seed, cfg.allow_external_h5)
    if data != cfg.data:  # an image folder read from its cached copy: named as the folder, not the cache file
        raw.name = Path(cfg.data).expanduser().resolve().name
    data = build_dataset(raw, val_split=cfg.val_split, subset=cfg.subset, classes=cfg.classes,
                         seed=cfg.seed, device=device, stats=stats)
    if isinstance(device, torch.device) and device.type == "cuda":
        torch.cuda.synchronize(device)
    data.facts["load_seconds"] = round(time.perf_counter() - t0, 3)
    return data
