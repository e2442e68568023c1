"""`lab sweep NAME --grid ... --slurm`: the sweep as one Slurm job array, one task per point.

The sweep folder holds the record (sweep.json) and the array script (sweep.sbatch). Task i runs
`lab sweep NAME --slurm-task`, which trains point i with `lab train --resume auto` (so preemption, USR1
requeue and --time-limit work per point as for `lab train`) and writes the sweep's summary when it is the
last point to end. `lab sweep NAME --status` reads the run folders and, where Slurm answers, squeue/sacct.
"""

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

from lab_workbench.engine.core.errors import ConfigError

from .child import lab_argv
from .errors import failed
from .sweep_common import ENDED, note_exit, point_rows, train_argv, write_summary

SCRIPT = "sweep.sbatch"
WARN_SECONDS = 120  # USR1 this long before the time limit: time for a checkpoint and a requeue
FORWARDED = (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT)
QUEUED = ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
          "RESIZING", "SUSPENDED", "SIGNALING", "STAGE_OUT")  # a task Slurm has not done with


def array_spec(indices: list[int], jobs: int | None) -> str:
    """[0, 1, 2, 3], 2 -> '0-3%2'; [1, 3, 4] -> '1,3-4': the --array value of these task indices."""
    parts, run = [], []
    for i in sorted(indices):
        if run and i != run[-1] + 1:
            parts.append(run)
            run = []
        run.append(i)
    if run:
        parts.append(run)
    text = ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in parts)
    return text + (f"%{jobs}" if jobs else "")


def _line_value(text: str) -> str:
    """A value for an #SBATCH line: sbatch reads double quotes there."""
    return f'"{text}"' if any(c.isspace() for c in text) else text


def write_script(folder: Path, name: str, runs_dir: str, points: int, jobs: int | None) -> Path:
    """sweep.sbatch in the sweep folder: the array of all points; resubmissions narrow --array on sbatch's
    command line (which overrides the #SBATCH lines, as --sbatch ARGS do)."""
    job_name = re.sub(r"[^\w.-]", "_", name)[:64]
    task = shlex.join(lab_argv("sweep", name, "--runs-dir", runs_dir, "--slurm-task"))
    text = "\n".join([
        "#!/usr/bin/env bash",
        f"#SBATCH --job-name=lab-{job_name}",
        f"#SBATCH --array={array_spec(list(range(points)), jobs)}",
        "#SBATCH --requeue",
        f"#SBATCH --signal=B:USR1@{WARN_SECONDS}",
        "#SBATCH --open-mode=append",
        f"#SBATCH --output={_line_value(str(folder.resolve() / 'logs' / 'slurm-%a.out'))}",
        f"#SBATCH --chdir={_line_value(str(Path.cwd()))}",
        f"# lab sweep {name}: array task i trains point i of sweep.json with `lab train --resume auto`, so a",
        "# preempted, requeued or time-limited task continues its own run; the last point to end writes",
        f"# summary.json. `lab sweep {name} --status` shows every point.",
        f"exec {task}",
        ""])
    path = folder / SCRIPT
    path.write_text(text)
    return path


def parse_sbatch(text: str | None) -> list[str]:
    """--sbatch 'ARGS' as words for sbatch's command line."""
    if text is None:
        return []
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise ConfigError(f"--sbatch: cannot split {text!r} into arguments ({e})") from None
    if not words:
        raise ConfigError("--sbatch: expected sbatch arguments, e.g. '--partition gpu --gres gpu:1', got ''")
    return words


def submit(script: Path, indices: list[int], jobs: int | None, extra: list[str]) -> str:
    """`sbatch --parsable --array ... script`: the array job's id."""
    cmd = ["sbatch", "--parsable", f"--array={array_spec(indices, jobs)}", *extra, str(script.resolve())]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ConfigError("--slurm: sbatch is not on PATH (run lab sweep --slurm where Slurm jobs are submitted)") \
            from None
    except subprocess.TimeoutExpired:
        failed("--slurm: sbatch did not answer within 120 s")
    job = r.stdout.strip().split(";")[0]
    if r.returncode != 0 or not job.isdigit():
        said = (r.stderr or r.stdout).strip().splitlines() or ["no answer"]
        failed(f"--slurm: sbatch refused the job: {said[-1][:300]}")
    return job


