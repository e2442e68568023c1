"""Searches (`lab sweep NAME --search tpe --param lr=log:1e-4..1e-1 ...`): the search space, the study's
record in sweep.json, and which run folder holds which trial.

Pure: parsing, checking and naming. The study itself (Optuna, an optional dependency) is driven by the face.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass

from lab_workbench.engine.settings.config import config_from_text
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runs.sweep import NOT_SWEPT, varied_field

SAMPLERS = ("random", "tpe")
PRUNERS = ("median", "halving")
STUDY_FILE = "study.journal"  # Optuna's file journal, in the sweep folder: every worker appends to it
START_GRACE = 600.0  # seconds a trial on another host may go without a run folder before it counts as dead


@dataclass(frozen=True)
class Param:
    """One searched field: a range (float or int, uniform or log) or a list of choices (as flag text)."""
    name: str
    kind: str  # 'float', 'int' or 'choice'
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[str, ...] = ()

    def text(self, value) -> str:
        """A sampled value as its flag takes it: 6 significant digits for floats, so that the run's config
        and the printed `lab train` line hold the same number."""
        if self.kind == "float":
            return format(float(value), ".6g")
        return str(value)


def parse_space(specs: list[str]) -> dict[str, Param]:
    """['lr=log:1e-4..1e-1', 'dropout=0..0.5', 'hidden=64;128;256'] -> {name: Param}. Ranges (`A..B`, `log:`
    for a log scale) take numeric fields; anything else is a list of choices, split like --grid values."""
    space: dict[str, Param] = {}
    expected = "FIELD=LOW..HIGH, FIELD=log:LOW..HIGH or FIELD=V1,V2,..."
    for spec in specs:
        name, s, text = varied_field(spec, "--param", expected, "search", space)
        if not text.strip():
            raise ConfigError(f"--param: expected {expected}, got {spec!r}")
        space[name] = _param(name, s, text.strip())
    return space


def _param(name: str, s, text: str) -> Param:
    log = text.startswith("log:")
    body = text[4:] if log else text
    if ".." not in body:
        if log:
            raise ConfigError(f"--param {name}: log: takes a range LOW..HIGH, got {text!r}")
        values = [v.strip() for v in body.split(";" if s.kind == "ints" else ",") if v.strip()]
        for v in values:
            _check(name, s, v)
        if len(set(values)) < 2:
            raise ConfigError(f"--param {name}: expected two or more choices (or a range LOW..HIGH), got {text!r}")
        return Param(name, "choice", choices=tuple(values))
    if s.kind not in ("int", "float"):
        raise ConfigError(f"--param {name}: a range needs a numeric field; give choices instead, e.g. {name}=A,B")
    lo_text, _, hi_text = body.partition("..")
    low, high = _check(name, s, lo_text.strip()), _check(name, s, hi_text.strip())
    if not low < high:
        raise ConfigError(f"--param {name}: expected LOW < HIGH, got {body!r}")
    if log and low <= 0:
        raise ConfigError(f"--param {name}: a log range must start above 0, got {low}")
    return Param(name, s.kind, low, high, log)


def _check(name: str, s, value: str):
    try:
        parsed = s.parse(value)
    except ConfigError as e:
        raise ConfigError(f"--param {name}={value}: {str(e).split(': ', 1)[-1]}") from None
    if parsed is None:
        raise ConfigError(f"--param {name}: expected a value, got {value!r}")
    return parsed


def check_space(space: dict[str, Param], base: dict) -> None:
    """Every choice and both ends of every range make a valid config with the shared settings: a space that
    could draw a bad trial is refused before any runs."""
    for p in space.values():
        firsts = {q.name: q.text(q.low) if q.kind != "choice" else q.choices[0] for q in space.values()}
        for v in (p.choices if p.kind == "choice" else (p.text(p.low), p.text(p.high))):
            try:
                config_from_text({**base, **firsts, p.name: v})
            except ConfigError as e:
                raise ConfigError(f"--param {p.name}={v}: {e}") from None


def space_record(space: dict[str, Param]) -> dict:
    """The space as JSON values, for sweep.json."""
    return {n: {k: v for k, v in asdict(p).items() if k != "name"} for n, p in space.items()}


def space_from_record(record: dict) -> dict[str, Param]:
    """sweep.json's space back as Params; a damaged one is a ConfigError naming the file's field."""
    try:
        return {n: Param(n, d["kind"], d.get("low"), d.get("high"), bool(d.get("log")), tuple(d.get("choices") or ()))
                for n, d in record.items()}
    except (AttributeError, KeyError, TypeError):
        raise ConfigError("sweep.json: search.space is not a search space lab wrote") from None


def run_name(trial_number: int) -> str:
    """The run folder of a trial (a retried trial keeps the folder of the trial it retries): 'trial-007'."""
    return f"trial-{trial_number:03d}"


def worker_id() -> dict:
    """Who runs a trial: host, pid and start time, kept with the trial so that others can tell if it died."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}


