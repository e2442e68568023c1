"""Convert image classification sources into one HDF5 file (`images`, `labels`, optional `test/` group).

Sources stream in chunks, so memory stays bounded; the file is written to a temp name, verified by reading
it back (counts and a SHA-256 per dataset), and only then renamed into place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from lab_workbench.engine.data.formats import (cifar_batch_arrays, check_arrays, file_format, find_idx_files, idx_count, iter_idx,
                                 suffixes)
from lab_workbench.engine.data.inputs import load_image
from lab_workbench.engine.data.sources import (DATASETS, cifar_classes, dataset_files, default_data_dir, mnist_classes,
                                 read_source)
from lab_workbench.engine.core.errors import DataError

FORMAT_VERSION = 1
CHUNK = 10_000
FORMATS = ("dataset", "idx", "cifar", "imagefolder", "npz")  # --format: the folder layouts, and .npz/.npy
TAKES = ("npz", "npy")  # the file formats (engine.data.formats.FILE_FORMATS) a source may be
Chunks = Iterator[tuple[np.ndarray, np.ndarray]]


@dataclass
class SplitSource:
    """A split as a count and a generator of (images, labels) chunks."""

    count: int
    chunks: Callable[[], Chunks]


@dataclass
class Source:
    kind: str
    name: str
    classes: list[str]
    splits: dict[str, SplitSource] = field(default_factory=dict)


def _idx_split(images: Path, labels: Path) -> SplitSource:
    n_img, n_lab = idx_count(images), idx_count(labels)
    if n_img != n_lab:
        raise DataError(f"{images} has {n_img} images but {labels} has {n_lab} labels")

    def chunks():
        for x, y in zip(iter_idx(images, CHUNK), iter_idx(labels, CHUNK)):
            yield check_arrays(x, y, str(images))
    return SplitSource(n_img, chunks)


def _cifar_source(folder: Path) -> Source:
    names = {"train": [folder / f"data_batch_{i}" for i in range(1, 6)], "test": [folder / "test_batch"]}
    missing = [str(p) for ps in names.values() for p in ps if not p.is_file()]
    if missing:
        raise DataError(f"{folder}: CIFAR-10 batches missing: {', '.join(missing)}")
    classes = cifar_classes(folder)

    def split(paths):
        return SplitSource(10_000 * len(paths), lambda: (cifar_batch_arrays(p) for p in paths))
    src = Source("cifar", "cifar10", classes, {k: split(v) for k, v in names.items()})
    for k, paths in names.items():  # counts from the files themselves (test files may be small)
        src.splits[k].count = sum(len(cifar_batch_arrays(p)[1]) for p in paths)
    return src


PARALLEL_FROM = 512  # images: below this a process pool costs more than it saves


def _decoded(paths: list[Path], size, grayscale: bool, workers: int) -> Iterator[list[np.ndarray]]:
    """The images decoded in blocks of CHUNK_FILES, in order, by a pool of `workers` processes: memory
    holds one block (plus the pool's few in flight), whatever the number of files."""
    blocks = [paths[s:s + CHUNK_FILES] for s in range(0, len(paths), CHUNK_FILES)]
    if workers <= 1 or len(paths) < PARALLEL_FROM:
        for block in blocks:
            yield [load_image(p, size, grayscale) for p in block]
        return
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial
    with ProcessPoolExecutor(max_workers=workers) as pool:
        decode = partial(load_image, size=size, grayscale=grayscale)
        for block in blocks:
            yield list(pool.map(decode, block, chunksize=max(1, len(block) // (4 * workers))))


CHUNK_FILES = 1000


def imagefolder_files(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """An ImageFolder tree's class folders (sorted) and its image files with their class index, in the
    order they are written (the one listing that converting and `--data FOLDER`'s cache key both use)."""
    folders = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    files = [(p, i) for i, c in enumerate(folders) for p in sorted((root / c).rglob("*"))
             if p.suffix.lower() in suffixes("image")]
    if not files:
        raise DataError(f"{root}: no images found (expected class_name/*.png|jpg folders)")
    return folders, files


def _imagefolder_source(root: Path, size: tuple[int, int] | None, grayscale: bool, workers: int = 1) -> Source:
    folders, files = imagefolder_files(root)
    # a folder name that is not UTF-8 still names its class (with a replacement character)
    classes = [os.fsencode(c).decode("utf-8", "replace") for c in folders]
    if size is not None:  # a chunk of resized images, stacked: check before the first resize allocates
        from lab_workbench.engine.runtime.memory import check_memory
        check_memory(3 * size[0] * size[1] * (1 if grayscale else 3) * min(1000, len(files)),
                     f"--size {size[0]}x{size[1]}", "choose a smaller size")
    first = load_image(files[0][0], size, grayscale)

    def chunks():
        done = 0
        for arrays in _decoded([p for p, _ in files], size, grayscale, workers):
            part = files[done:done + len(arrays)]
            done += len(arrays)
            for (p, _), a in zip(part, arrays):
                if a.shape != first.shape:
                    raise DataError(f"{p}: image is {a.shape[1]}x{a.shape[0]}, the first was "
                                    f"{first.shape[1]}x{first.shape[0]}: pass --size HxW")
            yield np.stack(arrays), np.array([i for _, i in part], dtype=np.int64)
    return Source("imagefolder", root.name, classes, {"train": SplitSource(len(files), chunks)})


def _check_npz_sizes(path: Path) -> None:
    """The arrays' shapes from their headers against memory: np.load allocates what a header claims before
    it reads, so a 1 kB archive that claims 10^12 elements is refused here."""
    import zipfile
    from lab_workbench.engine.runtime.memory import check_memory
    total = 0
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            with z.open(name) as f:
                major, _ = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(f)
                total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    check_memory(2 * total, f"{path}: its arrays")


def _array_source(path: Path, kind: str, images_key: str, labels_key: str) -> Source:
    import zipfile
    try:
        if kind == "npz":
            _check_npz_sizes(path)
            with np.load(path, allow_pickle=False) as z:
                if images_key not in z or labels_key not in z:
                    raise DataError(f"{path}: expected arrays {images_key!r} and {labels_key!r}, found {list(z.keys())}")
                images, labels = z[images_key], z[labels_key]
        else:  # a pair of .npy files: X.npy holds images, its labels sit beside it
            other = path.with_name(path.name.replace(images_key, labels_key))
            if other == path or not other.is_file():
                raise DataError(f"{path}: expected a labels file {other.name} beside it (--labels-key)")
            images, labels = np.load(path, mmap_mode="r", allow_pickle=False), np.load(other, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: cannot read numpy file ({e})") from None
    images, labels = check_arrays(images, labels, str(path))
    n = int(labels.max()) + 1

    def chunks():
        for s in range(0, len(labels), CHUNK):
            yield np.ascontiguousarray(images[s:s + CHUNK]), labels[s:s + CHUNK]
    return Source("npz", path.stem, [str(i) for i in range(n)], {"train": SplitSource(len(labels), chunks)})


def detect_source(source: str, fmt: str | None = None, data_dir: str | None = None,
                  size: tuple[int, int] | None = None, grayscale: bool = False,
                  images_key: str = "images", labels_key: str = "labels", workers: int | None = None) -> Source:
    """Work out what `source` is (or use `fmt`) and return a streaming Source. `workers`: processes that
    decode an ImageFolder (default: the CPUs this process may use)."""
    if fmt is not None and fmt not in FORMATS:
        raise DataError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    path = Path(source)
    if fmt in (None, "dataset") and source in DATASETS and not path.exists():
        return _dataset_source(source, Path(data_dir).expanduser() if data_dir else default_data_dir())
    if not path.exists():
        raise DataError(f"{source}: no such file or folder, and not a data set name "
                        f"({', '.join(DATASETS.names())})")
    if path.is_file():
        return _array_source(path, file_format(path, TAKES, "lab convert"), images_key, labels_key)
    if not path.is_dir():
        raise DataError(f"{path}: not a regular file or a folder (a device, a socket or a pipe)")
    if fmt in (None, "cifar") and (path / "data_batch_1").is_file():
        return _cifar_source(path)
    if fmt in (None, "idx"):
        found = find_idx_files(path)
        if "train" in found:
            splits = {k: _idx_split(*v) for k, v in found.items()}
            return Source("idx", path.name, [str(i) for i in range(10)], splits)
        if fmt == "idx":
            raise DataError(f"{path}: expected train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]")
    if fmt in (None, "imagefolder"):
        from lab_workbench.engine.runtime.threads import available_cpus
        return _imagefolder_source(path, size, grayscale, workers or available_cpus())
    raise DataError(f"{path}: not a {fmt} source")


def _dataset_source(name: str, root: Path) -> Source:
    """A registered data set: its files streamed where lab knows how they are stored (IDX, CIFAR batches),
    else what its loader returns (digits, generated points, plugins), in chunks."""
    stored = dataset_files(name, root)
    if stored is not None and stored[0] == "idx":
        return Source("dataset", name, mnist_classes(name), {k: _idx_split(*v) for k, v in stored[1].items()})
    if stored is not None:
        return _cifar_source(stored[1])
    raw = read_source(name, data_dir=str(root))
    return Source("dataset", name, raw.classes, {k: _memory_split(x, y) for k, x, y in (
        ("train", raw.train_x, raw.train_y), ("test", raw.test_x, raw.test_y)) if x is not None})


def _memory_split(images: np.ndarray, labels: np.ndarray) -> SplitSource:
    return SplitSource(len(labels), lambda: ((images[s:s + CHUNK], labels[s:s + CHUNK])
                                             for s in range(0, len(labels), CHUNK)))
