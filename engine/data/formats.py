"""The file formats lab reads, by suffix (FILE_FORMATS, the one table every reader dispatches through), and
readers for the on-disk formats image data sets ship in: IDX, CIFAR pickles.

Each reader returns numpy arrays: images (N,H,W) or (N,H,W,C), labels (N,) int64.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from lab_workbench.engine.core.errors import DataError

# a class index beyond this is a damaged or hostile file: the class list, per-class counts and the
# confusion matrix (classes^2 counters: 800 MB here) are all sized by the largest label
MAX_CLASSES = 10_000
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# A file's format by its suffix (lower case), for every entry point that takes a file: lab train/eval
# --data (read_source), lab convert (detect_source), lab data, lab predict (read_inputs). A new suffix for
# a format is one entry here. Folders (ImageFolder, IDX, CIFAR batches) are told apart by what they hold.
FILE_FORMATS = {
    ".h5": "hdf5", ".hdf5": "hdf5", ".he5": "hdf5",  # images and labels datasets, an optional test/ group
    ".npz": "npz",  # arrays named by --images-key and --labels-key
    ".npy": "npy",  # one array: images (a labels file beside it), points, or inputs to predict
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"), "image"),
}


def shown(path) -> str:
    """A path as printable text: a name that is not UTF-8 keeps its other characters."""
    return os.fsencode(path).decode("utf-8", "replace")


def suffixes(*formats: str) -> list[str]:
    """The suffixes of `formats`, in the table's order."""
    return [s for s, f in FILE_FORMATS.items() if f in formats]


def file_format(path, accepted: tuple[str, ...], reader: str) -> str:
    """The format of the file `path` by its suffix, one of `accepted`; else a DataError: an unknown suffix in
    the same words wherever it is given, a known one that `reader` does not take naming what it takes."""
    suffix = Path(path).suffix.lower()
    fmt = FILE_FORMATS.get(suffix)
    if fmt is None:
        raise DataError(f"{shown(path)}: unknown file type {suffix or '(no suffix)'}; lab reads "
                        f"{' '.join(FILE_FORMATS)} files and folders")
    if fmt not in accepted:
        raise DataError(f"{shown(path)}: {reader} takes {' '.join(suffixes(*accepted))} files or a folder, "
                        f"not {suffix}")
    return fmt


def _open(path: Path):
    """The file for reading, only if regular (a named pipe would block, /dev/zero never end)."""
    from lab_workbench.engine.core.files import open_regular
    f = open_regular(path, error=DataError)
    if path.suffix != ".gz":
        return f
    f.close()  # checked: gzip opens it again by name (given a file object, it would never close it)
    return gzip.open(path, "rb")


@contextmanager
def _idx_file(path: Path):
    """(file positioned after the header, dtype, shape); a failed read anywhere inside is a DataError."""
    try:
        with _open(path) as f:
            yield (f, *_idx_header(f, path))
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read IDX file ({e})") from None


def _idx_header(f, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    head = f.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in IDX_DTYPES or head[3] == 0:
        raise DataError(f"{path}: not an IDX file (bad magic number {head.hex() or 'empty'})")
    dims = f.read(4 * head[3])
    if len(dims) < 4 * head[3]:
        raise DataError(f"{path}: IDX header is truncated")
    shape = tuple(int.from_bytes(dims[i:i + 4], "big") for i in range(0, len(dims), 4))
    return np.dtype(IDX_DTYPES[head[2]]), shape


def _idx_items(f, path: Path, dtype: np.dtype, shape: tuple, chunk: int) -> Iterator[np.ndarray]:
    item = int(np.prod(shape[1:], dtype=np.float64)) * dtype.itemsize
    _check_idx_size(path, shape, item, chunk)
    for start in range(0, shape[0], chunk):
        n = min(chunk, shape[0] - start)
        buf = f.read(n * item)
        if len(buf) != n * item:
            raise DataError(f"{path}: header says {shape[0]} items but the file ends after "
                            f"{start + len(buf) // max(item, 1)}")
        yield np.frombuffer(buf, dtype=dtype).reshape((n, *shape[1:])).astype(dtype.newbyteorder("="))
    if f.read(1):
        raise DataError(f"{path}: file is longer than its header's {shape[0]} items")


def _check_idx_size(path: Path, shape: tuple, item: int, chunk: int) -> None:
    """A header's sizes against the file (uncompressed) and the memory a chunk takes: a header that claims
    10^9 items of 10^5 x 10^5 bytes is refused before a read of that size allocates it."""
    from lab_workbench.engine.runtime.memory import check_memory
    if path.suffix != ".gz":
        body = path.stat().st_size - 4 - 4 * len(shape)
        if shape[0] * item != body:
            raise DataError(f"{path}: IDX header says shape {shape} ({shape[0] * item:.0f} bytes) but the file "
                            f"holds {body} bytes")
    check_memory(2 * item * min(chunk, shape[0]), f"{path}: IDX header shape {shape}")


def idx_count(path: str | Path) -> int:
    """The number of items an IDX file's header declares (the header alone is read)."""
    with _idx_file(Path(path)) as (_, _, shape):
        return shape[0]


def iter_idx(path: str | Path, chunk: int) -> Iterator[np.ndarray]:
    """Items of an IDX file (MNIST's format, gzip-compressed or not), `chunk` at a time; the header's magic,
    shape and length are checked against the file."""
    path = Path(path)
    with _idx_file(path) as (f, dtype, shape):
        yield from _idx_items(f, path, dtype, shape, chunk)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file whole: iter_idx with one chunk."""
    path = Path(path)
    with _idx_file(path) as (f, dtype, shape):
        parts = list(_idx_items(f, path, dtype, shape, max(shape[0], 1)))
    return parts[0] if parts else np.zeros((0, *shape[1:]), dtype.newbyteorder("="))


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
        with _open(path) as f:
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
    if 0 in images.shape[1:]:
        raise DataError(f"{where}: images have no pixels (shape {images.shape})")
    check_pixels(images, where)
    return images, labels


F32_MAX = float(np.finfo(np.float32).max)


def check_pixels(images: np.ndarray, where: str) -> None:
    """Float images hold finite values that float32 (what training computes in) can hold: NaN, inf or 1e300
    would otherwise surface as a "diverged" run, blamed on the learning rate."""
    if not np.issubdtype(images.dtype, np.floating) or images.size == 0:
        return
    if not np.all(np.isfinite(images)):
        raise DataError(f"{where}: images contain NaN or infinite values")
    if images.dtype.itemsize > 4 and float(np.abs(images).max()) > F32_MAX:
        raise DataError(f"{where}: images hold values up to {float(np.abs(images).max()):.3g}, beyond float32's "
                        f"range ({F32_MAX:.3g}): they would become infinite in training; rescale them")


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