def record_job(record: dict, job: str, indices: list[int], extra: list[str]) -> dict:
    """The record with this submission added: which array job trains which points."""
    slurm = record.get("slurm") if isinstance(record.get("slurm"), dict) else {}
    jobs = [j for j in slurm.get("jobs", []) if isinstance(j, dict)]
    jobs.append({"job": job, "points": indices, "sbatch": extra, "submitted": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return {**record, "slurm": {"script": SCRIPT, "jobs": jobs}}


def point_jobs(record: dict) -> dict[int, str]:
    """{point index: the array job that last took it}."""
    out = {}
    for j in (record.get("slurm") or {}).get("jobs", []) if isinstance(record.get("slurm"), dict) else []:
        if isinstance(j, dict) and isinstance(j.get("points"), list):
            out.update({i: str(j.get("job")) for i in j["points"] if isinstance(i, int)})
    return out


def slurm_states(record: dict) -> dict[int, str]:
    """{point index: its task's Slurm state} from squeue (queued, running) and sacct (ended, when Slurm keeps
    accounts); points Slurm does not know are left out, and so is everything where Slurm does not answer."""
    jobs = point_jobs(record)
    if not jobs:
        return {}
    ids = ",".join(sorted(set(jobs.values())))
    states: dict[tuple[str, int], str] = {}
    for cmd in (["sacct", "-n", "-P", "-X", "-j", ids, "--format=JobID,State"],
                ["squeue", "-h", "-r", "-j", ids, "-o", "%F|%K|%T"]):  # squeue last: it is the fresher
        for line in _ask(cmd):
            fields = line.split("|")
            if cmd[0] == "sacct" and len(fields) == 2 and "_" in fields[0]:
                job, _, index = fields[0].partition("_")
                fields = [job, index, fields[1].split()[0] if fields[1].split() else ""]
            if len(fields) == 3 and fields[1].isdigit():
                states[(fields[0], int(fields[1]))] = fields[2]
    return {i: states[(job, i)] for i, job in jobs.items() if (job, i) in states}


def _ask(cmd: list[str]) -> list[str]:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return r.stdout.splitlines() if r.returncode == 0 else []


def run_task(folder: Path, point: str, argv: list[str]) -> int:
    """Train one point as this array task: `lab train ... --resume auto` in a child process that gets the
    signals Slurm sends this task (USR1 before the limit, TERM on preemption); returns its exit status."""
    logs = folder / "logs"
    cmd = lab_argv("train", *argv, "--runs-dir", str(folder), "--name", point, "--resume", "auto",
                   "--log-file", str(logs / f"{point}.log"))
    print(f"task {os.environ.get('SLURM_ARRAY_TASK_ID')} (job {os.environ.get('SLURM_JOB_ID')}, restart "
          f"{os.environ.get('SLURM_RESTART_COUNT', '0')}): point {point}", flush=True)
    with open(logs / f"{point}.out", "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    def forward(signum, frame):
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass
    old = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        rc = proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    print(f"point {point}: lab train exited {rc}", flush=True)
    return rc


def task_index(points: int) -> int:
    """This array task's point index, from $SLURM_ARRAY_TASK_ID."""
    text = os.environ.get("SLURM_ARRAY_TASK_ID", "")
    if not text.isdigit():
        raise ConfigError("--slurm-task: runs as a task of the sweep's Slurm array ($SLURM_ARRAY_TASK_ID is not set)")
    if int(text) >= points:
        raise ConfigError(f"--slurm-task: task {text} of a sweep of {points} points")
    return int(text)


def submit_sweep(folder: Path, name: str, runs_dir: str, points: list[str], todo: list[str], jobs: int | None,
                 extra: list[str], json_out: bool) -> None:
    """--slurm: write sweep.sbatch and submit the points still to train as one array job (%jobs at once)."""
    import json

    from lab_workbench.engine.core.files import write_json
    from lab_workbench.engine.runs import SWEEP_FILE, read_sweep
    if not todo:
        print(f"every point of {folder} has finished; nothing to submit (lab sweep {name} --status)")
        return
    record = read_sweep(folder)
    busy = [points[i] for i, state in slurm_states(record).items() if state in QUEUED and points[i] in todo]
    if busy:
        raise ConfigError(f"--resume: {', '.join(busy)} still queued or running in Slurm (lab sweep {name} --status)")
    script = write_script(folder, name, runs_dir, len(points), jobs)
    indices = [points.index(p) for p in todo]
    job = submit(script, indices, jobs, extra)
    write_json(folder / SWEEP_FILE, record_job(record, job, indices, extra))
    if json_out:
        print(json.dumps({"job": job, "script": str(script), "points": todo}, indent=2))
    else:
        at_once = f"{jobs} at a time" if jobs else "as many at a time as Slurm allows"
        print(f"submitted Slurm array job {job}: {len(todo)} point(s), {at_once} ({script})\n"
              f"follow it with: lab sweep {name} --status")


def slurm_task_command(folder: Path) -> int:
    """--slurm-task: train this array task's point; the last point to end writes the summary."""
    from .sweep_common import record_points
    record, by_name = record_points(folder)
    point = list(by_name)[task_index(len(by_name))]
    code = run_task(folder, point, list(record.get("train_flags") or []) + train_argv(by_name[point]))
    note_exit(folder, point, code)
    rows = point_rows(folder, by_name)
    if all(r["status"] in ENDED for r in rows):
        write_summary(folder, rows, list(record.get("grid") or {}))
        print(f"the last point has ended: summary in {folder / 'summary.csv'}", flush=True)
    return code
