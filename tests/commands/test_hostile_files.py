"""Hostile files (issue 32, points 2-4): nothing is read or written outside what the user named, damaged data
is never used silently, and no file, size or environment variable makes lab hang or take all memory."""

import os

import h5py
import numpy as np
import pytest

from tests.helpers import lab_errors, make_images, write_h5


def one_error(code, lines, *expected):
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(e in lines[0] for e in expected), lines


# ---- point 2: no write through a symlinked run folder, no read through an HDF5 link ----

@pytest.fixture
def linked_run(trained_runs, tmp_path):
    """runs/linked: a symlink to a real run folder kept outside the runs folder."""
    real = trained_runs.get("small", into=tmp_path / "outside")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "linked").symlink_to(real)
    return tmp_path / "runs" / "linked", real


@pytest.mark.parametrize("args", [["eval"], ["export", "--format", "safetensors"]], ids=["eval", "export"])
def test_a_symlinked_run_folder_is_not_written_into(linked_run, capsys, args):
    link, real = linked_run
    before = sorted(p.name for p in real.iterdir())
    code, lines = lab_errors(capsys, *args, str(link))
    one_error(code, lines, "linked", "symlink")
    assert sorted(p.name for p in real.iterdir()) == before


def test_a_symlinked_tb_folder_is_not_written_through(trained_runs, tmp_path):
    from engine.trackers.tensorboard import TensorBoardTracker
    from engine.training.events import RunStarted
    from engine.errors import CheckpointError
    run = trained_runs.get("small", into=tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (run / "tb").symlink_to(outside)
    tracker = TensorBoardTracker(None, run, {})
    with pytest.raises(CheckpointError, match="symlink"):
        tracker(RunStarted(config={}, run_dir=str(run), n_params=1, device="cpu", dataset={}))
    assert list(outside.iterdir()) == []
