"""Checkpoints: plain dicts of tensors, saved atomically, loaded with weights_only=True only."""

from __future__ import annotations

import hashlib
import io
import pickle
import zipfile
import zlib
from pathlib import Path

import torch

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.runs.names import CHECKSUMS
from lab_workbench.engine.core.files import atomic_write, read_json, write_json

EOCD = b"PK\x05\x06"  # a zip's end-of-central-directory record: 22 bytes, then the comment
TAG = b"lab-sha256:"  # the comment of a sealed checkpoint, followed by the hex SHA-256 of all before it


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checkpoint_bytes(state: dict) -> bytes:
    """The bytes of a checkpoint file, sealed (see seal): serialised once when best.pt and last.pt share them."""
    return seal(serialise(state))


def serialise(state: dict) -> bytes:
    """torch.save's bytes of a checkpoint dict (TrainingState.to_dict stamps its format version), not yet
    sealed."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def seal(data: bytes) -> bytes:
    """torch.save's zip bytes with their own SHA-256 as the zip comment: the file proves itself complete
    without checkpoints.json, and torch.load reads it as any zip."""
    if data[-22:-18] != EOCD or data[-2:] != b"\0\0":
        return data  # not the zip layout torch writes: left as it is, checked by its CRCs
    tag = TAG + _sha256(data[:-2]).encode()
    return data[:-2] + len(tag).to_bytes(2, "little") + tag


def save_checkpoint(path: str | Path, state: dict, data: bytes | None = None) -> None:
    """torch.save a checkpoint dict crash-safely, sealed with its own SHA-256 (see seal); the hash is also
    recorded in the folder's checkpoints.json once the file is in place, for people and tools. `data` is
    checkpoint_bytes(state) when the caller has it already."""
    path = Path(path)
    data = checkpoint_bytes(state) if data is None else data
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), what="checkpoint")
    sums = read_checksums(path.parent)
    old = sums.get(path.name, {}).get("sha256")
    sums[path.name] = {"sha256": _sha256(data), "previous": old, "bytes": len(data),
                       "epoch": state.get("epoch"), "epoch_step": state.get("epoch_step", 0)}
    write_json(path.parent / CHECKSUMS, sums)  # a record only: a crash before it leaves the file still sealed


def read_checksums(folder: str | Path) -> dict:
    """{file name: {sha256, previous, ...}} from a run folder's checkpoints.json ({} when absent or unreadable)."""
    try:
        sums = read_json(Path(folder) / CHECKSUMS)
    except CheckpointError:
        return {}
    return {k: v for k, v in sums.items() if isinstance(v, dict)}


def _hash_file(path: Path, end: int | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = end
        while left is None or left > 0:
            block = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not block:
                break
            h.update(block)
            left = None if left is None else left - len(block)
    return h.hexdigest()


def _sealed_hash(path: Path) -> tuple[str, int] | None:
    """(the SHA-256 a sealed file records, the length it covers), or None for an unsealed file."""
    size = path.stat().st_size
    n = len(TAG) + 64
    if size < n + 22:
        return None
    with open(path, "rb") as f:
        f.seek(size - n - 22)
        tail = f.read()
    if tail[:4] != EOCD or tail[20:22] != n.to_bytes(2, "little") or tail[22:22 + len(TAG)] != TAG:
        return None
    return tail[22 + len(TAG):].decode("ascii", "replace"), size - n - 2


def verify_checksum(path: Path) -> None:
    """Raise CheckpointError if the file is damaged. A sealed file is checked against its own hash; an
    older one against checkpoints.json, and when that names other hashes (a crash between two saves, a
    reader racing a save) against the CRC-32 of every member, so a complete file is never refused."""
    sealed = _sealed_hash(path)
    if sealed is not None:
        got = _hash_file(path, sealed[1])
        if got != sealed[0]:
            raise CheckpointError(f"{path}: checksum mismatch (sha256 {got[:12]}..., {sealed[0][:12]}... recorded "
                                  f"in the file when it was saved); the file is damaged")
        return
    entry = read_checksums(path.parent).get(path.name)
    if entry and _hash_file(path) in (entry.get("sha256"), entry.get("previous")):
        return
    bad = _zip_damage(path)
    if bad:
        raise CheckpointError(f"{path}: checksum mismatch ({bad}); the file is damaged")


def _zip_damage(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as z:
            name = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as e:
        return None if not zipfile.is_zipfile(path) else f"unreadable archive: {str(e)[:100]}"
    return f"CRC-32 mismatch in {name}" if name else None


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """Load a checkpoint with weights_only=True; anything carrying code is refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    verify_checksum(path)
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a readable checkpoint (not a file written by torch.save)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        lines = [line.strip() for line in str(e).splitlines()
                 if "GLOBAL" in line and ("unsupported" in line.lower() or "blocked" in line)]
        why = lines[0] if lines else "content other than tensors and plain data"
        raise CheckpointError(f"{path}: refused: the file holds more than tensors and plain data ({why[:160]})") \
            from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({msg[:160]})") from None
    if not isinstance(state, dict) or "model_state_dict" not in state:
        raise CheckpointError(f"{path}: not a lab checkpoint (no 'model_state_dict')")
    return state
