"""Readers for the on-disk formats image data sets ship in: IDX, CIFAR pickles, HDF5.

Each returns numpy arrays: images (N,H,W) or (N,H,W,C), labels (N,) int64.
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import numpy as np

from engine.errors import DataError

# a class index beyond this is a damaged or hostile file: the class list, per-class counts and the
# confusion matrix (classes^2 counters: 800 MB here) are all sized by the largest label
MAX_CLASSES = 10_000
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzip-compressed or not, checking magic and length."""
    path = Path(path)
    try:
        with _open(path) as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read IDX file ({e})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {data[:4].hex() or 'empty'})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataError(f"{path}: IDX header is truncated")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(f"{path}: IDX header says shape {shape} ({expected} bytes) "
                        f"but the file holds {len(data) - header} bytes")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a CIFAR batch cannot run code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_pickle(path: str | Path) -> dict:
    """Load one CIFAR python batch with the restricted unpickler; keys are returned as str."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            obj = _RestrictedUnpickler(io.BufferedReader(f), encoding="bytes").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as e:
        raise DataError(f"{path}: not a CIFAR python batch ({e})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a dict in the CIFAR batch, got {type(obj).__name__}")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in obj.items()}


def cifar_batch_arrays(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images N,32,32,3 uint8, labels N int64) of one CIFAR-10 batch file."""
    d = read_cifar_pickle(path)
    if "data" not in d or "labels" not in d:
        raise DataError(f"{path}: CIFAR batch lacks 'data' or 'labels'")
    data = np.asarray(d["data"], dtype=np.uint8)
    labels = np.asarray(d["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DataError(f"{path}: expected data (N, 3072) and N labels, got {data.shape} and {labels.shape}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def check_arrays(images, labels, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate an images/labels pair; return images (N,H,W[,C]) and int64 labels."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim not in (3, 4):
        raise DataError(f"{where}: images must have shape (N,H,W) or (N,H,W,C), got {images.shape}")
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise DataError(f"{where}: images must be uint8 or float, got {images.dtype}")
    if labels.ndim != 1:
        raise DataError(f"{where}: labels must have shape (N,), got {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{where}: {len(images)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise DataError(f"{where}: no samples")
    if np.issubdtype(labels.dtype, np.floating):
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise DataError(f"{where}: labels must be integers")
    elif not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: labels must be integers, got {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise DataError(f"{where}: labels must be >= 0, found {labels.min()}")
    if labels.max() >= MAX_CLASSES:
        raise DataError(f"{where}: labels must be below {MAX_CLASSES} (lab's limit on classes), "
                        f"found {labels.max()}")
    if np.issubdtype(images.dtype, np.floating) and not np.all(np.isfinite(images)):
        raise DataError(f"{where}: images contain NaN or infinite values")
    return images, labels


def find_idx_files(folder: Path) -> dict[str, tuple[Path, Path]]:
    """Pairs `<prefix>-images-idx3-ubyte[.gz]` + `<prefix>-labels-idx1-ubyte[.gz]`; t10k/test prefixes are test."""
    found = {}
    for images in sorted(folder.glob("*-images-idx3-ubyte*")):
        if images.suffix not in ("", ".gz"):
            continue
        prefix = images.name.split("-images-idx3-ubyte")[0]
        labels = next((folder / f"{prefix}-labels-idx1-ubyte{ext}" for ext in ("", ".gz")
                       if (folder / f"{prefix}-labels-idx1-ubyte{ext}").is_file()), None)
        if labels is None:
            raise DataError(f"{images}: no matching {prefix}-labels-idx1-ubyte[.gz] beside it")
        split = "test" if ("t10k" in prefix or "test" in prefix) else "train"
        found.setdefault(split, (images, labels))
    return {k: found[k] for k in ("train", "test") if k in found}
