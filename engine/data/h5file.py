"""Write a converted Source to HDF5 atomically and verify it by reading it back."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from lab_workbench.engine.data.convert import FORMAT_VERSION, Source
from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.core.files import check_target, create_temp, replace_into

READ_CHUNK = 10_000


CHUNK_BYTES = 1 << 20  # one HDF5 chunk: whole rows, about 1 MB, so a streamed block is a few chunks
COMPRESSIONS = ("lzf", "gzip", "none")


def _create(group, name, first: np.ndarray, count: int, compression: str = "lzf"):
    """A dataset in chunks of whole rows of about CHUNK_BYTES; lzf decodes several times faster than gzip
    (streaming reads at disk speed), gzip (level 4) makes smaller files. Every chunk carries HDF5's
    fletcher32 checksum (of its stored bytes), checked by the library on every read, streamed or not: a
    damaged chunk is an error, never other pixels."""
    shape = (count, *first.shape[1:])
    row = max(1, first[:1].nbytes)
    chunk_rows = max(1, min(count, CHUNK_BYTES // row))
    options = {"lzf": dict(compression="lzf", shuffle=True), "none": {},
               "gzip": dict(compression="gzip", compression_opts=4, shuffle=True)}[compression]
    return group.create_dataset(name, shape=shape, dtype=first.dtype, chunks=(chunk_rows, *first.shape[1:]),
                                fletcher32=True, **options)


def _temp_for(out: Path, force: bool) -> Path:
    """The temp file to write `out` through, after checking that `out` may be written."""
    try:
        exists = out.exists()
    except OSError as e:  # a name longer than the file system takes (ENAMETOOLONG), a loop of links
        raise DataError(f"{out}: cannot write ({e.strerror or e})") from None
    if exists and not force:
        raise DataError(f"{out}: already exists (pass --force to overwrite)")
    if out.is_dir():
        raise DataError(f"{out}: is a folder; expected the path of the HDF5 file to write")
    check_target(out)
    if not out.parent.is_dir():
        raise DataError(f"{out}: folder {out.parent} does not exist")
    try:
        return create_temp(out)
    except OSError as e:
        raise DataError(f"{out}: cannot write in {out.parent} ({e.strerror or e})") from None


def write_h5(source: Source, out: str | Path, force: bool = False,
             on_progress: Callable[[str, int, int], None] | None = None, compression: str = "lzf") -> dict:
    """Write `source` to `out` (temp file, verify, rename); returns a summary dict."""
    import h5py
    if compression not in COMPRESSIONS:
        raise DataError(f"--compression: expected one of {', '.join(COMPRESSIONS)}, got {compression!r}")
    out = Path(out)
    tmp = _temp_for(out, force)
    try:
        checksums, counts, shapes = {}, {}, {}
        _check_space(tmp, out, source)
        with h5py.File(tmp, "w") as f:
            for split, src in source.splits.items():
                group = f if split == "train" else f.require_group(split)
                counts[split], shapes[split], checksums[split] = _write_split(group, split, src, source,
                                                                              compression, on_progress)
            f.attrs["class_names"] = np.array(source.classes, dtype=h5py.string_dtype())
            f.attrs["source"] = f"{source.kind}:{source.name}"
            f.attrs["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            f.attrs["format_version"] = FORMAT_VERSION
        verify_h5(tmp, counts)
        replace_into(tmp, out)
    except (OSError, RuntimeError) as e:  # a full disk, a read-only folder, a folder where the file should go
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"{out}: cannot write ({_why(e)})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"path": str(out), "classes": source.classes, "counts": counts, "shapes": shapes,
            "sha256": {k: {"images": v[0], "labels": v[1]} for k, v in checksums.items()},
            "bytes": out.stat().st_size}


def _write_split(group, split: str, src, source: Source, compression: str, on_progress) -> tuple:
    """One split's images and labels written chunk by chunk into `group`: (count, shape, (sha256s))."""
    img_hash, lab_hash = hashlib.sha256(), hashlib.sha256()
    images = labels = None
    done = 0
    for x, y in src.chunks():
        x = _as_uint8(x)
        if images is None:
            images = _create(group, "images", x, src.count, compression)
            labels = _create(group, "labels", y.astype(np.int64), src.count, compression)
        if x.shape[1:] != images.shape[1:]:
            raise DataError(f"{source.name}: {split} images change shape from {images.shape[1:]} to "
                            f"{x.shape[1:]}")
        if done + len(y) > src.count:
            raise DataError(f"{source.name}: {split} has more samples than its header says")
        images[done:done + len(y)] = x
        labels[done:done + len(y)] = y.astype(np.int64)
        img_hash.update(np.ascontiguousarray(x).tobytes())
        lab_hash.update(y.astype("<i8").tobytes())
        done += len(y)
        if on_progress:
            on_progress(split, done, src.count)
    if images is None or done == 0:
        raise DataError(f"{source.name}: {split} split is empty")
    if done != src.count:
        raise DataError(f"{source.name}: {split} has {done} samples, expected {src.count}")
    if int(labels[()].max()) >= len(source.classes):
        raise DataError(f"{source.name}: {split} label {int(labels[()].max())} out of range for "
                        f"{len(source.classes)} classes")
    images.attrs["sha256"] = img_hash.hexdigest()
    labels.attrs["sha256"] = lab_hash.hexdigest()
    return done, list(images.shape), (img_hash.hexdigest(), lab_hash.hexdigest())


