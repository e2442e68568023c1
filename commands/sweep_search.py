"""`lab sweep NAME --search random|tpe --trials N --param FIELD=...`: an Optuna study in the sweep folder.

The study lives in Optuna's file journal (runs/NAME/study.journal), so that `-j` local workers and Slurm array
tasks on a shared file system draw their trials from one study. A worker trains each trial in its own process
with the engine, reports val_acc per epoch to the trial and, with --prune-trials, stops a trial that the pruner
judges weak (its run's status: `pruned`). Trial N trains in runs/NAME/trial-00N. A trial whose worker died is
failed and a retry enqueued with the same values and run folder, which `--resume auto`-style continues it:
Optuna's heartbeat (RetryFailedTrialCallback) needs an RDB storage, so liveness comes from lab's own records
(the worker's pid on this host, the run's progress.json elsewhere).
"""

import fcntl
import json
import shlex
import subprocess
from contextlib import contextmanager
from pathlib import Path

from lab_workbench.engine.core.errors import ConfigError, LabError
from lab_workbench.engine.core.units import percent

from .errors import failed
from .sweep_common import DONE, ENDED, OK_EXITS, Runner, outcome, print_table, train_argv, write_summary

LOCK_FILE = "study.lock"


def need_optuna():
    """The optuna module, quiet; a clear line when it is not installed."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("--search needs Optuna: pip install 'lab-workbench[search]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _storage(folder: Path):
    optuna = need_optuna()
    try:  # Optuna >= 4.0
        from optuna.storages.journal import JournalFileBackend
    except ImportError:  # Optuna 3.x
        from optuna.storages import JournalFileStorage as JournalFileBackend
    from lab_workbench.engine.runs.search import STUDY_FILE
    return optuna.storages.JournalStorage(JournalFileBackend(str(folder / STUDY_FILE)))


def open_study(folder: Path, record: dict, seed: int = 0):
    """The sweep's study (created on first use) with its sampler and pruner, as the record names them."""
    optuna = need_optuna()
    from lab_workbench.engine.runs.search import median_startup, tpe_startup
    search = record["search"]
    trials = int(search["trials"])
    sampler = (optuna.samplers.RandomSampler(seed=seed) if search["sampler"] == "random"
               else optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=tpe_startup(trials)))
    pruner = {None: optuna.pruners.NopPruner(),
              "median": optuna.pruners.MedianPruner(n_startup_trials=median_startup(trials)),  # why: its docstring
              "halving": optuna.pruners.SuccessiveHalvingPruner()}[search.get("prune")]
    return optuna.create_study(study_name=record["name"], storage=_storage(folder), sampler=sampler, pruner=pruner,
                               direction="maximize", load_if_exists=True)


@contextmanager
def _locked(folder: Path):
    """One worker at a time counts the trials and asks for the next (else two could take the last one)."""
    with open(folder / LOCK_FILE, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _counted(study) -> int:
    """Trials that use up the budget: all but the failed ones that were retried."""
    from optuna.trial import TrialState
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state != TrialState.FAIL or not t.user_attrs.get("retried"))


def _retry(study, trial_id: int, frozen) -> None:
    """Fail a trial and enqueue its retry: the same values, the same run folder (continued, not restarted)."""
    from optuna.trial import TrialState

    from lab_workbench.engine.runs.search import run_name
    storage = study._storage  # noqa: SLF001 - the study's own storage, to fail another process's trial
    storage.set_trial_user_attr(trial_id, "retried", True)
    storage.set_trial_state_values(trial_id, TrialState.FAIL)
    study.enqueue_trial(frozen.params, user_attrs={"run": frozen.user_attrs.get("run") or run_name(frozen.number),
                                                   "retry_of": frozen.user_attrs.get("retry_of", frozen.number)})


def recover_stale(study, folder: Path) -> list[int]:
    """Fail and retry the running trials whose worker is gone (killed, preempted); their numbers."""
    from optuna.trial import TrialState

    from lab_workbench.engine.runs import RunFolder
    from lab_workbench.engine.runs.search import run_name, worker_alive
    stale = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        run = t.user_attrs.get("run") or run_name(t.number)
        worker = t.user_attrs.get("worker") or {"time": t.datetime_start.timestamp() if t.datetime_start else 0}
        if not worker_alive(worker, RunFolder(folder / run).read_progress()):
            _retry(study, study._storage.get_trial_id_from_study_id_trial_number(study._study_id, t.number), t)
            stale.append(t.number)
    return stale


def next_trial(study, folder: Path, trials: int):
    """A retry waiting in the study, else a new trial while the budget lasts, else None."""
    from optuna.trial import TrialState

    from lab_workbench.engine.runs.search import worker_id
    with _locked(folder):
        recover_stale(study, folder)
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if not waiting and _counted(study) >= trials:
            return None
        trial = study.ask()
        trial.set_user_attr("worker", worker_id())  # before the lock is let go: others must see it is taken
        return trial


