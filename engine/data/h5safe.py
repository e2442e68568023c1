"""Opening an HDF5 file that lab reads: only the bytes of that file, unless the user asks for more.

HDF5 can make a file read others: an external link (a name resolved in another file), external storage
(a dataset whose bytes lie in raw files) and a virtual dataset (mapped from datasets of other files). A
crafted .h5 would make lab train on /etc/hostname; each is refused unless --allow-external-h5 is given.
And what a read can check in a file that predates per-chunk checksums: the SHA-256 lab convert stored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lab_workbench.engine.core.errors import DataError

ALLOW_FLAG = "--allow-external-h5"


def open_h5(path: str | Path, allow_external: bool = False, what: str = "--data"):
    """h5py.File(path, "r") after checking that it reads nothing outside itself (see the module)."""
    import h5py
    f = h5py.File(path, "r")
    if allow_external:
        return f
    try:
        problem = outside_reference(f)
    except BaseException:
        f.close()
        raise
    if problem:
        f.close()
        raise DataError(f"{what} {path}: {problem}; lab reads only the file it is given (pass {ALLOW_FLAG} "
                        f"to follow it)")
    return f


def read_problem(e: BaseException) -> str:
    """What an h5py read error means, in a few words: a chunk that fails its checksum or cannot be
    decompressed is named as damage, anything else by its first line."""
    text = str(e)
    if any(s in text.lower() for s in ("fletcher32", "checksum", "filter returned failure", "decompress")):
        return "the file is damaged: a chunk fails its checksum or cannot be decompressed"
    return (text.strip().splitlines() or [type(e).__name__])[0][:200]


def outside_reference(f) -> str | None:
    """What in an open file points at other files (the first found), or None. Links are visited without
    being followed (H5Lvisit sees each object once, so hard-link cycles end)."""
    import h5py
    found = []

    def visit(name, link):
        if isinstance(link, h5py.ExternalLink):
            found.append(f"/{name} is an external link to {link.filename[:100]!r}")
        elif isinstance(link, h5py.HardLink):
            obj = f.get(name)
            if isinstance(obj, h5py.Dataset) and obj.external:
                found.append(f"/{name} keeps its data in the external file {str(obj.external[0][0])[:100]!r}")
            elif isinstance(obj, h5py.Dataset) and obj.is_virtual:
                found.append(f"/{name} is a virtual dataset mapped from other files")
        return True if found else None  # a value other than None stops the visit

    f.visititems_links(visit)
    return found[0] if found else None


def check_stored_sha256(d, values, where: str) -> None:
    """A dataset that `lab convert` wrote before its chunks carried fletcher32 has only the SHA-256 it stored
    of the whole (engine.data.h5file.verify_h5 hashes the same bytes): `values`, the dataset read whole, must
    match it. A dataset with per-chunk checksums (the library checked them) or without a stored hash: as is."""
    import hashlib
    stored = d.attrs.get("sha256")
    if d.fletcher32 or not isinstance(stored, str):
        return
    values = np.asarray(values)
    data = values.astype(values.dtype.newbyteorder("<"), copy=False)  # hashed as written: little-endian
    if hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest() != stored:
        raise DataError(f"{where}: {d.name} does not match the SHA-256 that lab convert stored with it (the file "
                        f"is damaged)")


def unchecked_note(f, path, images_key: str) -> str | None:
    """The warning for images that will be streamed from a file `lab convert` wrote before per-chunk checksums
    (a stored SHA-256 needs the whole dataset, which a stream never reads at once), else None."""
    import h5py
    for group in (f, f.get("test")):
        d = group.get(images_key) if isinstance(group, h5py.Group) else None
        if isinstance(d, h5py.Dataset) and not d.fletcher32 and "sha256" in d.attrs:
            source = f.attrs.get("source")
            origin = f" (its source: {source[:100]})" if isinstance(source, str) and source else ""
            return (f"--data {path}: written by an older lab convert, without per-chunk checksums: damage in its "
                    f"images cannot be detected while streaming; convert it again with `lab convert`{origin}")
    return None
