"""Inputs given to a trained model: image files (PNG/JPEG, NumPy, HDF5, folders of them) read and
preprocessed exactly as the run's training data was (size, channels, scaling, normalisation); and the one
image decoder, which `lab convert` uses too.

Each file is read on its own: an unreadable one becomes an error entry and the others go on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lab_workbench.engine.data.formats import file_format, shown, suffixes
from lab_workbench.engine.core.errors import DataError

TAKES = ("image", "npy", "hdf5")  # the formats (engine.data.formats.FILE_FORMATS) a trained model reads


@dataclass
class Inputs:
    """Preprocessed inputs (N,C,H,W float32, normalised) with a name each, plus notices and errors."""

    x: np.ndarray
    names: list[str]
    notices: list[str] = field(default_factory=list)  # "FILE: resized 32x32 -> 28x28"
    errors: list[str] = field(default_factory=list)  # "FILE: cannot read image (...)"


def expand(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files to read (folders expanded, recursively, sorted) and one error per path that is neither."""
    files, errors = [], []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in suffixes(*TAKES))
            if not found:
                errors.append(f"{shown(p)}: no images, .npy or .h5 files in this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            errors.append(f"{shown(p)}: no such file or folder")
    return files, errors


def decode_image(path: Path, grayscale: bool, size: tuple[int, int] | None = None) -> tuple[np.ndarray, str]:
    """One image file decoded to uint8 (H,W) (grayscale) or (H,W,3), resized to `size` (H,W) when given,
    and the file's own PIL mode. A file past 89 megapixels is refused, not decoded."""
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's asides on a damaged file: the error line below says it
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                mode = im.mode
                im = im.convert("L" if grayscale else "RGB")
                if size is not None:
                    im = im.resize((size[1], size[0]), Image.BILINEAR)
                return np.asarray(im, dtype=np.uint8), mode
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DataError(f"{shown(path)}: refused, too many pixels ({str(e).split(',')[0]})") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise DataError(f"{shown(path)}: cannot read image ({str(e).splitlines()[0][:120]})") from None


def load_image(path: Path, size: tuple[int, int] | None, grayscale: bool) -> np.ndarray:
    """decode_image's pixels (a top-level function: process pools pickle it)."""
    return decode_image(path, grayscale, size)[0]


def _read_image(path: Path, channels: int) -> tuple[np.ndarray, str | None]:
    arr, mode = decode_image(path, grayscale=channels == 1)
    arr = arr[None, None] if arr.ndim == 2 else arr.transpose(2, 0, 1)[None]
    notice = None
    if (channels == 1) != (mode in ("L", "1", "I", "I;16", "F", "LA")):
        notice = f"converted {mode} to {'grayscale' if channels == 1 else 'RGB'}"
    return arr, notice


def _as_nchw(a: np.ndarray, channels: int, where: str) -> np.ndarray:
    """(H,W), (H,W,C), (C,H,W), (N,H,W), (N,H,W,C) or (N,C,H,W) -> (N,C,H,W)."""
    if a.ndim == 2:
        return a[None, None]
    if a.ndim == 3:
        if a.shape[-1] in (1, 3) and a.shape[0] not in (1, 3):
            return a.transpose(2, 0, 1)[None]
        if a.shape[0] in (1, 3) and a.shape[0] == channels:
            return a[None]
        return a[:, None]  # a stack of grayscale images
    if a.ndim == 4:
        return a if a.shape[1] in (1, 3) and a.shape[-1] not in (1, 3) else a.transpose(0, 3, 1, 2)
    raise DataError(f"{where}: expected images of shape (H,W), (H,W,C) or (N,H,W[,C]), got {a.shape}")


def _read_array(path: Path, kind: str, channels: int, images_key: str,
                allow_external: bool) -> tuple[np.ndarray, list[str]]:
    if kind == "npy":
        a = _load_npy(path)
        names = [shown(path)]
    else:
        import h5py

        from lab_workbench.engine.data.h5safe import check_stored_sha256, open_h5, read_problem
        try:
            with open_h5(path, allow_external, "input") as f:
                if images_key not in f or not isinstance(f[images_key], h5py.Dataset):
                    found = ", ".join(f.keys()) or "none"
                    raise DataError(f"{shown(path)}: no dataset {images_key!r} (found: {found})")
                _check_size(f[images_key].shape, f[images_key].dtype, path)
                a = f[images_key][()]
                check_stored_sha256(f[images_key], a, shown(path))  # a file converted before chunk checksums
        except (OSError, KeyError, ValueError, RuntimeError) as e:  # RuntimeError: a link loop
            raise DataError(f"{shown(path)}: not a readable HDF5 file ({read_problem(e)})") from None
        names = []
    if a.dtype.kind not in "uif" or a.size == 0:
        raise DataError(f"{shown(path)}: expected a non-empty array of numbers, got dtype {a.dtype} shape {a.shape}")
    a = _as_nchw(a, channels, shown(path))
    if not names or len(a) > 1:
        names = [f"{shown(path)}[{i}]" for i in range(len(a))]
    return a, names


def _fit(a: np.ndarray, shape: tuple[int, int, int], where: str, notices: list[str]) -> np.ndarray:
    """Scale like training (uint8 / 255, floats as they are), then convert channels and resize."""
    import torch
    import torch.nn.functional as F
    c, h, w = shape
    x = torch.from_numpy(np.array(a))  # a copy: arrays from PIL are read-only
    x = x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
    if not torch.isfinite(x).all():
        raise DataError(f"{where}: holds NaN or infinite values")
    if x.shape[1] != c:
        if x.shape[1] == 3 and c == 1:
            x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        elif x.shape[1] == 1 and c == 3:
            x = x.expand(-1, 3, -1, -1)
        else:
            raise DataError(f"{where}: has {x.shape[1]} channels, the model takes {c}")
        notices.append(f"{where}: converted {a.shape[1]} channels to {c}")
    if tuple(x.shape[2:]) != (h, w):
        notices.append(f"{where}: resized {x.shape[3]}x{x.shape[2]} -> {w}x{h}")
        x = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    return x.numpy()


def read_inputs(paths: list[str], input_shape, mean, std, images_key: str = "images",
                allow_external_h5: bool = False) -> Inputs:
    """Every readable input under `paths`, preprocessed for a model trained on `input_shape` with the run's
    normalisation `mean`/`std`; what cannot be read is listed in .errors. allow_external_h5: see
    engine.data.h5safe."""
    c = int(input_shape[0])
    files, errors = expand(paths)
    if list(input_shape) == [2, 1, 1]:
        return _read_points(files, errors, mean, std)
    chunks, names, notices = [], [], []
    for path in files:
        try:
            kind = file_format(path, TAKES, "lab predict")
            if kind != "image":
                a, these = _read_array(path, kind, c, images_key, allow_external_h5)
            else:
                a, notice = _read_image(path, c)
                these = [shown(path)]
                if notice:
                    notices.append(f"{shown(path)}: {notice}")
            chunks.append(_fit(a, tuple(input_shape), shown(path), notices))
            names += these
        except DataError as e:
            errors.append(str(e))
    x = np.concatenate(chunks) if chunks else np.zeros((0, *input_shape), np.float32)
    x = (x - np.asarray(mean, np.float32).reshape(1, -1, 1, 1)) / np.asarray(std, np.float32).reshape(1, -1, 1, 1)
    return Inputs(x.astype(np.float32), names, notices, errors)


def _read_points(files: list[Path], errors: list[str], mean, std) -> Inputs:
    """A run on 2-D points takes .npy arrays of shape (N, 2) (or (2,)): one prediction per point."""
    chunks, names = [], []
    for path in files:
        try:
            if file_format(path, TAKES, "lab predict") != "npy":
                raise DataError(f"{shown(path)}: this model takes 2-D points: pass a .npy array of shape (N, 2)")
            a = _load_npy(path)
            if a.ndim not in (1, 2) or a.shape[-1] != 2 or a.dtype.kind not in "uif" or not np.isfinite(a).all():
                raise DataError(f"{shown(path)}: expected finite points of shape (N, 2), got {a.shape}")
            a = a.reshape(-1, 2).astype(np.float32)
            chunks.append(a)
            names += [f"{shown(path)}[{i}]" for i in range(len(a))] if len(a) > 1 else [shown(path)]
        except DataError as e:
            errors.append(str(e))
    x = np.concatenate(chunks) if chunks else np.zeros((0, 2), np.float32)
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return Inputs(x.reshape(-1, 2, 1, 1).astype(np.float32), names, [], errors)


def _check_size(shape: tuple, dtype, path: Path) -> None:
    """Refuse, before reading, an array the memory cannot hold (a 1 KB header can declare 186 GiB): the
    array itself and its float32 copy."""
    from lab_workbench.engine.runtime.memory import check_memory
    values = float(np.prod(shape, dtype=np.float64))
    check_memory(values * (np.dtype(dtype).itemsize + 4), f"{shown(path)}: an array of shape {tuple(shape)}")


def _load_npy(path: Path) -> np.ndarray:
    try:  # mapped first: the header's shape is checked (and a file shorter than it refused) before any read
        a = np.load(path, allow_pickle=False, mmap_mode="r")
        if isinstance(a, np.ndarray):
            _check_size(a.shape, a.dtype, path)
        return np.array(a)
    except (OSError, ValueError, EOFError) as e:  # EOFError: an empty file
        raise DataError(f"{shown(path)}: not a readable .npy file ({str(e).splitlines()[0][:120]})") from None
