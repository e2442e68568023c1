"""`lab sweep NAME --grid FIELD=V1,V2 ... [lab train flags]`: one run per grid point, in parallel processes;
`--slurm` submits them as a Slurm job array (sweep_slurm.py), `--search` runs an Optuna study (sweep_search.py)."""

import json
import time
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from lab_workbench.engine.core.errors import ConfigError

from .common import json_option
from .errors import failed
from .options import config_option, with_train_options
from .sweep_common import (DONE, METRICS, Runner, base_settings, outcome, point_rows, print_table, settings_record,
                           sweep_folder, train_argv, write_summary)

MAX_JOBS = 256  # processes at once; beyond, a typo (and 10**20 overflowed the runner's slot list)
Json = json_option("print summary.json instead of the table")
Grid = Annotated[List[str], typer.Option("--grid", help="FIELD=V1,V2,... (lists: channels=32;64;32,64); repeat "
                                                        "for a cartesian product")]
Jobs = Annotated[Optional[int], typer.Option("--jobs", "-j", help="points trained at once, each in its own process "
                                             "(default 1; CPU threads split between them, one GPU each); with "
                                             "--slurm: array tasks at once (%N; default: as many as Slurm allows)")]
Resume = Annotated[bool, typer.Option("--resume", help="continue a sweep: skip finished points, resume the rest")]
MaxRuns = Annotated[int, typer.Option("--max-runs", help="refuse grids (or searches) of more runs than this")]
SortBy = Annotated[str, typer.Option("--sort-by", help=f"summary order: {', '.join(METRICS)}")]
Slurm = Annotated[bool, typer.Option("--slurm", help="submit the points as one Slurm job array (sweep.sbatch in "
                                                     "the sweep folder) instead of training them here")]
Sbatch = Annotated[Optional[str], typer.Option("--sbatch", metavar="'ARGS'", help="with --slurm: more sbatch "
                                               "arguments, e.g. '--partition gpu --gres gpu:1'")]
Status = Annotated[bool, typer.Option("--status", help="show each point's state (run folders, squeue/sacct) and "
                                                       "write the summary; trains nothing")]
Search = Annotated[Optional[str], typer.Option("--search", metavar="random|tpe", help="search with Optuna instead "
                                               "of a grid (pip install 'lab-workbench[search]')")]
Trials = Annotated[Optional[int], typer.Option("--trials", help="with --search: how many trials the study runs")]
Params = Annotated[List[str], typer.Option("--param", help="with --search: FIELD=LOW..HIGH, FIELD=log:LOW..HIGH or "
                                                           "FIELD=V1,V2 (lists: hidden=64;128); repeat")]
Prune = Annotated[Optional[str], typer.Option("--prune-trials", metavar="median|halving", help="with --search: "
                                              "stop weak trials early from their per-epoch val_acc")]
SlurmTask = Annotated[bool, typer.Option("--slurm-task", hidden=True, help="run by sweep.sbatch")]
SearchWorker = Annotated[Optional[int], typer.Option("--search-worker", hidden=True, help="run by lab sweep --search")]


@with_train_options
def sweep_command(
    sweep_name: str = typer.Argument(..., metavar="NAME", help="the sweep's name: its runs go under RUNS_DIR/NAME/"),
    grid: Grid = None, jobs: Jobs = None, resume: Resume = False, max_runs: MaxRuns = 64,
    sort_by: SortBy = "best_val_acc", slurm: Slurm = False, sbatch: Sbatch = None, status: Status = False,
    search: Search = None, trials: Trials = None, params: Params = None, prune: Prune = None,
    slurm_task: SlurmTask = False, search_worker: SearchWorker = None, json_out: Json = False,
    config: Optional[Path] = config_option(),
    **options,
):
    """Train one run per point of a grid of lab train settings, or search them with Optuna; summarise the
    runs in summary.csv/json. `lab sweep NAME` alone shows an existing sweep."""
    from lab_workbench.engine.settings.config import check_run_name
    from lab_workbench.engine.runs import SWEEP_FILE

    name = sweep_name
    check_run_name(name)
    given = {"--grid": grid, "--resume": resume, "--slurm": slurm, "--sbatch": sbatch, "--jobs": jobs,
             "--max-runs": max_runs != 64, "--config": config, "--search": search, "--trials": trials,
             "--param": params, "--prune-trials": prune,
             **{f"--{k.replace('_', '-')}": v for k, v in options.items() if k != "runs_dir"}}
    given = [flag for flag, value in given.items() if value not in (None, False, [], ())]
    readers = [f for f, on in (("--status", status), ("--slurm-task", slurm_task),
                               ("--search-worker", search_worker is not None)) if on]
    if sort_by not in METRICS:
        raise ConfigError(f"--sort-by: expected one of {', '.join(METRICS)}, got {sort_by!r}")
    folder = Path(options.get("runs_dir") or "runs") / name
    if readers or (not given and (folder / SWEEP_FILE).is_file()):
        return _from_record(folder, readers, given, search_worker, sort_by, json_out)
    _check_how(options, jobs, sbatch, slurm)
    how = {"jobs": jobs, "resume": resume, "max_runs": max_runs, "slurm": slurm, "sbatch": sbatch,
           "sort_by": sort_by, "json_out": json_out}
    if search or trials or params or prune:
        code = search_command(name, grid, search, trials, params, prune, how, config, options)
    else:
        code = _grid_sweep(name, grid, how, config, options)
    if code:
        raise typer.Exit(code)


