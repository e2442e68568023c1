"""Review of the one error path: `lab train ... | head -1` must not end the run. The printer keeps training
when the terminal goes away (its `except OSError`), but under run_cli's guarded stdout a closed pipe is
StdoutClosed, which is not an OSError: the run stopped after its first epoch with status failed
('StdoutClosed') and the command exited 0."""

import pytest

from lab_workbench.commands.errors import StdoutError, _GuardedStdout
from lab_workbench.commands.render import TrainPrinter
from lab_workbench.engine.contract.events import EpochEnded


class Closed:
    """A stdout whose reader went away (EPIPE) or whose disk is full (ENOSPC)."""

    def __init__(self, error):
        self.error = error

    def write(self, text):
        raise self.error

    def flush(self):
        raise self.error


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), OSError(28, "No space left on device")])
def test_training_output_to_a_closed_stdout_lets_the_run_go_on(error):
    printer = TrainPrinter("plain", out=_GuardedStdout(Closed(error)))
    printer(EpochEnded(1, 3, 1.0, 0.5, 1.0, 0.5, 0.1, 1.0))  # raised StdoutClosed into the training loop
    assert printer.mode == "quiet"
    printer(EpochEnded(2, 3, 1.0, 0.5, 1.0, 0.5, 0.1, 1.0))  # quiet: no second try


def test_the_guard_still_tells_the_command_why():
    with pytest.raises(StdoutError):
        _GuardedStdout(Closed(OSError(28, "No space left on device"))).write("x")
