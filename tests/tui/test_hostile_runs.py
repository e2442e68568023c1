"""Whatever a run folder holds, labtui neither crashes nor hangs: a table of malformed run folders."""

import os
import socket
import time

import pytest

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.contract.events import METRICS_HEADER
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.run import RunScreen
from lab_workbench.tui.widgets.runs_table import RunsTable

HEADER = ",".join(METRICS_HEADER) + "\n"
GOOD_CONFIG = '{"config": {"model": "mlp", "epochs": 3}, "data": {"source": "d", "classes": ["a", "b"]}}'
ROW = "1,0.5,0.8,0.6,0.7,0.001,1.0\n"

CASES = {
    "confusion-shape": {"confusion.json": '{"epoch": 1, "classes": ["a", "b", "c"], "matrix": [[1, 2], [3, 4]]}'},
    "confusion-cells": {"confusion.json": '{"epoch": 1, "classes": ["a", "b"], "matrix": [["x", 2], [3, null]]}'},
    "confusion-list": {"confusion.json": "[1, 2, 3]"},
    "config-list": {"config.json": "[1, 2]"},
    "config-types": {"config.json": '{"config": {"epochs": "many", "model": 5}, "data": "nope"}'},
    "results-string": {"results.json": '"done"'},
    "results-types": {"results.json": '{"status": 7, "test": [0.5]}'},
    "progress-junk": {"progress.json": '{"pid": "me", "status": "running", "time": "now"}'},
    "metrics-bytes": {"metrics.csv": HEADER.encode() + b"1,0.5,\xff\xfe,0.6,0.7,0.001,1.0\n" + ROW.encode()},
    "metrics-huge-field": {"metrics.csv": HEADER + "1," + "9" * 1_000_000 + ",0.8,0.6,0.7,0.001,1.0\n" + ROW},
    "metrics-nan": {"metrics.csv": HEADER + "1,nan,nan,nan,nan,0.001,1.0\n2,0.4,0.8,0.5,0.75,0.001,1.0\n"},
    "metrics-junk": {"metrics.csv": "not,a,header\n\x00\x00\x00\n,,,,,,\n"},
    "boundary-shape": {"boundary.json": '{"epoch": 1, "x_range": [0, 1], "y_range": [0, 1], "classes": ["a"], '
                                        '"probs": [[[0.5, 0.5]]], "points": [], "labels": [], "point_probs": []}'},
    "boundary-types": {"boundary.json": '{"probs": "many", "x_range": null}'},
    "boundary-nan": {"boundary.json": '{"epoch": 1, "x_range": [0, 1], "y_range": [0, 1], "classes": ["a", "b"], '
                                      '"probs": [[[NaN, 0.5]]], "points": [[0, 0]], "labels": [7], '
                                      '"point_probs": [[0.5, 0.5]]}'},
    "boundary-list": {"boundary.json": "[[1, 2]]"},
    # every number may be NaN, inf, negative or huge (a seconds of nan crashed `labtui --watch`)
    "metrics-nan-seconds": {"metrics.csv": HEADER + "1,0.5,0.8,0.6,0.7,0.001,nan\n2,0.4,0.8,0.5,0.7,0.001,NaN\n"},
    "metrics-inf": {"metrics.csv": HEADER + "1,inf,-inf,inf,0.7,inf,inf\n2,0.4,0.8,0.5,0.75,0.001,-inf\n"},
    "metrics-negative": {"metrics.csv": HEADER + "-3,0.5,0.8,0.6,0.7,-0.001,-5\n2,-0.4,-0.8,-0.5,-0.7,-1,-1e9\n"},
    "metrics-huge": {"metrics.csv": HEADER + "1,1e308,0.8,1e300,0.7,0.001,1e308\n"
                                   "99999999999999999999,0.4,0.8,0.5,0.75,1e200,1e20\n"},
    "results-nan": {"results.json": '{"status": "completed", "test": {"accuracy": NaN, "loss": Infinity}}'},
    "results-huge": {"results.json": '{"status": "completed", "test": {"accuracy": 1e308, "loss": -1e308}}'},
    "config-huge": {"config.json": '{"config": {"model": "mlp", "epochs": 1e308}, "n_params": -1e400}'},
    "progress-nan": {"progress.json": '{"status": "running", "host": "%s", "pid": %d, "time": NaN, "step": NaN, '
                                      '"steps": Infinity, "loss": NaN, "started": -1e308}'
                                      % (socket.gethostname(), os.getpid())},
    "progress-huge": {"progress.json": '{"status": "running", "host": "%s", "pid": %d, "time": 1e308, '
                                       '"step": -5, "steps": 1e300, "loss": 1e308, "started": 1e308}'
                                       % (socket.gethostname(), os.getpid())},
    "metrics-million": {"metrics.csv": HEADER + "".join(f"{i},0.5,0.8,0.6,0.7,0.001,1.0\n"
                                                       for i in range(1, 1_000_001))},
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "runs"
    for name, files in CASES.items():
        d = root / name
        d.mkdir(parents=True)
        files = {"config.json": GOOD_CONFIG, "metrics.csv": HEADER + ROW, **files}
        for fname, content in files.items():
            (d / fname).write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


async def test_the_runs_browser_lists_every_malformed_run(hostile):
    app = make_app(TrainConfig(runs_dir=str(hostile)), start="runs")
    t = time.monotonic()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one(RunsTable).row_count == len(CASES)
    assert time.monotonic() - t < 60  # a million-row metrics.csv is thinned, not drawn row by row


@pytest.mark.parametrize("name", list(CASES))
async def test_watch_and_view_survive_a_malformed_run(hostile, name):
    app = make_app(TrainConfig(runs_dir=str(hostile)), watch=hostile / name)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert len(screen.rows) <= 2002
        for key in ("2", "3", "4", "5", "l", "s", "1"):  # every tab and key draws
            await pilot.press(key)
            await pilot.pause()
        if name in ("confusion-shape", "confusion-cells"):
            assert "cannot be shown" in str(screen.query_one("#confusion-view").render())
        if name.startswith("boundary"):
            assert "boundary.json: unreadable" in str(screen.query_one("#boundary-view").render())
        await pilot.press("q")
