"""Data sources: each returns a RawData of numpy arrays (train, optional test, class names)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.data.points import POINT_SETS, make_points
from lab_workbench.engine.data.formats import (cifar_batch_arrays, check_arrays, file_format, find_idx_files, read_cifar_pickle,
                                 read_idx)
from lab_workbench.engine.core.registry import Registry

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
TAKES = ("hdf5",)  # the file formats (engine.data.formats.FILE_FORMATS) --data may be; or an image folder
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
# where torchvision's download puts each set under the root, then the folders people use by hand
SEARCH = {"mnist": ("MNIST/raw", "mnist", "."), "fashion": ("FashionMNIST/raw", "fashion", "fashion-mnist", ".")}


@dataclass
class RawData:
    """Images (N,H,W) or (N,H,W,C) and int64 labels; test arrays are None when the source has none."""

    name: str
    classes: list[str]
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray | None = None
    test_y: np.ndarray | None = None
    origin: str = ""
    warnings: list = field(default_factory=list)  # about the source itself, told with the data set's facts


def default_data_dir() -> Path:
    """LAB_DATA_DIR, else the user's cache folder."""
    if os.environ.get("LAB_DATA_DIR"):
        return Path(os.environ["LAB_DATA_DIR"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "lab" / "data"


def load_digits() -> RawData:
    """scikit-learn's 8x8 digits, embedded in the package: the default that needs no download."""
    from sklearn.datasets import load_digits as sk_digits
    d = sk_digits()
    images = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)
    return RawData("digits", [str(i) for i in range(10)], images, d.target.astype(np.int64), origin="sklearn")


def _find_idx(root: Path, folders: tuple[str, ...], split: str) -> tuple[Path, Path] | None:
    for folder in folders:
        found = find_idx_files(root / folder) if (root / folder).is_dir() else {}
        if split in found:
            return found[split]
    return None


def load_idx_pair(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """Read an IDX images/labels pair and check that they agree."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    return check_arrays(images, labels, f"{images_path} + {labels_path}")


def load_mnist_like(name: str, root: Path, download: bool) -> RawData:
    """MNIST or Fashion-MNIST from torchvision's raw IDX files under root."""
    if download and _find_idx(root, SEARCH[name], "train") is None:
        _download(name, root)
    found = find_mnist_files(name, root)
    train_x, train_y = load_idx_pair(*found["train"])
    test_x, test_y = load_idx_pair(*found["test"])
    return RawData(name, mnist_classes(name), train_x, train_y, test_x, test_y,
                   origin=str(found["train"][0].parent))


def mnist_classes(name: str) -> list[str]:
    return FASHION_CLASSES if name == "fashion" else [str(i) for i in range(10)]


def find_mnist_files(name: str, root: Path) -> dict[str, tuple[Path, Path]]:
    """{train, test: (images, labels)} of MNIST or Fashion-MNIST under root: the one place that searches
    torchvision's folders and the usual hand-made ones; missing files are a DataError naming them."""
    folders = SEARCH[name]
    found = {s: _find_idx(root, folders, s) for s in ("train", "test")}
    if found["train"] is None or found["test"] is None:
        where = ", ".join(str(root / f) for f in folders)
        files = ", ".join(f + "[.gz]" for pair in IDX_FILES.values() for f in pair)
        raise DataError(f"{name}: expected {files} in one of: {where} "
                        f"(set --data-dir or LAB_DATA_DIR, or pass --download)")
    return found


def check_source(cfg) -> None:
    """Cheap checks, before anything loads, that what a config reads is there (the labtui form's check)."""
    if cfg.data:
        path = Path(cfg.data).expanduser()
        if path.is_dir():  # an ImageFolder tree: its class folders are there (the images are read later)
            if not any(d.is_dir() and not d.name.startswith(".") for d in path.iterdir()):
                # the words of the reader's own check (engine.data.convert), which looks at the images too
                raise DataError(f"--data {cfg.data}: no images found (expected class_name/*.png|jpg folders)")
            return
        if not path.is_file():
            raise DataError(f"--data {cfg.data}: file not found (expected an HDF5 file or an image folder)")
        file_format(path, TAKES, "--data")
        return
    if cfg.data_dir and not cfg.download and not Path(cfg.data_dir).expanduser().is_dir():
        raise DataError(f"--data-dir {cfg.data_dir}: not a folder")
    root = Path(cfg.data_dir).expanduser() if cfg.data_dir else default_data_dir()
    if cfg.download:
        return
    dataset_files(cfg.dataset, root)


def dataset_files(name: str, root: Path) -> tuple[str, object] | None:
    """How a registered data set is stored under root, for readers that stream it or check it is there:
    ("idx", {split: (images, labels)}) or ("cifar", folder); None for a set made in memory (digits, points,
    plugins). Missing files are a DataError naming where they were looked for."""
    if name in SEARCH:
        return "idx", find_mnist_files(name, root)
    if name == "cifar10":
        return "cifar", find_cifar_folder(root)
    return None


def find_cifar_folder(root: Path) -> Path:
    """The folder of CIFAR-10's python batches under root (torchvision's, a hand-made one, or root itself)."""
    folders = [root / "cifar-10-batches-py", root / "cifar10", root]
    folder = next((d for d in folders if all((d / n).is_file() for n in CIFAR_FILES)), None)
    if folder is None:
        raise DataError(f"cifar10: expected {', '.join(CIFAR_FILES)} in one of: {', '.join(map(str, folders))} "
                        f"(set --data-dir or LAB_DATA_DIR, or pass --download)")
    return folder


CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def load_cifar10(root: Path, download: bool) -> RawData:
    """CIFAR-10 from torchvision's python pickle batches under root/cifar-10-batches-py."""
    try:
        folder = find_cifar_folder(root)
    except DataError:
        if not download:
            raise
        _download("cifar10", root)
        folder = find_cifar_folder(root)
    parts = [cifar_batch_arrays(folder / n) for n in CIFAR_FILES[:5]]
    test_x, test_y = cifar_batch_arrays(folder / "test_batch")
    return RawData("cifar10", cifar_classes(folder), np.concatenate([p[0] for p in parts]),
                   np.concatenate([p[1] for p in parts]), test_x, test_y, origin=str(folder))


def cifar_classes(folder: Path) -> list[str]:
    """The class names in a CIFAR folder's batches.meta, else CIFAR-10's."""
    if not (folder / "batches.meta").is_file():
        return CIFAR10_CLASSES
    meta = read_cifar_pickle(folder / "batches.meta")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in meta.get("label_names", CIFAR10_CLASSES)]


def _download(name: str, root: Path) -> None:
    try:
        import torchvision.datasets as tvd
    except ImportError:
        raise DataError("--download needs torchvision") from None
    cls = {"mnist": tvd.MNIST, "fashion": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[name]
    try:
        root.mkdir(parents=True, exist_ok=True)
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as e:  # network errors come in many types; all mean the same to the user
        raise DataError(f"{name}: download into {root} failed ({type(e).__name__}: {e})") from None


def _check_h5_sizes(f, path: Path, images_key: str, labels_key: str, images: bool = True) -> None:
    """The datasets' shapes (from the header) against the memory they would take once read: a (10, 10^5,
    10^5) dataset is refused here, not allocated. Images that stream (images=False) are not read whole."""
    from lab_workbench.engine.runtime.memory import check_memory
    total = 0
    for group in (f, f.get("test")):
        for key in (images_key, labels_key) if images else (labels_key,):
            d = group.get(key) if group is not None and hasattr(group, "get") else None
            if d is not None and hasattr(d, "shape") and d.shape is not None:
                # read as stored, plus one copy (labels become int64)
                itemsize = 8 if key == labels_key else d.dtype.itemsize
                total += 2 * int(np.prod(d.shape, dtype=np.float64)) * itemsize
    check_memory(total, f"--data {path}", "the images do not fit in memory")


def load_hdf5(path: str | Path, images_key: str = "images", labels_key: str = "labels",
              strict: bool = True, images: bool = True, allow_external: bool = False) -> RawData:
    """An HDF5 file with `images` and `labels` (keys overridable) and an optional `test/` group.

    strict=False names labels beyond the file's class names instead of refusing them (for `lab data`).
    images=False reads the labels only (train_x/test_x are None): the streamed reader opens the images.
    allow_external: follow external links, external storage and virtual datasets (engine.data.h5safe).
    """
    import h5py

    from lab_workbench.engine.data.h5safe import open_h5, read_problem, unchecked_note
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--data {path}: file not found")
    try:
        with open_h5(path, allow_external) as f:
            for key in (images_key, labels_key):
                if key not in f or not isinstance(f[key], h5py.Dataset):
                    raise DataError(f"--data {path}: no dataset {key!r} (found: {', '.join(f.keys()) or 'none'})")
            _check_h5_sizes(f, path, images_key, labels_key, images)
            train_x, train_y = _h5_arrays(f, images_key, labels_key, f"{path}", images)
            test_x = test_y = None
            if "test" in f and isinstance(f["test"], h5py.Group):
                g = f["test"]
                if images_key in g and labels_key in g:
                    test_x, test_y = _h5_arrays(g, images_key, labels_key, f"{path}:test", images)
            names = f.attrs.get("class_names")
            _check_test_shape(f, path, images_key, labels_key)
            note = None if images else unchecked_note(f, path, images_key)
    except DataError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as e:  # RuntimeError: a soft link to itself
        raise DataError(f"--data {path}: not a readable HDF5 file ({read_problem(e)})") from None
    n_classes = int(max(train_y.max(), -1 if test_y is None else test_y.max())) + 1
    if names is not None:
        classes = class_names(names, path)
        if len(classes) < n_classes and not strict:
            classes += [str(i) for i in range(len(classes), n_classes)]
        elif len(classes) < n_classes:
            raise DataError(f"--data {path}: labels go up to {n_classes - 1} but only {len(classes)} class names")
    else:
        classes = [str(i) for i in range(n_classes)]
    return RawData(path.stem, classes, train_x, train_y, test_x, test_y, origin=str(path),
                   warnings=[note] if note else [])


def class_names(names, path) -> list[str]:
    """An HDF5 file's `class_names` attribute as a list of text: one name (a scalar string) or a 1-D array of
    strings; numbers or a table are a DataError naming the file, not a guess."""
    a = np.atleast_1d(names)
    if a.ndim != 1 or a.dtype.kind not in "SUO" or not all(isinstance(n, (str, bytes)) for n in a):
        raise DataError(f"--data {path}: its class_names attribute must be a list of names, got "
                        f"{a.dtype} of shape {np.shape(names)}")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in a]


def _check_test_shape(f, path: Path, images_key: str, labels_key: str) -> None:
    """The test split's images have the training images' shape (read from the header: a streamed set is
    never read whole, and its test batches would fail deep inside the model)."""
    g = f.get("test")
    if g is None or not hasattr(g, "get") or images_key not in g or labels_key not in g:
        return
    test, train = g[images_key].shape[1:], f[images_key].shape[1:]
    if test != train:
        raise DataError(f"--data {path}: test images {test} differ from train images {train}")


def _h5_arrays(group, images_key: str, labels_key: str, where: str, images: bool):
    """(images, labels) of an HDF5 group, checked; with images=False (None, labels), the images' shape
    and dtype checked without reading them."""
    from lab_workbench.engine.data.h5safe import check_stored_sha256
    y = group[labels_key][()]
    check_stored_sha256(group[labels_key], y, f"--data {where}")
    if images:
        x = group[images_key][()]
        check_stored_sha256(group[images_key], x, f"--data {where}")
        return check_arrays(x, y, where)
    d, y = group[images_key], np.asarray(y)
    if d.ndim not in (3, 4):
        raise DataError(f"{where}: images must have shape (N,H,W) or (N,H,W,C), got {d.shape}")
    if 0 in d.shape[1:]:
        raise DataError(f"{where}: images have no pixels (shape {d.shape})")
    if len(y) != d.shape[0]:
        raise DataError(f"{where}: {d.shape[0]} images but {len(y)} labels")
    # a zero-stride stand-in: the checks see the dtype and the count, not the pixels
    stand_in = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8 if d.dtype == np.uint8 else d.dtype),
                                               (len(y), 1, 1), (0, 0, 0))
    return None, check_arrays(stand_in, y, where)[1]


