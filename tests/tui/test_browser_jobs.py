"""`e` and `x` in the runs browser (issue 30 point 3, issue 32 point 1, issue 31 point 3): the engine's run
operations evaluate or export in this process, on a worker thread, and start no process (`python -m lab_workbench.commands`
was the old way); nothing is imported from the working folder; `e` says the accuracy, `x` asks for a format,
and J shows each job's output. What they write is what `lab eval` and `lab export` write."""

import pytest

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.pilot import wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.choose import ChooseScreen
from lab_workbench.tui.screens.jobs import JobsScreen


HOSTILE = "import pathlib; pathlib.Path({marker!r}).write_text('ran')\nraise SystemExit(3)\n"


@pytest.fixture
def no_process(monkeypatch):
    """Every way to start a process fails the test: the jobs run in this one."""
    import os
    import subprocess

    import torch  # noqa: F401  (its first import asks ldconfig where CUDA's libraries are: not the job's doing)

    def refuse(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[:1]}")
    for name in ("Popen", "run", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)
    for name in ("system", "posix_spawn", "posix_spawnp", "fork", "execv", "execve"):
        monkeypatch.setattr(os, name, refuse)


@pytest.fixture
def hostile_cwd(tmp_path, monkeypatch):
    """A working folder holding a `commands/` package and a `typer.py` that leave a mark when imported."""
    cwd = tmp_path / "cwd"
    (cwd / "commands").mkdir(parents=True)
    marker = tmp_path / "imported"
    for f in (cwd / "commands" / "__init__.py", cwd / "commands" / "__main__.py", cwd / "typer.py"):
        f.write_text(HOSTILE.format(marker=str(marker)))
    monkeypatch.chdir(cwd)
    return marker


async def test_e_evaluates_in_process_and_says_the_accuracy(trained_runs, tmp_path, hostile_cwd, no_process):
    run = trained_runs.get("small", into=tmp_path)
    app = make_app(TrainConfig(runs_dir=str(run.parent)), start="runs", clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await wait_for(pilot, lambda: getattr(app, "lab_jobs", None) and app.lab_jobs[0].state != "running", timeout=120)
        job = app.lab_jobs[0]
        assert job.state == "done", job.lines
        assert job.said.startswith("test accuracy ") and "%" in job.said
        assert any(n.message.endswith(job.said) for n in app._notifications)
        await pilot.press("J")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        shown = str(app.screen.query_one("#jobs").render())
        assert "eval good" in shown and "test accuracy" in shown
    written = sorted(p.name for p in (run / "eval" / "test").iterdir())  # as `lab eval RUN` writes them
    assert written == ["confusion.csv", "metrics.json", "per_class.csv", "predictions.csv", "roc.csv"]
    assert not hostile_cwd.exists()


async def test_x_asks_for_a_format_then_exports(trained_runs, tmp_path, hostile_cwd, no_process):
    run = trained_runs.get("small", into=tmp_path)
    app = make_app(TrainConfig(runs_dir=str(run.parent)), start="runs", clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ChooseScreen)
        options = app.screen.query_one("#choose")
        index = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == "safetensors")
        options.highlighted = index
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app, "lab_jobs", None) and app.lab_jobs[0].state != "running", timeout=120)
        assert app.lab_jobs[0].state == "done", app.lab_jobs[0].lines
    assert [p.name for p in (run / "export").iterdir()] == ["model.safetensors"]  # as `lab export` names it
    assert "verified on 16 test images" in app.lab_jobs[0].said
    assert not hostile_cwd.exists()


async def test_escape_on_the_format_question_exports_nothing(tmp_path):
    from tests.tui.pilot import make_run
    make_run(tmp_path, "a", [0.5])
    app = make_app(TrainConfig(runs_dir=str(tmp_path)), start="runs", clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not getattr(app, "lab_jobs", []) and not isinstance(app.screen, ChooseScreen)


async def test_a_failing_job_says_why(tmp_path):
    from tests.tui.pilot import make_run
    make_run(tmp_path, "nockpt", [0.5])  # no best.pt, no last.pt
    app = make_app(TrainConfig(runs_dir=str(tmp_path)), start="runs", clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await wait_for(pilot, lambda: getattr(app, "lab_jobs", None) and app.lab_jobs[0].state != "running", timeout=60)
        assert app.lab_jobs[0].state == "failed" and "checkpoint" in app.lab_jobs[0].said


def test_the_jobs_screen_at_80x24(snap_compare, tmp_path):
    from pathlib import Path

    from lab_workbench.tui.jobs import Job
    app = make_app(TrainConfig(runs_dir=str(tmp_path)), start="runs", clock=lambda: 0.0)
    app.lab_jobs = [Job("eval", Path("runs/a"), "done", ["model runs/a/best.pt (epoch 3)",
                                                     "test accuracy 91.20%  loss 0.3000  (500 samples)"]),
                Job("export onnx", Path("runs/b"), "failed", ["error: runs/b: no best.pt checkpoint"])]

    async def run_before(pilot):
        await pilot.press("J")
        await pilot.pause()
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_a_job_that_outlives_its_browser_still_says_how_it_went(tmp_path, monkeypatch):
    import threading

    import lab_workbench.tui.screens.runs as runs_screen
    from tests.tui.pilot import make_run
    from lab_workbench.tui.screens.runs import RunsScreen
    make_run(tmp_path, "a", [0.5])
    go = threading.Event()

    def slow_job(job):
        go.wait(30)
        job.lines.append("test accuracy 50.00%")
        job.state = "done"
    monkeypatch.setattr(runs_screen, "run_job", slow_job)
    app = make_app(TrainConfig(runs_dir=str(tmp_path)), start="form", clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.action_show_runs()
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("escape")  # back to the form: the browser is gone
        await wait_for(pilot, lambda: not isinstance(app.screen, RunsScreen))
        go.set()
        await wait_for(pilot, lambda: any(n.message == "eval a: test accuracy 50.00%" for n in app._notifications))
