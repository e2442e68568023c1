"""Trackers are a registry like the models: a plugin (LAB_PLUGINS) registers one, and `--log-to NAME` feeds it
the run's events, its record kept in RUN/trackers.json; --help and a bad --log-to list it."""

import json
import sys

import pytest

from tests.helpers import lab_here

PLUGIN = '''
import json
from pathlib import Path

from lab_workbench.engine.trackers import register_tracker


@register_tracker("jsonlines", "one JSON line per event in RUN/events.jsonl (a test's plugin)")
class JsonLines:
    def __init__(self, cfg, run_dir, record):
        self.path = Path(run_dir) / "events.jsonl"
        self.record = {"path": str(self.path), "resumed": bool(record)}

    def __call__(self, event):
        with self.path.open("a") as f:
            f.write(json.dumps({"event": type(event).__name__, "epoch": getattr(event, "epoch", None)}) + "\\n")
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "jsonl_tracker.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LAB_PLUGINS", "jsonl_tracker")
    yield
    from lab_workbench.engine.core.registry import TRACKERS
    TRACKERS.remove("jsonlines")
    sys.modules.pop("jsonl_tracker", None)


def test_a_plugin_s_tracker_gets_the_events_of_log_to(tmp_path, plugin):
    r = lab_here("train", "--subset", "200", "-H", "16", "--threads", "1", "-e", "2", "--log-to", "jsonlines",
                 "--name", "j", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = tmp_path / "runs" / "j"
    lines = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert [x["event"] for x in lines] == ["RunStarted", "EpochEnded", "EpochEnded", "RunEnded"]
    assert [x["epoch"] for x in lines if x["event"] == "EpochEnded"] == [1, 2]
    record = json.loads((run / "trackers.json").read_text())["jsonlines"]
    assert record["path"].endswith("j/events.jsonl") and record["resumed"] is False


def test_a_plugin_s_tracker_is_a_choice_in_help_and_errors(tmp_path, plugin):
    r = lab_here("train", "--log-to", "jsonline", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("error: --log-to: expected a list of tensorboard, mlflow, jsonlines, got ['jsonline']")
    r = lab_here("train", "--help", cwd=tmp_path)
    assert "any of: tensorboard, mlflow, jsonlines" in " ".join(r.stdout.split())


def test_a_tracker_that_cannot_start_is_switched_off_and_training_goes_on(tmp_path, plugin, monkeypatch):
    import jsonl_tracker

    def broken(self, cfg, run_dir, record):
        raise RuntimeError("no connection")
    monkeypatch.setattr(jsonl_tracker.JsonLines, "__init__", broken)
    r = lab_here("train", "--subset", "200", "-H", "16", "--threads", "1", "-e", "1", "--log-to", "jsonlines",
                 "--name", "b", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "runs" / "b" / "results.json").read_text())["status"] == "completed"
    r = lab_here("train", "--subset", "200", "-H", "16", "--threads", "1", "-e", "1", "--log-to", "jsonlines",
                 "--log-to-strict", "--name", "s", cwd=tmp_path)
    assert r.returncode == 2 and "--log-to jsonlines: failed to start (no connection)" in r.stderr