# name -> loader(root: Path, download: bool) -> RawData; plugins add theirs with register_dataset
DATASETS = Registry("--dataset", lambda: None, error=DataError)  # the built-ins register just below


def register_dataset(name: str, description: str = ""):
    """Decorator: register `loader(root: Path, download: bool) -> RawData` as a named data set, with a
    one-line description."""
    return DATASETS.register(name, description)


def list_datasets() -> list[str]:
    """Registered data set names, built-ins first, in registration order."""
    return DATASETS.names()


register_dataset("digits", "scikit-learn's 8x8 handwritten digits: 1,797 images, bundled (no download)")(
    lambda root, download: load_digits())
register_dataset("mnist", "MNIST: 70,000 28x28 handwritten digits (IDX files)")(
    lambda root, download: load_mnist_like("mnist", root, download))
register_dataset("fashion", "Fashion-MNIST: 70,000 28x28 clothing images in 10 classes (IDX files)")(
    lambda root, download: load_mnist_like("fashion", root, download))
register_dataset("cifar10", "CIFAR-10: 60,000 32x32 colour images in 10 classes (python batches)")(load_cifar10)
for _name in POINT_SETS:  # generated: --samples, --noise and --seed shape them (read_source passes them on)
    register_dataset(_name, f"2-D points from scikit-learn's make_{_name} (--samples, --noise)")(
        lambda root, download, _n=_name, **opts: RawData(_n, **make_points(_n, **opts)))


def read_source(dataset: str, data: str | None = None, data_dir: str | None = None, download: bool = False,
                images_key: str = "images", labels_key: str = "labels", samples: int | None = None,
                noise: float | None = None, seed: int = 0, allow_external_h5: bool = False) -> RawData:
    """Dispatch to the reader for an HDF5 file (an image folder is read from its HDF5 copy, engine.data.folder)
    or a registered data set."""
    if data:
        if Path(data).is_file():  # a missing file: load_hdf5 says so
            file_format(data, TAKES, "--data")
        return load_hdf5(data, images_key, labels_key, allow_external=allow_external_h5)
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    loader = DATASETS.get(dataset).fn
    if dataset in POINT_SETS:
        return loader(root, download, samples=samples, noise=noise, seed=seed)
    if samples is not None or noise is not None:
        raise DataError(f"--samples/--noise: only for the generated data sets ({', '.join(POINT_SETS)}), "
                        f"not --dataset {dataset}")
    return loader(root, download)