def study_done(study, trials: int) -> bool:
    from optuna.trial import TrialState
    busy = study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    return not busy and _counted(study) >= trials


class Pruning:
    """Reports each epoch's val_acc to the trial (a resumed run's earlier epochs first); once the pruner
    says so, should_stop answers 'pruned', which becomes the run's status."""

    def __init__(self, trial, enabled: bool):
        self.trial, self.enabled, self.pruned = trial, enabled, False

    def __call__(self, event) -> None:
        from lab_workbench.engine.contract.events import EpochEnded, RunStarted
        if isinstance(event, RunStarted):
            for row in event.rows:
                self._report(row.get("epoch"), row.get("val_acc"))
        elif isinstance(event, EpochEnded):
            self._report(event.epoch, event.val_acc)

    def _report(self, epoch, value) -> None:
        if not isinstance(epoch, int) or not isinstance(value, (int, float)) or value != value:
            return
        self.trial.report(float(value), epoch)
        if self.enabled and not self.pruned and self.trial.should_prune():
            self.pruned = True

    def stop(self) -> str | None:
        return "pruned" if self.pruned else None


def _suggest(trial, p):
    if p.kind == "choice":
        return trial.suggest_categorical(p.name, list(p.choices))
    if p.kind == "int":
        return trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
    return trial.suggest_float(p.name, float(p.low), float(p.high), log=p.log)


def run_trial(folder: Path, record: dict, study, trial) -> int:
    """Train one trial in this process and tell the study how it went; the exit status for the worker."""
    from optuna.trial import TrialState

    from lab_workbench.engine.runs.search import run_name, space_from_record

    from .signals import StopFlag

    space = space_from_record(record["search"]["space"])
    texts = {n: p.text(_suggest(trial, p)) for n, p in space.items()}  # a retry's values are fixed
    run = trial.user_attrs.get("run") or run_name(trial.number)
    trial.set_user_attr("run", run)
    print(f"[trial {trial.number}] {run}: {' '.join(f'{k}={v}' for k, v in texts.items())}", flush=True)
    pruning = Pruning(trial, bool(record["search"].get("prune")))
    with StopFlag() as stop:
        try:
            _train_trial(folder / run, {**record.get("settings", {}), **texts}, pruning, stop)
        except LabError as e:
            study.tell(trial, state=TrialState.FAIL)
            print(f"[trial {trial.number}] {run}: failed: {e}", flush=True)
            return 1
    if stop.reason:  # a signal or Slurm's warning: the trial goes back to the study, continued on resume
        _retry(study, trial._trial_id, study._storage.get_trial(trial._trial_id))  # noqa: SLF001
        print(f"[trial {trial.number}] {run}: stopped; it continues with --resume", flush=True)
        return stop.exit_code()
    o = outcome(folder / run)
    if o["status"] == "pruned":
        study.tell(trial, state=TrialState.PRUNED)
    elif o["status"] in (*DONE, "diverged"):
        study.tell(trial, float(o.get("best_val_acc") or 0.0))
    else:
        study.tell(trial, state=TrialState.FAIL)
    print(f"[trial {trial.number}] {run}: {o['status']}  best val {percent(o.get('best_val_acc'))}  "
          f"{o.get('epochs', 0)} epochs", flush=True)
    return 0


def _train_trial(run_dir: Path, values: dict, pruning: Pruning, stop) -> None:
    """Train a trial's run with the engine (its lines in logs/RUN.out): a new run from the sweep's settings and
    the trial's values, or a retry's run continued where the last worker left it."""
    from lab_workbench.engine.settings.config import config_from_text
    from lab_workbench.engine.runs import RunFolder, read_run
    from lab_workbench.engine.training.trainer import resume_config, train

    from .render import TrainPrinter
    with open(run_dir.parent / "logs" / f"{run_dir.name}.out", "a", encoding="utf-8") as out:
        printer = TrainPrinter("plain", out=out)
        def on_event(event):
            printer(event)
            pruning(event)
        try:
            if not RunFolder(run_dir).is_run():
                cfg = config_from_text({**values, "runs_dir": str(run_dir.parent), "name": run_dir.name})
                train(cfg, stop.watching(on_event), lambda: stop() or pruning.stop(), exact_name=True)
            elif read_run(run_dir).status not in ENDED:  # else it ended before its worker could tell the study
                cfg, _ = resume_config(run_dir)
                train(cfg, stop.watching(on_event), lambda: stop() or pruning.stop(), resume=run_dir, exact_name=True)
        finally:
            printer.close()


