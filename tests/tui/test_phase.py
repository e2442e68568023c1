"""The TUI always says what a live run is doing: loading data, training (samples/s, ETA), validating, saving,
evaluating the test split, cancelling; the status line keeps the batch loss at 80 columns."""

import threading

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.contract.events import BatchEnded, CheckpointReady, EpochEnded, History, PhaseChanged, RunEnded, RunStarted
from tests.tui.pilot import wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.phase import CANCELLING, next_phase
from lab_workbench.tui.screens.run import RunScreen


def test_phases_follow_the_events():
    started = RunStarted({"epochs": 2}, "runs/x", 10, "cpu", {})
    seq = [(started, "training"), (BatchEnded(1, 5, 10, 0.5), "training"), (BatchEnded(1, 10, 10, 0.5), "validating"),
           (CheckpointReady({}), "saving"), (EpochEnded(1, 2, 1, 0.5, 1, 0.5, 0.1, 1.0), "training"),
           (BatchEnded(2, 10, 10, 0.5), "validating"), (EpochEnded(2, 2, 1, 0.5, 1, 0.5, 0.1, 1.0), "evaluating test split"),
           (RunEnded("completed", History(), {}), "completed")]
    phase = "loading data"
    for event, expected in seq:
        phase = next_phase(event, phase)
        assert phase == expected, type(event).__name__
    assert next_phase(BatchEnded(1, 3, 10, 0.5), CANCELLING) == CANCELLING
    assert next_phase(PhaseChanged("saving", epoch=1), CANCELLING) == CANCELLING  # a stop's checkpoint


class SteppedTrainer:
    """Emits the events of one epoch in steps; the test releases each step after looking at the screen."""

    def __init__(self):
        self.go = threading.Semaphore(0)

    def __call__(self, cfg, on_event, should_stop, **_):
        self.go.acquire()  # loading
        on_event(RunStarted(cfg.to_dict(), "runs/x", 123456789, "cpu", {"classes": ["a", "b"]}))
        on_event(BatchEnded(1, 3, 10, 0.4321))
        self.go.acquire()
        on_event(BatchEnded(1, 10, 10, 0.4321))  # now it validates
        self.go.acquire()
        on_event(EpochEnded(1, 1, 0.5, 0.8, 0.6, 0.7, 0.001, 1.5, [[1, 0], [0, 1]]))  # then tests
        self.go.acquire()
        history = History(rows=[], status="completed", run_dir="runs/x")
        on_event(RunEnded("completed", history, {}))
        return history


async def test_the_status_line_names_each_phase_at_80_columns():
    trainer, now = SteppedTrainer(), [0.0]
    app = make_app(TrainConfig(epochs=1, batch_size=32), trainer=trainer, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))

        def status() -> str:
            return str(app.screen.query_one("#status").render())
        await wait_for(pilot, lambda: "loading data" in status())
        trainer.go.release()
        await wait_for(pilot, lambda: status().startswith("training"))
        assert "batch loss 0.4321" in status() and len(status()) <= 80  # no ETA before a rate or an epoch
        now[0] = 2.0
        trainer.go.release()
        await wait_for(pilot, lambda: status().startswith("validating"))
        trainer.go.release()
        await wait_for(pilot, lambda: status().startswith("evaluating test split"))
        trainer.go.release()
        await wait_for(pilot, lambda: status().startswith("completed"))
