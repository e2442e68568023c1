"""Checkpoints: plain dicts of tensors, saved atomically, loaded with weights_only=True only."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import secrets
import zipfile
from pathlib import Path

import torch

from ..errors import CheckpointError
from ..files import TMP_SUFFIX, _fsync_dir, read_json, write_json

FORMAT_VERSION = 2  # 2: mid-epoch position (epoch_step, epoch_perm, epoch_accum), checksums
CHECKSUMS = "checkpoints.json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checkpoint_bytes(state: dict) -> bytes:
    """The bytes torch.save writes for a checkpoint dict (serialised once when best.pt and last.pt share it)."""
    buf = io.BytesIO()
    torch.save({**state, "format_version": FORMAT_VERSION}, buf)
    return buf.getvalue()


def save_checkpoint(path: str | Path, state: dict, data: bytes | None = None) -> None:
    """torch.save a checkpoint dict crash-safely and record its SHA-256 in the folder's checkpoints.json;
    `data` is checkpoint_bytes(state) when the caller has it already.

    Order: temp file written and fsynced, then the new hash recorded (the old one kept as `previous`), then
    the rename and a folder fsync. A crash at any point leaves a file that matches one of the two hashes.
    """
    path = Path(path)
    data = checkpoint_bytes(state) if data is None else data
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}"
    try:
        with open(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        sums = read_checksums(path.parent)
        old = sums.get(path.name, {}).get("sha256")
        sums[path.name] = {"sha256": _sha256(data), "previous": old, "bytes": len(data),
                           "epoch": state.get("epoch"), "epoch_step": state.get("epoch_step", 0)}
        write_json(path.parent / CHECKSUMS, sums)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(f"{path}: cannot write checkpoint ({e.strerror or e}); "
                              f"the previous {path.name} is kept") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_checksums(folder: str | Path) -> dict:
    """{file name: {sha256, previous, ...}} from a run folder's checkpoints.json ({} when absent or unreadable)."""
    try:
        sums = read_json(Path(folder) / CHECKSUMS)
    except CheckpointError:
        return {}
    return {k: v for k, v in sums.items() if isinstance(v, dict)}


def verify_checksum(path: Path) -> None:
    """Raise CheckpointError if the folder's checkpoints.json records other hashes for this file."""
    entry = read_checksums(path.parent).get(path.name)
    if not entry:
        return
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() not in (entry.get("sha256"), entry.get("previous")):
        raise CheckpointError(f"{path}: checksum mismatch (sha256 {h.hexdigest()[:12]}..., "
                              f"expected {str(entry.get('sha256'))[:12]}... from {CHECKSUMS}); the file is damaged")


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
