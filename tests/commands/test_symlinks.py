"""Nothing outside a run folder is written or deleted: symlinks are never followed out of a run, and nothing
but a regular file is ever replaced (a symlink, a device node or a fifo given as an output is refused)."""

import json
import os
import socket

import pytest

from lab_workbench.engine import TrainConfig, train
from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.core.files import atomic_write
from lab_workbench.engine.runs import RunLock


def cli(capsys, *args) -> tuple[int, str]:
    from lab_workbench.commands.app import main
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code or 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.fixture
def run(trained_runs, tmp_path_factory):
    """A folder and, under its runs/, this test's own copy of the session's small run."""
    root = tmp_path_factory.mktemp("sym")
    return root, str(trained_runs.get("small", into=root))


def _dead_run(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"config": {"epochs": 3}}))
    (folder / "progress.json").write_text(json.dumps({"status": "running", "pid": 2 ** 22 + 12345,
                                                      "host": socket.gethostname(), "time": 0}))


def test_prune_never_deletes_through_a_symlinked_sweep_or_run(tmp_path, capsys):
    outside = tmp_path / "outside"
    _dead_run(outside / "sweep" / "p1")
    (outside / "sweep" / "sweep.json").write_text("{}")
    _dead_run(outside / "lone")
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "sweep").symlink_to(outside / "sweep")
    (runs / "lone").symlink_to(outside / "lone")
    _dead_run(runs / "mine")
    code, err = cli(capsys, "runs", "--runs-dir", str(runs), "--prune", "--yes")
    assert code == 0
    assert (outside / "sweep" / "p1" / "config.json").is_file() and (outside / "lone" / "config.json").is_file()
    assert not (outside / "lone" / ".lock").exists() and not (outside / "sweep" / "p1" / ".lock").exists()
    assert not (runs / "mine").exists()  # the real dead run is pruned


def test_a_lock_symlink_never_truncates_its_target(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".lock").symlink_to(target)
    with pytest.raises(CheckpointError, match=r"\.lock is a symlink"):
        RunLock(tmp_path / "run").acquire()
    assert target.read_text() == "keep me"


def test_name_linking_elsewhere_is_not_trained_into(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "x").symlink_to(elsewhere)
    h = train(TrainConfig(epochs=1, subset=64, hidden=[4], runs_dir=str(runs), name="x"))
    assert os.path.basename(h.run_dir) == "x-2" and list(elsewhere.iterdir()) == []
    code, err = cli(capsys, "train", "--resume", "auto", "--name", "x", "--runs-dir", str(runs), "--epochs", "1",
                    "--subset", "64", "--hidden", "4", "-q")
    assert code == 2 and "x" in err and list(elsewhere.iterdir()) == []


def test_symlinked_eval_and_export_folders_receive_nothing(run, capsys):
    root, run_dir = run
    for sub in ("eval", "export"):
        target = root / f"{sub}-target"
        target.mkdir()
        os.symlink(target, os.path.join(run_dir, sub))
    code, err = cli(capsys, "eval", run_dir)
    assert code == 2 and "eval: expected a plain folder, found a symlink" in err
    code, err = cli(capsys, "export", run_dir, "--format", "safetensors")
    assert code == 2 and "export: expected a plain folder, found a symlink" in err
    assert list((root / "eval-target").iterdir()) == [] and list((root / "export-target").iterdir()) == []


def test_user_outputs_never_replace_a_symlink_or_a_fifo(run, tmp_path, capsys):
    root, run_dir = run
    target = tmp_path / "target.csv"
    target.write_text("mine")
    link, fifo = tmp_path / "link.csv", tmp_path / "fifo.h5"
    link.symlink_to(target)
    os.mkfifo(fifo)
    img = tmp_path / "x.npy"
    import numpy as np
    np.save(img, np.zeros((8, 8), dtype=np.float32))
    code, err = cli(capsys, "predict", os.path.join(run_dir, "best.pt"), str(img), "--csv", str(link))
    assert code == 2 and "link.csv: refusing to replace it (a symlink)" in err
    code, err = cli(capsys, "convert", "digits", str(fifo), "--force")
    assert code == 2 and "fifo.h5: refusing to replace it (not a regular file)" in err
    assert link.is_symlink() and target.read_text() == "mine" and fifo.is_fifo()


def test_atomic_write_refuses_symlinks_and_keeps_them(tmp_path):
    (tmp_path / "t").write_text("x")
    (tmp_path / "l").symlink_to(tmp_path / "t")
    with pytest.raises(CheckpointError, match="refusing to replace it"):
        atomic_write(tmp_path / "l", lambda tmp: open(tmp, "w").write("y"))
    assert (tmp_path / "l").is_symlink() and (tmp_path / "t").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l", "t"]  # no temp file left
