"""Nothing but lab's own output reaches stdout: a tracker's or a library's chatter goes to stderr, so that
`lab train --json | jq` and `--json-lines` parse, for each tracker."""

import json

import pytest

from tests.commands.test_trackers import TRAIN  # its MLflow twin is test_trackers.py's, beside the server
from tests.helpers import lab_here


def assert_only_lab_output(r, json_lines: bool):
    assert r.returncode == 0, r.stderr
    if json_lines:
        events = [json.loads(line) for line in r.stdout.splitlines()]
        assert events[-1]["event"] == "RunEnded"
    else:
        assert json.loads(r.stdout)["status"] == "completed"


@pytest.fixture
def chatty_tensorboard(monkeypatch):
    """TensorBoard's tracker, printing to stdout on every event as a library might."""
    pytest.importorskip("tensorboard")
    from lab_workbench.engine.trackers.tensorboard import TensorBoardTracker
    original = TensorBoardTracker.__call__

    def chatty(self, event):
        print(f"library chatter about {type(event).__name__}")
        return original(self, event)
    monkeypatch.setattr(TensorBoardTracker, "__call__", chatty)


@pytest.mark.parametrize("flag", ["--json", "--json-lines"])
def test_tensorboard_json_stdout_parses(tmp_path, chatty_tensorboard, flag):
    r = lab_here(*TRAIN, "-e", "2", "--log-to", "tensorboard", flag, "--name", "tb", cwd=tmp_path)
    assert_only_lab_output(r, flag == "--json-lines")
    assert "library chatter about RunEnded" in r.stderr

