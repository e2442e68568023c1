"""What the faces of `lab sweep` share: a point's `lab train` flags, the sweep's record and folder, the
summary rows and files, and the process pool that trains points (or runs search workers) on this machine."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runtime.threads import LOCAL_PROCESSES
from lab_workbench.engine.core.units import percent

from .child import lab_argv
from .textviz import table

METRICS = ("best_val_acc", "final_val_acc", "test_acc", "seconds")
DONE = ("completed", "early-stopped")
ENDED = (*DONE, "failed", "diverged", "cancelled", "pruned")  # a point that will not train on by itself
OK_EXITS = (0, 75, 130, 143)  # ended, stopped by --time-limit or a signal: not a failure of the point


def train_argv(options: dict) -> list[str]:
    """lab train flags ({field: text}) as command-line words for a point's process."""
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME
    argv = []
    for name, value in options.items():
        s = SETTINGS_BY_NAME.get(name)
        if value is None or s is None or name in ("name", "runs_dir"):
            continue
        if s.kind == "bool":
            argv.append(s.flag if s.parse(value) else f"--no-{s.flag[2:]}")
        elif s.kind == "strs":  # a repeatable flag: once per item
            argv += [w for item in s.parse(value) or [] for w in (s.flag, item)]
        else:
            argv += [s.flag, str(value)]
    return argv


def base_settings(options: dict, config: Path | None) -> tuple[dict, list[str], str]:
    """(every point's shared settings, their lab train flags, the runs folder): the --config file's values
    with the flags on top; each point reads the same file, by its absolute path."""
    values = {}
    if config is not None:
        from lab_workbench.engine.launch.configfile import read_config_file
        values = read_config_file(config)
    runs_dir = options.get("runs_dir") or values.get("runs_dir") or "runs"
    values = {k: v for k, v in values.items() if v is not None and k not in ("name", "runs_dir", "extra")}
    base = {**values, **{k: v for k, v in options.items() if v is not None and k not in ("name", "runs_dir")}}
    argv = (["--config", str(config.resolve())] if config is not None else []) + train_argv(options)
    return base, argv, str(runs_dir)


def settings_record(options: dict, config: Path | None) -> dict:
    """What every point is asked to train with (the --config file's values, the flags on top), as JSON values:
    kept in sweep.json so that a resume with other flags is caught."""
    from .options import given_with_file
    given = given_with_file(options, config)
    return json.loads(json.dumps({k: v for k, v in given.items() if k not in ("name", "runs_dir")}, default=str))


def outcome(run_dir: Path) -> dict:
    from lab_workbench.engine.runs import RunFolder, read_run
    if not RunFolder(run_dir).is_run():
        return {"status": "pending"}
    return {**read_run(run_dir).summary(), "run_dir": str(run_dir)}


def point_rows(folder: Path, by_name: dict, failed_points: dict | None = None) -> list[dict]:
    """A row per point: its grid values and its run's outcome."""
    failed_points = {**exit_codes(folder, by_name), **(failed_points or {})}
    rows = [{"point": p, **v, **outcome(folder / p)} for p, v in by_name.items()]
    for r in rows:
        if r["point"] in failed_points and r["status"] == "pending":
            r["status"] = "failed"  # it stopped before its run folder was written (bad flags, missing data)
    return rows


def exit_codes(folder: Path, points) -> dict[str, int]:
    """{point: the exit status of its last process} for the points that failed (logs/POINT.exit)."""
    out = {}
    for p in points:
        try:
            code = int((folder / "logs" / f"{p}.exit").read_text()[:8])
        except (OSError, ValueError):
            continue
        if code not in OK_EXITS:
            out[p] = code
    return out


def note_exit(folder: Path, point: str, code: int) -> None:
    try:
        (folder / "logs" / f"{point}.exit").write_text(f"{code}\n")
    except OSError:
        pass  # only --status's word for a point that failed before its run folder was made


def sweep_folder(folder: Path, resume: bool) -> Path:
    """The sweep's folder, with its logs/ made: a new one, or with --resume one that holds this sweep."""
    from lab_workbench.engine.runs import SWEEP_FILE, read_sweep
    if (folder / SWEEP_FILE).is_file() and not resume:
        raise ConfigError(f"{folder}: sweep exists; pass --resume to continue it (or choose another NAME)")
    if folder.is_symlink():  # its runs would be written, and later pruned, outside --runs-dir
        raise ConfigError(f"{folder}: is a symlink; lab does not write a sweep through it")
    if (folder / SWEEP_FILE).is_file():
        read_sweep(folder)  # a damaged sweep.json is one line, before any point starts
    if folder.exists() and not (folder / SWEEP_FILE).is_file() and any(folder.iterdir()):
        raise ConfigError(f"{folder}: exists and is not a sweep")
    try:
        (folder / "logs").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{folder}: cannot create the sweep folder ({e.strerror or e})") from None
    return folder


