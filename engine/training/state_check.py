"""Field checks of a loaded checkpoint: a `last.pt` whose `epoch` is 'x', whose history is a list or whose
`data.mean` is text is refused with one line naming the file and the field, not a traceback deep inside
the loop. weights_only=True keeps code out of a checkpoint; these checks keep out values of the wrong type.
TrainingState.from_dict (state.py) runs them: no other module reads a checkpoint's fields.
"""

from __future__ import annotations

import math
from numbers import Real

from lab_workbench.engine.data.formats import MAX_CLASSES
from lab_workbench.engine.core.errors import CheckpointError


def _fail(where, field: str, expected: str, value) -> "NoReturn":  # noqa: F821
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    raise CheckpointError(f"{where}: {field}: expected {expected}, got {shown[:60]}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _numbers(v) -> list | None:
    """v as a list of finite numbers (a number or a list of them), else None."""
    items = v if isinstance(v, (list, tuple)) else [v]
    ok = items and all(isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x) for x in items)
    return list(items) if ok else None


def check_facts(facts, where) -> dict:
    """The checkpoint's `data` entry (or an export's lab metadata): shape, classes, normalisation."""
    if not isinstance(facts, dict):
        _fail(where, "data", "a dict", facts)
    shape = facts.get("input_shape")
    if not isinstance(shape, (list, tuple)) or not 1 <= len(shape) <= 3 or \
            not all(_is_int(d) and 1 <= d <= 1 << 16 for d in shape):
        _fail(where, "data.input_shape", "1 to 3 sizes from 1 to 65536, e.g. [1, 28, 28]", shape)
    n = facts.get("num_classes")
    if not _is_int(n) or not 2 <= n <= MAX_CLASSES:
        _fail(where, "data.num_classes", f"an integer from 2 to {MAX_CLASSES}", n)
    classes = facts.get("classes")
    if classes is not None and (not isinstance(classes, list) or len(classes) != n):
        _fail(where, "data.classes", f"a list of {n} names", classes)
    for key in ("mean", "std"):
        if key in facts:
            values = _numbers(facts[key])
            if values is None or (key == "std" and min(values) <= 0):
                _fail(where, f"data.{key}", "a finite number or a list of them" + (" > 0" if key == "std" else ""),
                      facts[key])
    return facts


def check_resume_state(state: dict, where) -> dict:
    """The counters, history and data facts a resume reads from last.pt."""
    check_facts(state.get("data"), where)
    for key in ("epoch", "step", "epoch_step", "bad_epochs", "best_epoch", "world_size"):
        value = state.get(key)
        if value is not None and (not _is_int(value) or value < 0):
            _fail(where, key, "an integer >= 0", value)
    if _numbers(state.get("best_accuracy")) is None or isinstance(state.get("best_accuracy"), (list, tuple)):
        _fail(where, "best_accuracy", "a number", state.get("best_accuracy"))
    history = state.get("history")
    if not isinstance(history, dict) or not isinstance(history.get("rows", []), list) or \
            not all(isinstance(r, dict) for r in history.get("rows", [])):
        _fail(where, "history", "a dict with a list of rows", history)
    for key in ("config", "rng"):
        if not isinstance(state.get(key), dict):
            _fail(where, key, "a dict", state.get(key))
    return state


def check_run_files(run_dir) -> None:
    """Every file a resume reads or rewrites is a file: a folder named metrics.csv is one line, not an
    IsADirectoryError from the rename that would replace it."""
    from lab_workbench.engine.runs.folder import RunFolder
    for path in RunFolder(run_dir).resume_files:
        if path.exists() and not path.is_file():
            raise CheckpointError(f"{path}: is not a regular file; the run folder cannot be resumed")
