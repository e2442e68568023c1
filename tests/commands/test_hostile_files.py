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


def _outside_h5(kind, d):
    """A .h5 whose images lie in another file, by an external link, external storage or a virtual dataset."""
    images, labels = make_images(60)
    other = write_h5(d / "other.h5", images, labels)
    path = d / f"{kind}.h5"
    with h5py.File(path, "w") as f:
        if kind == "link":
            f["images"] = h5py.ExternalLink(str(other), "images")
        elif kind == "storage":
            raw = d / "pixels.bin"
            raw.write_bytes(images.tobytes())
            f.create_dataset("images", shape=images.shape, dtype=np.uint8, external=[(str(raw), 0, images.nbytes)])
        else:
            layout = h5py.VirtualLayout(shape=images.shape, dtype=np.uint8)
            layout[:] = h5py.VirtualSource(str(other), "images", shape=images.shape)
            f.create_virtual_dataset("images", layout)
        f["labels"] = labels
    return path


OUTSIDE_KINDS = ["link", "storage", "virtual"]
OUTSIDE_COMMANDS = {
    "train": lambda h5, d: ["train", "--data", h5, "--epochs", "1", "--runs-dir", d / "runs"],
    "stream": lambda h5, d: ["train", "--data", h5, "--stream", "--epochs", "1", "--runs-dir", d / "runs"],
    "eval": lambda h5, d: ["eval", d / "runs" / "good", "--data", h5],
    "predict": lambda h5, d: ["predict", d / "runs" / "good", h5],
    "data": lambda h5, d: ["data", h5],
}


@pytest.fixture(scope="module")
def outside_files(trained_runs, tmp_path_factory):
    d = tmp_path_factory.mktemp("outside")
    trained_runs.get("small", into=d)
    return d, {kind: _outside_h5(kind, d) for kind in OUTSIDE_KINDS}


@pytest.mark.parametrize("command", OUTSIDE_COMMANDS)
@pytest.mark.parametrize("kind", OUTSIDE_KINDS)
def test_an_h5_reading_other_files_is_refused(outside_files, capsys, command, kind):
    d, files = outside_files
    code, lines = lab_errors(capsys, *map(str, OUTSIDE_COMMANDS[command](files[kind], d)))
    assert code != 0 and any(f"{kind}.h5" in line and "--allow-external-h5" in line for line in lines), lines
    assert not (d / "runs" / "good" / "eval").exists()


@pytest.mark.parametrize("kind", OUTSIDE_KINDS)
def test_allow_external_h5_reads_them(outside_files, kind):
    from engine.data.sources import load_hdf5
    d, files = outside_files
    raw = load_hdf5(files[kind], allow_external=True)
    assert raw.train_x.shape == (60, 8, 8) and raw.train_x.any()
