"""`--data FOLDER`: an ImageFolder tree (a folder of class folders of images, as torchvision, Keras and
Ultralytics read) decoded once, by `lab convert`'s own reader and writer, into a cached HDF5 file.

The cache sits in the data folder (--data-dir, else LAB_DATA_DIR or ~/.cache/lab/data), under
imagefolders/, named after the folder's path and a digest of its listing (relative paths, class, sizes,
mtimes): an unchanged folder reuses it, any change decodes again. write_h5 writes through a temp file and
a rename, so a crash or two runs at once never leave half a file under the cache's name.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.core.files import TMP_SUFFIX

CACHE_VERSION = 1  # bump when the decoding changes: older caches are then decoded again
CACHE_FOLDER = "imagefolders"
STALE_TEMP_S = 3600  # a cache temp file untouched this long is a dead decode's


def folder_h5(data: str, data_dir: str | None = None) -> str:
    """`data` itself when it is not a folder; for a folder, the path of its cached HDF5 file, decoded now
    when missing or when the folder changed since."""
    root = Path(data).expanduser()
    if not root.is_dir():
        return data
    from lab_workbench.engine.data.convert import detect_source, imagefolder_files
    from lab_workbench.engine.data.h5file import write_h5
    folders, files = imagefolder_files(root)
    _check_links(root, folders)
    out = cache_path(root, listing_digest(root, files), data_dir)
    if out.is_file():
        return str(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"--data {data}: cannot make the cache folder {out.parent} ({e.strerror or e}); "
                        f"set --data-dir or LAB_DATA_DIR") from None
    # a process pool only from the main thread: forking beside labtui's threads could deadlock a child
    workers = None if threading.current_thread() is threading.main_thread() else 1
    try:
        write_h5(detect_source(str(root), "imagefolder", workers=workers), out, force=True)
    except DataError as e:  # the reader's advice names lab convert's flag, which lab train does not have
        raise DataError(str(e).replace("pass --size HxW", f"resize them with `lab convert {data} OUT.h5 "
                                       f"--size HxW` and train on OUT.h5")) from None
    _drop_stale(out)
    return str(out)


def cache_path(root: Path, digest: str, data_dir: str | None = None) -> Path:
    """Where the folder's decoded copy lives: one name per folder path and listing."""
    from lab_workbench.engine.data.sources import default_data_dir
    base = Path(data_dir).expanduser() if data_dir else default_data_dir()
    real = root.resolve()
    place = hashlib.sha256(os.fsencode(real)).hexdigest()[:10]
    name = os.fsencode(real.name or "root").decode("utf-8", "replace")
    return base / CACHE_FOLDER / f"{name}-{place}-{digest[:16]}.h5"


def listing_digest(root: Path, files: list[tuple[Path, int]]) -> str:
    """SHA-256 of the tree's listing: each image's relative path, class, size and mtime."""
    h = hashlib.sha256(f"lab imagefolder cache v{CACHE_VERSION}\n".encode())
    for path, label in files:
        try:
            st = path.stat()
        except OSError as e:  # a dangling link, a link to itself (ELOOP), no permission
            raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
        h.update(os.fsencode(path.relative_to(root)) + f"\0{label}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _check_links(root: Path, folders: list[str]) -> None:
    """A folder link that points back into its own ancestors is a loop: refused, naming it, rather than
    read as a copy of the tree (pathlib's rglob does not follow it, so nothing would hang, but the class
    folder that is a loop would hold every other class's images)."""
    real_root = root.resolve()
    for c in folders:
        top = root / c
        for p in (top, *top.rglob("*")):
            if not p.is_symlink():
                continue
            try:
                target = p.resolve(strict=True)
            except (OSError, RuntimeError):  # RuntimeError: python < 3.13 on a loop of links
                raise DataError(f"{p}: a symlink loop or a dangling link") from None
            if target.is_dir() and (target == real_root or target in real_root.parents
                                    or target in p.parent.resolve().parents or target == p.parent.resolve()):
                raise DataError(f"{p}: a symlink loop (it points to {target}, which contains it)")


def _drop_stale(out: Path) -> None:
    """Remove this folder's older decoded copies (same folder path, other listing) and the temp files of
    decodes that died (untouched for STALE_TEMP_S: a live decode writes to its temp all along). A run still
    reading an old copy keeps its open file: unlinking does not take it away."""
    prefix = out.name.rsplit("-", 1)[0] + "-"
    for old in out.parent.iterdir():  # not glob: a folder's name may hold [ or *
        copy = old.name.startswith(prefix) and old.suffix == ".h5" and len(old.name) == len(out.name)
        temp = old.name.startswith("." + prefix) and old.name.endswith(TMP_SUFFIX)
        try:
            if old != out and (copy or (temp and time.time() - old.stat().st_mtime > STALE_TEMP_S)):
                old.unlink()
        except OSError:  # gone already (another run cleaned it), or not ours to remove
            pass
