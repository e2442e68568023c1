"""Saying which run a short reference ('latest', a name) resolved to; checking that its weights are usable."""

import sys
from pathlib import Path


def announce(target: str, loaded, json_out: bool = False) -> None:
    """'latest' or a bare name: print the run folder it means (to stderr under --json, whose stdout is data)."""
    if Path(target).exists():
        return  # a path given as such needs no translation
    where = loaded.run_dir or loaded.path
    which = Path(loaded.path).name if loaded.run_dir else ""
    line = f"{target}: {where}" + (f" ({which})" if which else "")
    print(line, file=sys.stderr if json_out else sys.stdout, flush=True)


def check_finite(loaded) -> None:
    """A model whose weights hold NaN or inf (a run saved as it diverged) gives NaN outputs: one line naming
    the tensor, instead of a traceback from the metrics (exports that are not torch modules are not checked)."""
    import torch

    from lab_workbench.engine.core.errors import CheckpointError
    from lab_workbench.engine.evaluation.weights import first_nonfinite
    if not isinstance(loaded.model, torch.nn.Module):
        return
    bad = first_nonfinite(loaded.model.state_dict())
    if bad is not None:
        raise CheckpointError(f"{loaded.path}: its weights hold NaN or infinite values ({bad!r}); the run "
                              f"diverged before this was saved?")
