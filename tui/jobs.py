"""Background jobs of the runs browser: evaluate or export a run with the engine, in this process.

They run on a worker thread and import nothing from the working folder (a child started with `-m` and no `-P` would
put the current folder first on its import path: a `commands/` or `typer.py` there would run instead of
lab's). Each job keeps its output lines; the browser's `j`obs screen shows them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

EXPORT_BATCH = 16  # test images that check an export against the model, as `lab export`'s default


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


def jobs_of(app) -> list[Job]:
    """The app's jobs, newest last: kept on the app, so that they outlive the browser screen that started them."""
    if not hasattr(app, "lab_jobs"):
        app.lab_jobs = []
    return app.lab_jobs


def run_job(job: Job) -> None:
    """Do the job (on a worker thread); its result or its error ends up in job.lines and job.state."""
    from lab_workbench.engine.errors import LabError
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
    from lab_workbench.engine.artifacts import load_eval_data, load_model
    from lab_workbench.engine.evaluation import evaluate, write_report
    from lab_workbench.engine.files import safe_folder
    from lab_workbench.engine.runs import RunFolder
    from lab_workbench.engine.runtime import resolve_device

    loaded = load_model(str(job.run), "best", resolve_device("auto"))
    job.lines.append(f"model {loaded.path}" + (f" (epoch {loaded.epoch})" if loaded.epoch is not None else ""))
    data = load_eval_data(loaded, resolve_device("auto"))
    split = data.split("test")
    if len(split) == 0:
        job.lines.append("the test split is empty: nothing to evaluate")
        return
    report = evaluate(loaded.model, split, data.classes, "test")
    folder = RunFolder(job.run).eval_folder()
    if loaded.path != RunFolder(job.run).best:  # as lab eval: last.pt's report never overwrites best.pt's
        folder = safe_folder(folder / loaded.path.name)
    write_report(report, folder / "test")
    job.lines.append(f"wrote {folder / 'test'}/metrics.json, per_class.csv, confusion.csv")
    job.lines.append(f"test accuracy {100 * report.accuracy:.2f}%  loss {report.loss:.4f}  "
                     f"({len(split)} samples)")


def _export(job: Job, fmt: str) -> None:
    """As `lab export RUN --format FMT`: the exported file, checked against the model on test images."""
    from lab_workbench.engine.artifacts import export_model, load_eval_data, load_model

    loaded = load_model(str(job.run), "best", "cpu")
    data = load_eval_data(loaded, "cpu")
    x = data.test.take(slice(0, EXPORT_BATCH))
    result = export_model(loaded, fmt, x)  # an existing export is kept: the job says so
    job.lines.append(f"wrote {result.path} ({result.bytes / 1e3:,.1f} kB); verified on {len(x)} test images: "
                     f"max |difference| {result.max_diff:.2e}")