def _grid_apart_from_flags(grid: dict, options: dict) -> dict:
    """The grid, once no field of it is also given as a flag (the grid's values would win without a word)."""
    both = [k for k in grid if options.get(k) is not None]
    if both:
        raise ConfigError(f"--{both[0].replace('_', '-')}: also varied by --grid {both[0]}; drop one of them")
    return grid


def _check_how(options: dict, jobs, sbatch, slurm) -> None:
    if options.get("name"):
        raise ConfigError("--name: a sweep names its runs after their grid points (the sweep's own name is NAME)")
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(f"--jobs: expected an integer from 1 to {MAX_JOBS}, got {jobs}")
    if sbatch is not None and not slurm:
        raise ConfigError("--sbatch: only with --slurm")


def _from_record(folder: Path, readers: list[str], given: list[str], worker, sort_by: str, json_out: bool) -> None:
    """--status, and the processes a sweep starts (array tasks, search workers): all read sweep.json."""
    if len(readers) > 1 or given:
        raise ConfigError(f"{(readers[1:] or given)[0]}: not with {readers[0] if readers else 'lab sweep NAME'}, "
                          f"which reads the sweep's own record (sweep.json)")
    if not readers or readers[0] == "--status":
        from .sweep_status import show_status
        return show_status(folder, sort_by, json_out)
    from .sweep_search import worker_command
    from .sweep_slurm import slurm_task_command, task_index
    if readers[0] == "--search-worker":
        raise typer.Exit(worker_command(folder, worker))
    if "search" in _record(folder):  # an array task of a search: one trial drawn from the study
        raise typer.Exit(worker_command(folder, task_index(10 ** 9), one=True))
    raise typer.Exit(slurm_task_command(folder))


def _record(folder: Path) -> dict:
    from lab_workbench.engine.runs import read_sweep
    return read_sweep(folder)


