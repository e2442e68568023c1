"""`e` and `x` in the runs browser (issue 30 point 3, issue 32 point 1): the engine evaluates or exports in this
process, on a worker thread; nothing is imported from the working folder; `e` says the accuracy, `x` asks
for a format, and J shows each job's output."""

import pytest

from lab_workbench.engine.config import TrainConfig
from tests.tui.pilot import wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.choose import ChooseScreen
from lab_workbench.tui.screens.jobs import JobsScreen

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HOSTILE = "import pathlib; pathlib.Path({marker!r}).write_text('ran')\nraise SystemExit(3)\n"


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


async def test_e_evaluates_in_process_and_says_the_accuracy(trained_runs, tmp_path, hostile_cwd):
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
    assert (run / "eval" / "test" / "metrics.json").is_file()
    assert not hostile_cwd.exists()


async def test_x_asks_for_a_format_then_exports(trained_runs, tmp_path, hostile_cwd):
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
    assert list((run / "export").glob("*.safetensors"))
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