def worker_alive(worker: dict, progress: dict | None, now: float | None = None) -> bool:
    """Is the worker that took a trial still at it? On this host: its pid exists. Elsewhere: the trial's run
    folder has a live heartbeat, or, before the folder exists, the trial started less than START_GRACE ago."""
    from lab_workbench.engine.runs.info import writer_alive
    now = time.time() if now is None else now
    if worker.get("host") == socket.gethostname() and isinstance(worker.get("pid"), int):
        return writer_alive({"host": worker["host"], "pid": worker["pid"]}, now)
    if progress:
        return writer_alive(progress, now)
    started = worker.get("time")
    return isinstance(started, (int, float)) and now - started < START_GRACE


def tpe_startup(trials: int) -> int:
    """Random trials before TPE models the finished ones: a quarter of the budget, 2 to 10 (Optuna's 10 would
    leave 6 of 16 trials to TPE)."""
    return max(2, min(10, trials // 4))


def median_startup(trials: int) -> int:
    """Trials that must complete before --prune-trials median prunes: 1 per 16 trials, 1 to 5 (Optuna's default).

    Optuna's MedianPruner compares a trial, epoch by epoch, with the median of the trials that *completed*
    (pruned ones never count), and every start-up trial runs in full whatever it shows: a random start-up
    trial with a hopeless lr (10% val_acc) is 5 epochs spent, and it holds the median down for the rest of the
    study. The bar is sound from one completed trial on (anything below a finished curve at the same epoch is
    unlikely to end the best) and rises as better trials complete. Small budgets feel the start-up most; large
    ones keep Optuna's 5, a few full runs among hundreds. On bench/search_vs_grid.py's space (MNIST MLP, 16 trials
    x 5 epochs; bench/README): 41 epochs per study on average against 55 with 4 start-up trials over 120 seeds
    (bench/search_settings.py), 44/66/48 against 52/66/64 in real studies at seeds 0-2 (the grid: 80), the best
    val_acc the same."""
    return max(1, min(5, trials // 16))


def search_record(sampler: str, trials: int, space: dict[str, Param], prune: str | None) -> dict:
    """sweep.json's `search`: what the study draws from and how; its trials live in STUDY_FILE."""
    import json
    return {"sampler": sampler, "trials": trials, "space": json.loads(json.dumps(space_record(space))),
            "prune": prune, "metric": "val_acc", "direction": "maximize", "study": STUDY_FILE}


def check_search_resume(recorded: dict, now: dict) -> None:
    """A resumed study keeps its space, sampler and pruner (--trials may grow or shrink: the record says so)."""
    flags = {"space": "--param", "sampler": "--search", "prune": "--prune-trials", "metric": "the metric"}
    for key, flag in flags.items():
        if recorded.get(key) != now.get(key):
            raise ConfigError(f"--resume: {flag} differs from the study's record in sweep.json; a resumed study "
                              f"keeps it (start a new sweep under another NAME)")