def _check_space(tmp: Path, out: Path, source: Source) -> None:
    """Refuse before writing when the disk cannot hold the file uncompressed: HDF5 fails badly on a full
    disk (its close after a failed write raises, and the library crashes at exit), so it must not get there.
    The first chunk is read for the sample size (and read again by the writer)."""
    first = next(iter(next(iter(source.splits.values())).chunks()), None)
    if first is None or not len(first[0]):
        return
    count = sum(s.count for s in source.splits.values())
    needed = int(count * (first[0][0].size + 8) * 1.05) + (1 << 20)  # stored as uint8 images, int64 labels
    st = os.statvfs(tmp.parent)
    free = st.f_bavail * st.f_frsize
    if needed > free:
        from lab_workbench.engine.core.units import format_bytes
        raise DataError(f"{out}: no space left on the device: the file needs up to {format_bytes(needed)}, "
                        f"{format_bytes(free)} is free")


def _why(e: Exception) -> str:
    """The reason of an OSError, or of HDF5's multi-line RuntimeError text, as a few words."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = str(e)
    if "error message = '" in text:
        return text.split("error message = '", 1)[1].split("'", 1)[0]
    return text.splitlines()[0][:160] if text.strip() else type(e).__name__


def _as_uint8(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating) and x.size and x.max() <= 1.0 and x.min() >= 0.0:
        return np.round(x * 255).astype(np.uint8)
    if x.size and (x.min() < 0 or x.max() > 255):
        raise DataError(f"images have values in [{x.min()}, {x.max()}], expected 0..255 or floats in [0, 1]")
    return x.astype(np.uint8)


def verify_h5(path: str | Path, counts: dict[str, int] | None = None) -> dict[str, int]:
    """Re-read every dataset, checking counts and the SHA-256 stored with it; returns the counts."""
    import h5py
    found = {}
    try:
        with h5py.File(path, "r") as f:
            for split in ("train", "test"):
                group = f if split == "train" else f.get("test")
                if group is None or "images" not in group:
                    continue
                for key in ("images", "labels"):
                    d = group[key]
                    h = hashlib.sha256()
                    for s in range(0, d.shape[0], READ_CHUNK):
                        block = d[s:s + READ_CHUNK]
                        h.update((block.astype("<i8") if key == "labels" else block).tobytes())
                    if "sha256" in d.attrs and d.attrs["sha256"] != h.hexdigest():
                        raise DataError(f"{path}: checksum of {d.name} does not match (file is damaged)")
                found[split] = group["labels"].shape[0]
                if group["images"].shape[0] != found[split]:
                    raise DataError(f"{path}: {split} has {group['images'].shape[0]} images but {found[split]} labels")
    except OSError as e:
        raise DataError(f"{path}: not a readable HDF5 file ({e})") from None
    if counts is not None and found != counts:
        raise DataError(f"{path}: read back counts {found}, wrote {counts}")
    return found
