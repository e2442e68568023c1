"""`lab runs`: the run folders under --runs-dir, newest first, live ones told from dead ones."""

import json
import time
from pathlib import Path
from typing import List, Optional

import typer

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.core.units import percent

from .common import json_option, runs_dir_option
from .textviz import table

SORTS = {"time": lambda r: -r.created, "name": lambda r: r.name,
         "best": lambda r: -(r.best_val_acc if r.best_val_acc is not None else -1),
         "test": lambda r: -(r.test_acc if r.test_acc is not None else -1), "duration": lambda r: -r.seconds}
PRUNABLE = ("failed", "cancelled", "dead")
STATUSES = ("running", "dead", "stopped?", "completed", "early-stopped", "cancelled", "interrupted", "diverged",
            "failed", "pruned")  # pruned: a trial of `lab sweep --search --prune-trials` stopped as weak
RunsDir = runs_dir_option("the folder that holds the run folders")
Json = json_option("print the list as JSON")


def _matches(run, where: list[tuple[str, str]]) -> bool:
    for key, value in where:
        have = run.config.get(key, run.data.get(key) if key != "dataset" else run.source)
        text = ",".join(map(str, have)) if isinstance(have, list) else str(have)
        if text != value:
            return False
    return True


def _check_fields(keys: list[str], runs) -> None:
    """A --where field that no config has is a typo, not "no runs match": name it."""
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME, _suggest
    known = set(SETTINGS_BY_NAME) | {k for r in runs for k in (*r.config, *r.data)}
    for key in keys:
        if key not in known:
            raise ConfigError(f"--where {key}: unknown field; expected a config field such as model, dataset, "
                              f"lr" + _suggest(key, sorted(known)))


def _row(r) -> dict:
    s = r.summary()
    return {"name": r.name, "path": str(r.path), "status": s["status"], "dataset": r.source,
            "model": r.config.get("model"), "epochs": s["epochs"], "of": r.epochs, "best_val_acc": s["best_val_acc"],
            "monitor": r.monitor,
            "test_acc": s["test_acc"], "seconds": s["seconds"],
            "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created))}


def runs_command(
    runs_dir: RunsDir = "runs",
    where: Optional[List[str]] = typer.Option(None, "--where", help="FIELD=VALUE of the config, e.g. model=cnn "
                                                                   "(repeatable)"),
    status: Optional[str] = typer.Option(None, "--status", help="only runs with this status, e.g. completed, dead"),
    sort: str = typer.Option("time", "--sort", help=f"one of: {', '.join(SORTS)}"),
    json_out: Json = False,
    prune: bool = typer.Option(False, "--prune", help="remove failed, cancelled and dead runs (asks first)"),
    yes: bool = typer.Option(False, "--yes", "-y", help="with --prune: do not ask"),
):
    """List runs newest first: name, status (running, dead, completed...), data set, model, epochs, accuracy."""
    from lab_workbench.engine.runs import read_runs

    if sort not in SORTS:
        raise ConfigError(f"--sort: expected one of {', '.join(SORTS)}, got {sort!r}")
    if status is not None and status not in STATUSES:
        raise ConfigError(f"--status: expected one of {', '.join(STATUSES)}, got {status!r}")
    if not runs_dir.strip():
        raise ConfigError(f"--runs-dir: expected a folder, got {runs_dir!r}")
    if yes and not prune:
        raise ConfigError("--yes: needs --prune (it answers the question --prune asks)")
    if Path(runs_dir).exists() and not Path(runs_dir).is_dir():
        raise ConfigError(f"--runs-dir {runs_dir}: expected a folder of run folders, found a file")
    pairs = []
    for w in where or []:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise ConfigError(f"--where: expected FIELD=VALUE, got {w!r}")
        pairs.append((key.strip().replace("-", "_"), value.strip()))
    every = read_runs(runs_dir)
    _check_fields([key for key, _ in pairs], every)
    runs = [r for r in every if _matches(r, pairs) and (status is None or r.status == status)]
    runs.sort(key=SORTS[sort])
    if prune:
        return _prune(runs, yes, runs_dir)
    if json_out:
        print(json.dumps([_row(r) for r in runs], indent=2))
        return
    if not runs:
        print(f"no runs in {runs_dir}/" + (" that match" if pairs or status else ""))
        return
    rows = [[d["name"], d["status"], d["dataset"], d["model"], f"{d['epochs']}/{d['of']}", percent(d["best_val_acc"]),
             d["monitor"], percent(d["test_acc"]), f"{d['seconds']:.1f}s", d["created"]] for d in map(_row, runs)]
    # best val: the val_acc of best.pt's epoch, which `picked by` (--monitor) chose; at 80 columns the least
    # needed columns go first: picked by, created, train time, data
    print(table(rows, ["run", "status", "data", "model", "epochs", "best val", "picked by", "test", "train time",
                       "created"], aligns="<<<<>><>>>", keep=[0, 1, 5, 7, 3, 4, 2, 8, 9, 6]))


def _prune(runs, yes: bool, runs_dir: str) -> None:
    from lab_workbench.engine.core.errors import CheckpointError
    from lab_workbench.engine.runs import RunFolder, check_run_folder, delete_run
    doomed = []
    for r in (r for r in runs if r.status in PRUNABLE):
        try:  # a run reached through a symlink lives elsewhere: never deleted from here (delete_run checks again)
            doomed.append(check_run_folder(r.path, runs_dir) and r)
        except CheckpointError as e:
            print(f"skipped {e}")
    if not doomed:
        print("nothing to prune (no failed, cancelled or dead runs)")
        return
    resumable = [r for r in doomed if RunFolder(r.path).last.is_file()]
    for r in doomed:  # a run with a last.pt is never removed without saying that it could go on
        note = f"  resumable: last.pt after {len(r.rows)} of {r.epochs} epochs" if r in resumable else ""
        print(f"  {r.status:<9} {r.path}{note}")
    question = f"remove these {len(doomed)} run folders"
    if resumable:
        question += f", {len(resumable)} of them resumable with lab train --resume"
        if yes:
            print(f"removing {len(resumable)} resumable runs (--yes)")
    if not yes and not typer.confirm(question + "?", default=False):
        raise typer.Exit(1)
    for r in doomed:
        try:
            delete_run(r.path, runs_dir)
        except CheckpointError as e:
            print(f"kept {r.path}: {e}")
            continue
        print(f"removed {r.path}")
