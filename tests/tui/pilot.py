"""Helpers for the dashboard tests: waiting on an app under Textual's Pilot, run folders with fixed numbers."""

import time

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.files import write_json
from lab_workbench.engine.runs.metrics_csv import METRICS_HEADER
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.run import RunScreen


async def wait_for(pilot, predicate, timeout=60.0):
    """Let the app run until predicate() holds; fail the test after timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        await pilot.pause(0.05)
        if predicate():
            return
    raise AssertionError("timed out waiting for the app")


def make_run(root, name, accs, status="completed"):
    """A run folder with one metrics row per accuracy in accs (no training)."""
    d = root / name
    d.mkdir(parents=True)
    write_json(d / "config.json", {"config": {"model": "mlp", "epochs": 3, "dataset": "digits"},
                                   "data": {"source": "digits", "classes": ["a", "b"]}, "device": "cpu"})
    lines = [",".join(METRICS_HEADER)]
    for i, acc in enumerate(accs, 1):
        lines.append(f"{i},{1 / i:.4f},{acc:.4f},{1.1 / i:.4f},{acc - 0.01:.4f},0.001,1.0")
    (d / "metrics.csv").write_text("\n".join(lines) + "\n")
    write_json(d / "confusion.json", {"epoch": len(accs), "classes": ["a", "b"], "matrix": [[9, 1], [2, 8]]})
    if status:
        write_json(d / "results.json", {"status": status, "test": {"accuracy": accs[-1] - 0.02, "loss": 0.3}})
    return d


async def finished(pilot):
    """Start the fake run from the form and wait until it has completed."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunScreen) and pilot.app.screen.state == "completed")


def on_tab(key):
    """A snapshot's run_before: finish the fake run, then show the tab of that key."""
    async def run_before(pilot):
        await finished(pilot)
        await pilot.press(key)
        await pilot.pause()
    return run_before


def resumable_run(runs, name, accs, status):
    """make_run with a 3-epoch config.json and a (placeholder) last.pt: a run that `r` can resume."""
    d = make_run(runs, name, accs, status=status)
    write_json(d / "config.json", {"config": TrainConfig(epochs=3, runs_dir=str(runs)).to_dict()})
    (d / "last.pt").write_bytes(b"x")
    return d


def recording_browser(runs):
    """The runs browser with a trainer that only records what it is asked to do: (app, seen)."""
    seen = {}

    def trainer(cfg, on_event=None, should_stop=None, resume=None):
        seen["resume"], seen["epochs"] = resume, cfg.epochs
    return make_app(TrainConfig(runs_dir=str(runs)), trainer=trainer, start="runs", clock=lambda: 0.0), seen
