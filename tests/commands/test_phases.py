"""The phase is always shown (issue 24): PhaseChanged events from the engine, the CLI bar, timestamped lines."""

import io
import re
import time

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.contract.events import (BatchEnded, CheckpointReady, EpochEnded, PhaseChanged, RunEnded, RunStarted,
                                    History)
from lab_workbench.engine.training.trainer import train


def test_the_trainer_reports_every_phase_with_progress(tmp_path):
    events = []
    train(TrainConfig(epochs=2, subset=400, batch_size=32, runs_dir=str(tmp_path)), on_event=events.append)
    phases = [(e.phase, e.epoch) for e in events if isinstance(e, PhaseChanged)]
    assert phases[0] == ("loading", 0) and isinstance(events[1], RunStarted)
    assert [p for p in phases if p[0] == "training"] == [("training", 1), ("training", 2)]
    assert ("validating", 1) in phases and ("saving", 2) in phases and phases[-1][0] == "testing"
    val = [e for e in events if isinstance(e, PhaseChanged) and e.phase == "validating" and e.epoch == 1]
    assert val[-1].done == val[-1].total == 40  # the 10% validation split of 400, counted to the end
    test = [e for e in events if isinstance(e, PhaseChanged) and e.phase == "testing"]
    assert test[-1].done == test[-1].total > 0
    # a checkpoint is announced as saving just before it is handed over
    i = next(i for i, e in enumerate(events) if isinstance(e, CheckpointReady))
    assert events[i - 1] == PhaseChanged("saving", epoch=1)


def test_a_stop_is_reported_as_cancelling_then_saving(tmp_path):
    events = []
    calls = []

    def stop():
        calls.append(1)
        return "interrupted" if len(calls) > 3 else None
    h = train(TrainConfig(epochs=2, subset=400, batch_size=32, runs_dir=str(tmp_path)), on_event=events.append,
              should_stop=stop)
    phases = [e.phase for e in events if isinstance(e, PhaseChanged)]
    assert h.status == "interrupted" and phases[-2:] == ["cancelling", "saving"]


def test_events_print_short():
    state = {"epoch": 3, "epoch_step": 0, "model_state_dict": {f"w{i}": list(range(1000)) for i in range(50)}}
    assert repr(CheckpointReady(state, best=True)) == "CheckpointReady(epoch=3, epoch_step=0, best=True)"
    ended = RunEnded("completed", History(rows=[{"epoch": i} for i in range(500)]), {"accuracy": 0.9})
    assert len(repr(ended)) < 200
    epoch = EpochEnded(1, 2, 0.5, 0.8, 0.4, 0.9, 1e-3, 1.0, [[1] * 100] * 100)
    assert len(repr(epoch)) < 300


def _printer(width=80):
    from rich.console import Console
    from lab_workbench.commands.render import TrainPrinter
    console = Console(file=io.StringIO(), force_terminal=True, width=width)
    printer = TrainPrinter("tty", out=io.StringIO(), console=console)
    return printer, console


def _bar(printer, width=80) -> list[str]:
    from rich.console import Console
    c = Console(file=io.StringIO(), width=width, color_system=None)
    c.print(printer.progress.get_renderable())
    return c.file.getvalue().rstrip("\n").splitlines()


def test_the_bar_names_the_phase_speed_and_eta_within_80_columns():
    p, _ = _printer()
    p(PhaseChanged("loading"))
    assert _bar(p)[0].startswith("loading data")
    p(RunStarted({"epochs": 10, "batch_size": 100, "model": "mlp"}, "runs/x", 10, "cpu",
                 {"sizes": {"train": 50000, "val": 1000, "test": 10000}, "input_shape": [1, 28, 28],
                  "classes": list("0123456789")}))
    p(PhaseChanged("training", epoch=2))
    p(BatchEnded(2, 10, 500, 0.5))
    time.sleep(0.3)
    p(BatchEnded(2, 250, 500, 0.25))
    line = _bar(p)
    assert len(line) == 1 and len(line[0]) <= 80, line
    assert re.search(r"epoch 2/10 training .* 250/500 .*samples/s\s+loss 0\.2500\s+ETA \d+(m\d\d)?s", line[0]), line
    p(PhaseChanged("validating", 512, 1000, epoch=2))
    assert re.match(r"epoch 2/10 validating .* 512/1,000 samples", _bar(p)[0])
    p(PhaseChanged("saving", epoch=2))
    assert "saving checkpoint" in _bar(p)[0]
    p(PhaseChanged("testing", 0, 10000, epoch=10))
    assert _bar(p)[0].startswith("testing (test split)")
    p.close()


def test_plain_epoch_lines_carry_a_timestamp():
    from lab_workbench.commands.render import plain_line
    e = EpochEnded(1, 2, 0.5, 0.8, 0.4, 0.9, 1e-3, 1.0)
    assert re.search(r" at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", plain_line(e))
