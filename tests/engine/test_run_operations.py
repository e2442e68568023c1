"""Run operations in the engine (issue 31 point 3): one reading of a .lock record, deleting a run, and
resuming one (incl. --resume auto), as both faces do them."""

import fcntl
import os

import pytest

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.runs import RunLock
from lab_workbench.engine.runs.lock import parse_holder


@pytest.mark.parametrize("record", ["not a pid\n", "²³ host\n", "123 host extra\n", "0 host\n", "-5 host\n"])
def test_a_lock_record_that_names_no_process_is_another_process(tmp_path, record):
    (tmp_path / ".lock").write_text(record)
    fd = os.open(tmp_path / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another holder, whose record makes no sense
    try:
        with pytest.raises(CheckpointError, match="in use by another process;"):
            RunLock(tmp_path).acquire()
    finally:
        os.close(fd)
    assert parse_holder(record) is None


def test_a_lock_record_names_its_holder(tmp_path):
    (tmp_path / ".lock").write_text("4242 somehost\n")
    fd = os.open(tmp_path / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(CheckpointError, match="in use by pid 4242 on somehost;"):
            RunLock(tmp_path).acquire()
    finally:
        os.close(fd)


def _run(root, name, epochs_done=2, status="completed", epochs=2):
    """A run folder (no training): config.json, epoch rows, results.json."""
    from lab_workbench.engine.settings.config import TrainConfig
    from lab_workbench.engine.core.files import write_json
    from lab_workbench.engine.runs import METRICS_HEADER
    d = root / name
    d.mkdir(parents=True)
    write_json(d / "config.json", {"config": TrainConfig(epochs=epochs, runs_dir=str(root)).to_dict()})
    rows = [",".join(METRICS_HEADER)] + [f"{i},0.5,0.5,0.5,0.5,0.001,1.0" for i in range(1, epochs_done + 1)]
    (d / "metrics.csv").write_text("\n".join(rows) + "\n")
    if status:
        write_json(d / "results.json", {"status": status})
    return d


def test_delete_run_removes_a_run_and_nothing_else(tmp_path):
    from lab_workbench.engine.runs import delete_run
    runs = tmp_path / "runs"
    keep = _run(runs, "keep")
    assert delete_run(_run(runs, "gone"), runs) == runs / "gone"
    assert not (runs / "gone").exists() and (keep / "config.json").is_file()
    (runs / "plain").mkdir()
    with pytest.raises(CheckpointError, match="not a run folder"):
        delete_run(runs / "plain", runs)
    assert (runs / "plain").is_dir()


def test_delete_run_refuses_a_locked_or_live_run(tmp_path):
    import socket

    from lab_workbench.engine.core.files import write_json
    from lab_workbench.engine.runs import delete_run
    runs = tmp_path / "runs"
    locked = _run(runs, "locked", status=None)
    with RunLock(locked), pytest.raises(CheckpointError, match="is running|in use by"):
        delete_run(locked, runs)
    live = _run(runs, "live", status=None)  # a heartbeat of this very process: alive
    write_json(live / "progress.json", {"status": "running", "pid": os.getpid(), "host": socket.gethostname()})
    with pytest.raises(CheckpointError, match="is running; stop it"):
        delete_run(live, runs)
    assert (locked / "config.json").is_file() and (live / "config.json").is_file()


@pytest.mark.parametrize("link", ["sweep", "lone"])
def test_delete_run_never_deletes_through_a_symlink(tmp_path, link):
    from lab_workbench.engine.runs import delete_run
    outside = tmp_path / "outside"
    _run(outside / "sweep", "p1")
    (outside / "sweep" / "sweep.json").write_text("{}")
    _run(outside, "lone")
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / link).symlink_to(outside / link)
    target = runs / "sweep" / "p1" if link == "sweep" else runs / "lone"
    with pytest.raises(CheckpointError, match="symlink"):
        delete_run(target, runs)
    if link == "lone":  # without runs_dir the run's own folder is still checked
        with pytest.raises(CheckpointError, match="symlink"):
            delete_run(target)
    kept = outside / "sweep" / "p1" if link == "sweep" else outside / "lone"
    assert (kept / "config.json").is_file() and not (kept / ".lock").exists()


def test_plan_resume_auto(tmp_path):
    from lab_workbench.engine.core.errors import ConfigError
    from lab_workbench.engine.runs import plan_resume
    runs = tmp_path / "runs"
    with pytest.raises(ConfigError, match="--resume auto: needs --name"):
        plan_resume("auto", {"runs_dir": str(runs)})
    assert plan_resume("auto", {"name": "job", "runs_dir": str(runs)}) is None  # no run yet: a new one
    (runs / "job").mkdir(parents=True)  # a folder a first start left before config.json: still no run
    assert plan_resume("auto", {"name": "job", "runs_dir": str(runs)}) is None
    (runs / "job").rmdir()
    d = _run(runs, "job")
    plan = plan_resume("auto", {"name": "job", "runs_dir": str(runs)})
    assert plan.run_dir == d and plan.done == "completed" and plan.config.epochs == 2
    plan = plan_resume("auto", {"name": "job", "runs_dir": str(runs), "epochs": 5})
    assert plan.done == "" and plan.config.epochs == 5
    stopped = _run(runs, "stopped", epochs_done=1, status="interrupted")
    assert plan_resume("auto", {"name": "stopped", "runs_dir": str(runs)}).done == ""
    assert plan_resume(stopped).run_dir == stopped


def test_plan_resume_refuses_a_change_that_may_not_change(tmp_path):
    from lab_workbench.engine.core.errors import ConfigError
    from lab_workbench.engine.runs import plan_resume
    runs = tmp_path / "runs"
    _run(runs, "a")
    with pytest.raises(ConfigError, match="--model: cannot change on resume"):
        plan_resume("a", {"runs_dir": str(runs), "model": "cnn"})
    plan = plan_resume("latest", {"runs_dir": str(runs), "model": "mlp", "epochs": 4, "name": "other"})
    assert plan.config.epochs == 4 and plan.done == ""  # the same model is no change; name says where


def test_evaluate_run_writes_what_lab_eval_writes_and_last_pt_apart(trained_runs, tmp_path):
    from lab_workbench.engine.artifacts import evaluate_run
    run = trained_runs.get("small", into=tmp_path)
    done = evaluate_run(run)
    assert done.folder == run / "eval" and list(done.reports) == ["test"]
    files = ["confusion.csv", "metrics.json", "per_class.csv", "predictions.csv", "roc.csv"]
    assert sorted(p.name for p in (run / "eval" / "test").iterdir()) == files
    last = evaluate_run(run, "last", splits=("val", "test"))  # never overwrites best.pt's report
    assert last.folder == run / "eval" / "last.pt" and sorted(p.name for p in last.folder.iterdir()) == ["test", "val"]
    assert 0 <= done.reports["test"].accuracy <= 1


def test_run_outputs_refuse_a_symlinked_run_and_bad_options_before_torch(trained_runs, tmp_path):
    from lab_workbench.engine.artifacts import check_export, evaluate_run, export_run
    from lab_workbench.engine.core.errors import ConfigError
    run = trained_runs.get("small", into=tmp_path)
    (tmp_path / "runs" / "link").symlink_to(run)
    with pytest.raises(CheckpointError, match="symlink"):
        evaluate_run(tmp_path / "runs" / "link")
    with pytest.raises(CheckpointError, match="symlink"):
        export_run(tmp_path / "runs" / "link", "safetensors")
    assert not (run / "eval").exists() and not (run / "export").exists()
    for bad, flag in ((dict(fmt="zip"), "--format"), (dict(fmt="onnx", method="trace"), "--method"),
                      (dict(fmt="safetensors", batch=0), "--batch"), (dict(fmt="onnx", out=" "), "--out")):
        with pytest.raises(ConfigError, match=flag):
            check_export(**bad)


def test_export_run_writes_into_export_and_keeps_an_existing_file(trained_runs, tmp_path):
    from lab_workbench.engine.artifacts import export_run
    run = trained_runs.get("small", into=tmp_path)
    result = export_run(run, "safetensors", batch=4)
    assert result.path == run / "export" / "model.safetensors" and result.samples == 4 and result.max_diff <= 1e-4
    with pytest.raises(CheckpointError, match="already exists"):
        export_run(run, "safetensors")
    assert export_run(run, "safetensors", force=True).samples == 16
