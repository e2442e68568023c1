"""`lab runs` and `engine.load_run`: runs listed newest first, live runs told from dead ones, pruning."""

import json
import os
import signal
import subprocess
import sys
import time

from tests.helpers import ROOT, lab_cmd, lab_here
from lab_workbench.engine import TrainConfig, load_run, train
from lab_workbench.engine.runs import read_metrics


def _start(tmp_path, name, epochs=400):
    p = subprocess.Popen(lab_cmd("train", "--epochs", epochs, "--subset", "400", "--name", name), cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not read_metrics(tmp_path / "runs" / name / "metrics.csv") and time.monotonic() < deadline:
        time.sleep(0.05)
    return p


def test_runs_tells_live_from_dead_filters_and_prunes(tmp_path):
    runs = str(tmp_path / "runs")
    train(TrainConfig(epochs=1, subset=200, runs_dir=runs, name="done", model="logistic"))
    polls = iter([None])  # cancelled after its first batch (a cancel while loading leaves no folder)
    train(TrainConfig(epochs=3, subset=200, runs_dir=runs, name="stopped"),
          should_stop=lambda: next(polls, "cancelled"))
    killed = _start(tmp_path, "killed")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    live = _start(tmp_path, "live")
    try:
        listing = json.loads(lab_here("runs", "--json", cwd=tmp_path).stdout)
        status = {r["name"]: r["status"] for r in listing}
        assert status == {"done": "completed", "stopped": "cancelled", "killed": "dead", "live": "running"}
        assert [r["name"] for r in listing][0] == "live"  # newest first
        only = json.loads(lab_here("runs", "--json", "--where", "model=logistic", cwd=tmp_path).stdout)
        assert [r["name"] for r in only] == ["done"]
        dead = json.loads(lab_here("runs", "--json", "--status", "dead", cwd=tmp_path).stdout)
        assert [r["name"] for r in dead] == ["killed"]
        r = lab_here("runs", "--prune", "--yes", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        # both kept a last.pt: a run is never removed without saying that it could go on
        said = {line.split()[1].rsplit("/", 1)[-1]: line for line in r.stdout.splitlines() if line.startswith("  ")}
        assert "resumable: last.pt after 0 of 3 epochs" in said["stopped"] and "resumable" in said["killed"]
        assert "removing 2 resumable runs" in r.stdout
        assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["done", "live"]
    finally:
        live.kill()
        live.wait()


def test_load_run_gives_config_and_history_in_one_call(tmp_path):
    h = train(TrainConfig(epochs=3, subset=200, runs_dir=str(tmp_path / "runs"), name="r", l2=1e-3))
    run = load_run(h.run_dir)
    assert run.config["l2"] == 1e-3 and run.column("epoch") == [1, 2, 3]
    assert run.status == "completed" and run.test_acc == h.test_acc and len(run.history) == 3


def test_lab_runs_does_not_import_torch(tmp_path):
    train(TrainConfig(epochs=1, subset=200, runs_dir=str(tmp_path / "runs"), name="r"))
    code = ("import sys\nfrom lab_workbench.commands.app import main\ntry:\n    main(['runs'])\nexcept SystemExit:\n    pass\n"
            "print('torch imported' if 'torch' in sys.modules else 'no torch')")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "completed" in r.stdout and r.stdout.strip().endswith("no torch")


def test_a_folder_without_a_heartbeat_is_judged_by_its_lock(tmp_path):
    import socket
    from lab_workbench.engine.runs import read_run
    for name, pid in (("copied", 2**22 + 12345), ("held", os.getpid())):  # above pid_max: no such process
        run = tmp_path / name
        run.mkdir()
        (run / "config.json").write_text(json.dumps({"config": {"model": "mlp", "epochs": 3}, "data": {}}))
        (run / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n"
                                         "1,1,0.5,1,0.5,0.001,1\n")
        (run / ".lock").write_text(f"{pid} {socket.gethostname()}\n")
    assert read_run(tmp_path / "copied").status == "dead"  # was 'running' for 5 minutes after the copy
    assert read_run(tmp_path / "held").status == "running"
