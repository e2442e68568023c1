"""What both faces do to a run folder: delete it, and plan its resume (including --resume auto).

`lab runs --prune` and the runs browser's `d` delete through `delete_run`; `lab train --resume` and the
browser's `r` continue a run through `plan_resume`. Evaluating and exporting a run, which need its model,
are in engine/artifacts/run_outputs.py. Nothing here prints: each returns what it did, or raises a LabError
whose message names the run.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from lab_workbench.engine.settings.config import TrainConfig, check_run_name
from lab_workbench.engine.core.errors import CheckpointError, ConfigError
from lab_workbench.engine.core.files import why
from lab_workbench.engine.runs.folder import RunFolder
from lab_workbench.engine.runs.info import read_run
from lab_workbench.engine.runs.listing import resolve_run
from lab_workbench.engine.runs.lock import RunLock, check_run_folder

ENDED = ("completed", "early-stopped")  # a resume of these only trains on when given more epochs


def delete_run(path: str | Path, runs_dir: str | Path | None = None) -> Path:
    """Remove a run folder and every file in it; returns its path. Refused (CheckpointError): a folder that is
    no run, one reached through a symlink (given `runs_dir`, no step below it may be one either: a symlinked
    sweep folder would make the delete happen elsewhere), and a live run (its lock is held, or its heartbeat
    is fresh: a run on another host holds no lock here)."""
    path = check_run_folder(Path(path), runs_dir)
    RunFolder(path).require_run()
    if read_run(path).status == "running":
        raise CheckpointError(f"{path}: the run is running; stop it before deleting it")
    try:
        with RunLock(path):  # a process that trains there holds it: then nothing is deleted
            shutil.rmtree(path)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot delete the run folder ({why(e)})") from None
    return path


@dataclass(frozen=True)
class ResumePlan:
    """How to continue a run: `train(plan.config, resume=plan.run_dir)`. `done` is the status of a run that
    --resume auto found over ('completed', 'early-stopped') and that the settings given do not extend."""
    config: TrainConfig
    run_dir: Path
    done: str = ""


def auto_run(given: dict) -> Path | None:
    """--resume auto: the run that `given["name"]` names under `given["runs_dir"]`, or None when it is no run
    yet (then train(exact_name=True) starts it under this very name: a requeued job keeps its folder)."""
    name = given.get("name")
    if not name:
        raise ConfigError("--resume auto: needs --name (the run to resume, or to create)")
    check_run_name(name)
    folder = Path(given.get("runs_dir") or "runs") / name
    # config.json is the first file of a run (written atomically): without it the folder is no run yet
    return folder if RunFolder(folder).is_run() else None


def plan_resume(resume: str | Path, given: dict | None = None) -> ResumePlan | None:
    """How to continue `resume` (a run folder, a name under given["runs_dir"], 'latest', or 'auto') with the
    settings `given` (the flags and config-file keys asked for: a change of one that may not change on resume
    is a ConfigError naming its flag). None: --resume auto found no run yet, so a new one starts."""
    given = dict(given or {})
    auto = str(resume) == "auto"
    if auto:
        resume = auto_run(given)
        if resume is None:
            return None
    run_dir = resolve_run(resume, given.get("runs_dir") or "runs")
    saved = TrainConfig.from_dict(RunFolder(run_dir).read_config().get("config"))
    # runs_dir and name say where the run is, not what it is: never compared with the saved ones
    changes = {k: v for k, v in given.items() if k not in ("runs_dir", "name") and v is not None}
    cfg = saved.resumed_with(changes)
    return ResumePlan(cfg, run_dir, _over(run_dir, cfg, given) if auto else "")


def _over(run_dir: Path, cfg: TrainConfig, given: dict) -> str:
    """The status of a run that ended and that these settings do not extend, else ''."""
    run = read_run(run_dir)
    if run.status == "completed" and len(run.rows) >= cfg.epochs:
        return run.status
    if run.status == "early-stopped" and "epochs" not in given:
        return run.status
    return ""