def worker_command(folder: Path, index: int, one: bool = False) -> int:
    """A worker: draw trials from the study and train them until it has --trials (`one`: a single trial, as a
    Slurm array task does); the worker that sees the study finished writes the summary."""
    from lab_workbench.engine.runs import read_sweep
    record = read_sweep(folder)
    seed = int(record.get("settings", {}).get("seed") or 0) * 1_000_003 + index * 7919
    study = open_study(folder, record, seed + len(study_trials(folder, record)))
    trials, code = int(record["search"]["trials"]), 0
    while True:
        trial = next_trial(study, folder, trials)
        if trial is None:
            break
        code = run_trial(folder, record, study, trial)
        if code or one:
            break
    if study_done(study, trials):
        write_summary(folder, search_rows(folder, record, study), list(record["search"]["space"]))
    return code


def study_trials(folder: Path, record: dict) -> list:
    return open_study(folder, record).get_trials(deepcopy=False)


def search_rows(folder: Path, record: dict, study) -> list[dict]:
    """A row per trial run folder (a retried trial's latest attempt): its values, its run's outcome, and the
    study's word on it (state, value)."""
    from lab_workbench.engine.runs.search import run_name, space_from_record
    space = space_from_record(record["search"]["space"])
    latest = {}
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        latest[t.user_attrs.get("run") or run_name(t.number)] = t
    rows = []
    for run, t in sorted(latest.items()):
        o = outcome(folder / run)
        if o["status"] == "pending":  # no run folder: the trial failed before it, or waits for a worker
            o["status"] = {"FAIL": "failed", "WAITING": "waiting"}.get(t.state.name, "pending")
        values = {n: space[n].text(v) for n, v in t.params.items() if n in space}
        rows.append({"point": run, **values, **o, "trial": t.number, "state": t.state.name, "value": t.value})
    return rows


def best_line(record: dict, rows: list[dict]) -> str | None:
    """The best finished trial as the `lab train` line that trains it again."""
    done = [r for r in rows if r["state"] == "COMPLETE" and isinstance(r.get("value"), (int, float))]
    if not done:
        return None
    best = max(done, key=lambda r: r["value"])
    values = {n: best[n] for n in record["search"]["space"] if n in best}
    line = shlex.join(["lab", "train", *(record.get("train_flags") or []), *train_argv(values)])
    return f"best: {best['point']} (trial {best['trial']}) val_acc {percent(best['value'])}: {line}"


class Workers(Runner):
    """`-j` search workers on this machine: their trial lines on our stdout (in their log under --json, which
    keeps stdout for the JSON), their stderr in logs/worker-I.out."""

    def __init__(self, folder: Path, name: str, runs_dir: str, jobs: int, quiet: bool = False):
        super().__init__(folder, jobs, jobs)
        self.name, self.runs_dir, self.quiet = name, runs_dir, quiet

    def command(self, point: str, argv: list[str]) -> list[str]:
        from .child import lab_argv
        return lab_argv("sweep", self.name, "--runs-dir", self.runs_dir, "--search-worker", point.split("-")[-1])

    def streams(self, log):
        return (log, subprocess.STDOUT) if self.quiet else (None, log)

    def _start_bar(self) -> None:
        self.bar = None

    def _report(self, point: str, rc: int) -> None:
        import sys
        for warning in dict.fromkeys(self._warnings(point)):
            sys.stderr.write(f"{point}: {warning}\n")
        if rc not in OK_EXITS:
            self.failed[point] = rc
            sys.stderr.write(f"{point}: exited {rc} (its log: {self.folder / 'logs' / point}.out)\n")


def search_sweep(folder: Path, name: str, runs_dir: str, record: dict, jobs: int | None, sort_by: str,
                 json_out: bool) -> int:
    """Run the study here with `jobs` workers; then the summary, the table and the best trial's line."""
    study = open_study(folder, record)
    with _locked(folder):
        stale = recover_stale(study, folder)
    if stale:
        print(f"trials {', '.join(map(str, stale))} had lost their worker: failed, and retried in their run folders")
    workers = Workers(folder, name, runs_dir, jobs or 1, quiet=json_out)
    code = workers.run([(f"worker-{i}", []) for i in range(jobs or 1)])
    show_search(folder, record, sort_by, json_out)
    if not code and workers.failed:
        failed(f"{len(workers.failed)} worker(s) failed (logs in {folder}/logs/); `--resume` with the same flags "
               f"retries their trials")
    return code


def show_search(folder: Path, record: dict, sort_by: str, json_out: bool) -> None:
    """The study's trials as a table (or JSON), the summary files, and the best trial's `lab train` line."""
    rows = search_rows(folder, record, open_study(folder, record))
    fields = list(record["search"]["space"])
    write_summary(folder, rows, fields)
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    print_table(rows, ["point", *fields], sort_by)  # the trial's run folder first
    line = best_line(record, rows)
    print(line or "no trial has completed yet")


def remaining(folder: Path, record: dict) -> int:
    """Trials still to train: the budget left plus the retries waiting (what a Slurm array must cover)."""
    from optuna.trial import TrialState
    study = open_study(folder, record)
    with _locked(folder):
        recover_stale(study, folder)
        waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
        return max(0, int(record["search"]["trials"]) - _counted(study)) + waiting
