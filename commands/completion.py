"""Shell completion of values (`lab --install-completion`): models, data sets, optimizers, schedulers and
the other choices from TrainConfig, and run names wherever a run is asked for. Completion runs at every
<TAB>: nothing here imports torch or reads more than the run folders' names and status."""

from pathlib import Path


def choices(setting_name: str):
    """A completion function for a TrainConfig choice field (--model, --dataset, --optimizer, --scheduler...)."""

    def complete(incomplete: str) -> list[tuple[str, str]]:
        from lab_workbench.engine.settings.config import SETTINGS_BY_NAME, model_entries
        if setting_name == "model":
            return [(n, d) for n, d in model_entries() if n.startswith(incomplete)]
        if setting_name == "recipe":
            return [(n, "") for n in ("list", *SETTINGS_BY_NAME["recipe"].options()) if n.startswith(incomplete)]
        return [(o, "") for o in SETTINGS_BY_NAME[setting_name].options() if o.startswith(incomplete)]
    return complete


def run_names(ctx, incomplete: str) -> list[tuple[str, str]]:
    """Run names under --runs-dir (as the command line has it so far, else runs/), newest first, with
    their status, and 'latest'. A path being typed is left to the shell."""
    return _runs(ctx, incomplete, ("latest",))


def resume_names(ctx, incomplete: str) -> list[tuple[str, str]]:
    """--resume: 'latest', 'auto' and the run names."""
    return _runs(ctx, incomplete, ("latest", "auto"))


def _runs(ctx, incomplete: str, extra: tuple[str, ...]) -> list[tuple[str, str]]:
    from lab_workbench.engine.runs import list_runs, read_run
    if "/" in incomplete and not (_runs_dir(ctx) / incomplete.split("/")[0]).is_dir():
        return []
    out = [(e, "the newest run" if e == "latest" else "resume the run --name names, or start it")
           for e in extra if e.startswith(incomplete)]
    try:
        folders = list_runs(_runs_dir(ctx))
    except OSError:
        return out
    for path in folders:
        run = read_run(path, max_rows=1)
        if run.name.startswith(incomplete):
            out.append((run.name, f"{run.status}, {run.config.get('model', '?')} on {run.source}"))
    return out


def _runs_dir(ctx) -> Path:
    params = getattr(ctx, "params", None) or {}
    return Path(params.get("runs_dir") or "runs")
