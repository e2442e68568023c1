"""Crash-safe file writes and tolerant JSON reads, shared by the run folder, evaluation and export."""

from __future__ import annotations

import json
import math
import os
import secrets
from pathlib import Path

from .errors import CheckpointError

TMP_SUFFIX = ".tmp"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some file systems do not open folders; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_temp(path: str | Path) -> Path:
    """A new empty temp file beside `path`, mode 0666 less the umask (mkstemp's 0600 would hide the result
    from the other users of a shared folder)."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}"
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    return tmp


def atomic_write(path: str | Path, write, durable: bool = True) -> None:
    """Call write(tmp_path) on a temp file in the target's folder, fsync it, rename it over the target and
    fsync the folder. A crash at any moment leaves either the old or the new file, never a partial one.

    The temp file is created with mode 0666 less the umask, so the result has the permissions any other
    new file would (mkstemp's 0600 would hide runs from the other users of a shared folder).
    """
    path = Path(path)
    tmp = create_temp(path)
    try:
        write(tmp)
        if durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_temp_files(folder: str | Path) -> list[Path]:
    """Delete the temp files a crashed writer left in a folder; returns what was removed."""
    removed = []
    for p in Path(folder).glob(f".*{TMP_SUFFIX}"):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _clean(obj):
    # JSON has no NaN/inf; write them as null so every reader can parse the file
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: str | Path, data, durable: bool = True) -> None:
    """Write JSON atomically (readers such as `labtui --watch` never see half a file)."""
    text = json.dumps(_clean(data), indent=2)
    try:
        atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n"), durable=durable)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot write ({e.strerror or e})") from None


def read_json(path: str | Path) -> dict:
    """A JSON object from a file; CheckpointError naming the file if missing, unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not found") from None
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({str(e)[:120]})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data