def _grid_sweep(name: str, grid: list[str], how: dict, config: Path | None, options: dict) -> int:
    """One run per grid point: trained here (-j at a time) or submitted to Slurm; the exit status."""
    from lab_workbench.engine.core.files import write_json
    from lab_workbench.engine.runs import SWEEP_FILE, parse_grid, plan, read_sweep
    from lab_workbench.engine.runs.sweep import check_resume

    from .sweep_slurm import parse_sbatch, submit_sweep
    if not grid:
        raise ConfigError("--grid: expected at least one FIELD=V1,V2,... (or --search; `lab sweep NAME` alone "
                          "shows an existing sweep)")
    extra_sbatch = parse_sbatch(how["sbatch"])
    base, argv, runs_dir = base_settings(options, config)
    g = _grid_apart_from_flags(parse_grid(grid), options)
    by_name = plan(g, base, how["max_runs"])  # every point validated before anything starts
    folder = sweep_folder(Path(runs_dir) / name, how["resume"])
    settings = settings_record(options, config)
    if (folder / SWEEP_FILE).is_file():  # --resume: the record stays as it is, and must describe this sweep
        record = read_sweep(folder)
        if "search" in record:
            raise ConfigError("--resume: this sweep is a search; resume it with its --search and --param flags")
        check_resume(record, g, settings, argv)
    else:
        write_json(folder / SWEEP_FILE, {"name": name, "grid": g, "train_flags": argv, "settings": settings,
                                         "points": list(by_name), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    todo = [(p, argv + train_argv(v)) for p, v in by_name.items()
            if not (how["resume"] and outcome(folder / p)["status"] in DONE)]
    if how["slurm"]:
        return submit_sweep(folder, name, runs_dir, list(by_name), [p for p, _ in todo], how["jobs"], extra_sbatch,
                            how["json_out"]) or 0
    runner = Runner(folder, how["jobs"] or 1, len(by_name))
    code = runner.run(todo)
    rows = point_rows(folder, by_name, runner.failed)
    write_summary(folder, rows, list(g))
    if how["json_out"]:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, list(g), how["sort_by"])
    failures = [r["point"] for r in rows if r["status"] not in DONE]
    if code:
        return code
    if failures:
        failed(f"{len(failures)} of {len(rows)} points did not complete: {', '.join(failures)} "
               f"(logs in {folder}/logs/)")
    return 0


def search_command(name: str, grid, search, trials, params, prune, how: dict, config, options: dict) -> int:
    """`lab sweep NAME --search ...`: check the flags and the space, record the study, then run it here or
    submit it to Slurm; the exit status."""
    from lab_workbench.engine.core.files import write_json
    from lab_workbench.engine.runs import SWEEP_FILE, read_sweep
    from lab_workbench.engine.runs.search import PRUNERS, SAMPLERS, check_search_resume, check_space, parse_space, search_record
    from lab_workbench.engine.runs.sweep import check_resume

    from .sweep_search import need_optuna, search_sweep
    if grid:
        raise ConfigError("--grid: not with --search (a search draws its values from --param)")
    if search not in SAMPLERS:
        raise ConfigError(f"--search: expected {' or '.join(SAMPLERS)}, got {search!r}")
    if not params:
        raise ConfigError("--param: --search needs at least one, e.g. --param lr=log:1e-4..1e-1")
    if trials is None or not 1 <= trials <= how["max_runs"]:
        raise ConfigError(f"--trials: expected an integer from 1 to --max-runs {how['max_runs']}, got {trials}")
    if prune is not None and prune not in PRUNERS:
        raise ConfigError(f"--prune-trials: expected {' or '.join(PRUNERS)}, got {prune!r}")
    need_optuna()
    space = parse_space(params)
    for n in space:
        if options.get(n) is not None:
            raise ConfigError(f"--param {n}: also given as a flag; a searched field takes its values from --param")
    base, argv, runs_dir = base_settings(options, config)
    check_space(space, base)
    wanted = search_record(search, trials, space, prune)
    folder = sweep_folder(Path(runs_dir) / name, how["resume"])
    settings = settings_record(options, config)
    if (folder / SWEEP_FILE).is_file():  # --resume: the same study, perhaps with another budget
        record = read_sweep(folder)
        if "search" not in record:
            raise ConfigError("--resume: this sweep is a grid; resume it with its --grid flags")
        check_resume(record, {}, settings, argv)
        check_search_resume(record["search"], wanted)
        if record["search"]["trials"] != trials:
            record = {**record, "search": {**record["search"], "trials": trials}}
            write_json(folder / SWEEP_FILE, record)
    else:
        record = {"name": name, "search": wanted, "train_flags": argv, "settings": settings, "points": [],
                  "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        write_json(folder / SWEEP_FILE, record)
    if how["slurm"]:
        return submit_search(folder, name, runs_dir, record, how)
    return search_sweep(folder, name, runs_dir, record, how["jobs"], how["sort_by"], how["json_out"])


def submit_search(folder: Path, name: str, runs_dir: str, record: dict, how: dict) -> int:
    """--slurm: an array task per trial still to train; each draws its trial from the study."""
    from lab_workbench.engine.core.files import write_json
    from lab_workbench.engine.runs import SWEEP_FILE, read_sweep

    from .sweep_search import remaining
    from .sweep_slurm import parse_sbatch, record_job, submit, write_script
    extra = parse_sbatch(how["sbatch"])
    n = remaining(folder, record)
    if not n:
        print(f"the study has all its trials; nothing to submit (lab sweep {name} --status)")
        return 0
    script = write_script(folder, name, runs_dir, n, how["jobs"])
    job = submit(script, list(range(n)), how["jobs"], extra)
    write_json(folder / SWEEP_FILE, record_job(read_sweep(folder), job, list(range(n)), extra))
    if how["json_out"]:
        print(json.dumps({"job": job, "script": str(script), "trials": n}, indent=2))
    else:
        print(f"submitted Slurm array job {job}: {n} trial(s) of the study ({script})\n"
              f"follow it with: lab sweep {name} --status")
    return 0
