"""Background jobs of the runs browser: evaluate or export a run with the engine's run operations
(engine/artifacts/run_outputs.py, as `lab eval` and `lab export`), in this process: no child process, so
nothing is imported from the working folder. Each job keeps its output lines; the browser's `J`obs screen
shows them, and the thread that did the job posts `JobEnded` to the screen that started it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from lab_workbench.engine.core.units import format_bytes, percent


@dataclass
class Job:
    """One `e` or `x` on a run: what it is, whether it is still going, and what it said."""
    command: str  # "eval" or "export FORMAT"
    run: Path
    state: str = "running"  # running, done or failed
    lines: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    @property
    def title(self) -> str:
        return f"{self.command} {self.run.name}"

    @property
    def said(self) -> str:
        """The job's last line: its result or its error."""
        return self.lines[-1] if self.lines else self.state


class JobEnded(Message):
    """A job is over (done or failed): posted from its thread."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job


def jobs_of(app) -> list[Job]:
    """The app's jobs, newest last: kept on the app, so that they outlive the browser screen that started them."""
    if not hasattr(app, "lab_jobs"):
        app.lab_jobs = []
    return app.lab_jobs


def run_job(job: Job) -> None:
    """Do the job (on a worker thread); its result or its error ends up in job.lines and job.state."""
    from lab_workbench.engine.core.errors import LabError
    try:
        if job.command == "eval":
            _evaluate(job)
        else:
            _export(job, job.command.split()[1])
        job.state = "done"
    except LabError as e:
        job.lines.append(f"error: {e}")
        job.state = "failed"
    except Exception as e:  # a bug or out-of-memory: said in the UI, not a dead thread
        job.lines.append(f"error: {type(e).__name__}: {e}")
        job.state = "failed"


def _evaluate(job: Job) -> None:
    """As `lab eval RUN`: the test split of best.pt (last.pt without one), reported and written to eval/."""
    from lab_workbench.engine.artifacts.run_outputs import evaluate_run

    done = evaluate_run(job.run, splits=("test",))
    loaded, report = done.loaded, done.reports["test"]
    job.lines.append(f"model {loaded.path}" + (f" (epoch {loaded.epoch})" if loaded.epoch is not None else ""))
    job.lines.append(f"wrote {done.folder / 'test'}/metrics.json, per_class.csv, confusion.csv")
    job.lines.append(f"test accuracy {percent(report.accuracy)}  loss {report.loss:.4f}  "
                     f"({len(report.y_true)} samples)")


def _export(job: Job, fmt: str) -> None:
    """As `lab export RUN --format FMT`: the exported file, checked against the model on test images."""
    from lab_workbench.engine.artifacts.run_outputs import export_run

    result = export_run(job.run, fmt)  # an existing export is kept: the job says so
    job.lines.append(f"wrote {result.path} ({format_bytes(result.bytes)}); verified on {result.samples} test "
                     f"images: max |difference| {result.max_diff:.2e}")
