"""Checkpoints: plain dicts of tensors, saved atomically, loaded with weights_only=True only."""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

from ..errors import CheckpointError

FORMAT_VERSION = 1


def atomic_write(path: str | Path, write) -> None:
    """Call write(tmp_path) on a temp file in the target's folder, then rename it over the target.

    A crash midway leaves the previous file intact: a good checkpoint is never replaced by a partial one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path: str | Path, state: dict) -> None:
    """torch.save a checkpoint dict atomically."""
    state = {**state, "format_version": FORMAT_VERSION}
    try:
        atomic_write(path, lambda tmp: torch.save(state, tmp))
    except OSError as e:
        raise CheckpointError(f"{path}: cannot write checkpoint ({e.strerror or e})") from None


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """Load a checkpoint with weights_only=True; anything carrying code is refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
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
