"""Hostile review: a run folder's status from a .lock or progress.json that holds anything."""

import pytest


@pytest.mark.parametrize("pid", ["\u00b2", "\u0661\u0662", "9" * 30, "0"])
def test_a_hostile_lock_file_is_no_traceback(tmp_path, pid):
    # `lab runs` judges a folder without progress.json by its .lock: any bytes can be there
    import json
    import os
    import socket
    import time

    from lab_workbench.engine.runs import read_run
    run = tmp_path / "x"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": {"model": "mlp", "epochs": 3}, "data": {}}))
    (run / ".lock").write_text(f"{pid} {socket.gethostname()}\n")
    os.utime(run / "config.json", (time.time() - 3600,) * 2)
    # no process named: judged by the folder's age (an hour), not 'running' (pid 0 is our process group)
    assert read_run(run).status == "stopped?"


@pytest.mark.parametrize("pid", [10 ** 30, -1, 0, True])
def test_a_hostile_progress_pid_is_no_traceback_and_no_live_writer(tmp_path, pid):
    import json
    import socket
    import time

    from lab_workbench.engine.runs import read_run
    run = tmp_path / "x"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": {"model": "mlp", "epochs": 3}, "data": {}}))
    (run / "progress.json").write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "status": "running",
                                                   "time": time.time() - 3600}))
    assert read_run(run).status == "dead"  # an hour-old heartbeat, and no process of that pid
