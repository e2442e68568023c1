"""Opening an HDF5 file that lab reads: only the bytes of that file, unless the user asks for more.

HDF5 can make a file read others: an external link (a name resolved in another file), external storage
(a dataset whose bytes lie in raw files) and a virtual dataset (mapped from datasets of other files). A
crafted .h5 would make lab train on /etc/hostname; each is refused unless --allow-external-h5 is given.
"""

from __future__ import annotations

from pathlib import Path

from lab_workbench.engine.errors import DataError

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