class Runner:
    """Runs `lab train` for each point, `jobs` at a time; signals are passed on to the running points."""

    def __init__(self, folder: Path, jobs: int, total: int):
        self.folder, self.jobs, self.total = folder, jobs, total
        self.signum = None
        self.running: dict = {}
        self.failed: dict[str, int] = {}  # point -> exit code
        self.bar = None
        self.done = total
        self.out_from: dict[str, int] = {}  # point -> where this start's output begins in its .out
        self.gpus = _gpu_count() if jobs > 1 else 0

    def run(self, todo: list[tuple[str, list[str]]]) -> int:
        """0, or 128+signal when the sweep was stopped (its points checkpointed; --resume continues)."""
        self.done = self.total - len(todo)
        self._start_bar()
        old = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        running = self.running = {}  # process -> (point, slot)
        free = list(range(self.jobs))
        try:
            while (todo and self.signum is None) or running:
                while todo and free and self.signum is None:
                    slot = free.pop(0)
                    point, argv = todo.pop(0)
                    running[self._start(point, argv, slot)] = (point, slot)
                time.sleep(0.1)
                for proc in [p for p in running if p.poll() is not None]:
                    point, slot = running.pop(proc)
                    free.append(slot)
                    self.done += 1
                    self._report(point, proc.returncode)
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            if self.bar is not None:
                self.bar.stop()
        return 128 + self.signum if self.signum else 0

    def _start_bar(self) -> None:
        """A live overall progress bar on a terminal; logs get one line per finished point only."""
        self.bar = None
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
            self.bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            self.task = self.bar.add_task("sweep", total=self.total, completed=self.done)
            self.bar.start()

    def env(self, slot: int) -> dict:
        """A point's environment: it sizes its threads as `lab train` does (the available CPUs shared by the
        `jobs` points, less those busy right now); one GPU each when there are several."""
        env = {**os.environ, LOCAL_PROCESSES: str(self.jobs)}
        if self.gpus > 1:
            env["CUDA_VISIBLE_DEVICES"] = str(slot % self.gpus)
        return env

    def command(self, point: str, argv: list[str]) -> list[str]:
        """The point's process: `lab train` with its flags, resuming its run folder when it has one."""
        return lab_argv("train", *argv, "--runs-dir", str(self.folder), "--name", point, "--resume", "auto",
                        "--log-file", str(self.folder / "logs" / f"{point}.log"))

    def streams(self, log):
        """(stdout, stderr) of a point's process: both to its log."""
        return log, subprocess.STDOUT

    def _start(self, point: str, argv: list[str], slot: int) -> subprocess.Popen:
        # the point runs in its own process group: a Ctrl-C in the terminal reaches the sweep, which passes
        # it on once, so that each point checkpoints exactly once
        out = self.folder / "logs" / f"{point}.out"
        self.out_from[point] = out.stat().st_size if out.is_file() else 0  # a resumed point appends to it
        with open(out, "ab") as log:  # the child keeps its own copy
            stdout, stderr = self.streams(log)
            return subprocess.Popen(self.command(point, argv), stdout=stdout, stderr=stderr, env=self.env(slot),
                                    start_new_session=True)

    def _stop(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
            sys.stderr.write(f"\n{signal.Signals(signum).name}: stopping the running points with a checkpoint; "
                             f"`lab sweep ... --resume` continues\n")
            for proc in list(self.running):
                if proc.poll() is None:
                    proc.send_signal(signum)

    def _warnings(self, point: str) -> list[str]:
        """The warning lines this start of the point printed (a tracker that cannot log, data oddities)."""
        try:
            with open(self.folder / "logs" / f"{point}.out", "rb") as f:
                f.seek(self.out_from.get(point, 0))
                text = f.read(1 << 20).decode("utf-8", "replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.startswith("warning: ")]

    def _report(self, point: str, rc: int) -> None:
        note_exit(self.folder, point, rc)
        for warning in dict.fromkeys(self._warnings(point)):
            sys.stderr.write(f"{point}: {warning}\n")
        o = outcome(self.folder / point)
        if rc not in OK_EXITS:
            self.failed[point] = rc
        status = o["status"] if rc in OK_EXITS or o["status"] != "pending" else f"failed (exit {rc})"
        line = (f"[{self.done}/{self.total}] {point}: {status}  best val {percent(o.get('best_val_acc'))}  "
                f"test {percent(o.get('test_acc'))}  {o.get('seconds', 0):.1f}s")
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
            self.bar.update(self.task, completed=self.done)
        else:
            print(line, flush=True)


def _gpu_count() -> int:
    try:
        import torch
        return torch.cuda.device_count()
    except ImportError:
        return 0


def write_summary(folder: Path, rows: list[dict], fields: list[str]) -> None:
    import csv
    import io

    from lab_workbench.engine.core.files import atomic_write, write_json
    write_json(folder / "summary.json", rows)
    cols = ["point", *fields, "status", "best_val_acc", "final_val_acc", "test_acc", "epochs", "seconds", "run_dir"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, cols, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write(folder / "summary.csv", lambda tmp: Path(tmp).write_text(buf.getvalue()))


def print_table(rows: list[dict], fields: list[str], sort_by: str) -> None:
    key = (lambda r: r.get(sort_by) if r.get(sort_by) is not None else float("-inf"))
    ordered = sorted(rows, key=key, reverse=sort_by != "seconds")
    from lab_workbench.engine.settings.config import flag_value
    body = [[*[flag_value(f, r.get(f), r) for f in fields], r["status"], percent(r.get("best_val_acc")), percent(r.get("final_val_acc")),
             percent(r.get("test_acc")), r.get("epochs", "-"), f"{r.get('seconds') or 0:.1f}s"] for r in ordered]
    print(table(body, [*fields, "status", "best val", "final val", "test", "epochs", "time"]))


def record_points(folder: Path) -> tuple[dict, dict]:
    """(sweep.json, {point: its grid values}) of an existing sweep."""
    from lab_workbench.engine.runs import read_sweep
    from lab_workbench.engine.runs.sweep import point_name, points
    record = read_sweep(folder)
    grid = record.get("grid")
    values = {point_name(p): p for p in points(grid)} if isinstance(grid, dict) else {}
    return record, {p: values.get(p, {}) for p in record["points"]}
