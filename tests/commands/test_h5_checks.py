"""Damaged converted files (issue 32, point 3), beyond test_hostile_files: a fresh stream that meets the damage
while reading its statistics says so; files `lab convert` wrote before its chunks carried fletcher32 checksums
have the SHA-256 it stored of each dataset checked where a dataset is read whole, and where it cannot be
(streamed images) one warning names the file and `lab convert`, instead of a check silently skipped."""

import h5py
import numpy as np
import pytest

from tests.commands.test_hostile_files import flip_chunk_bytes, lab_errors_quiet
from tests.helpers import lab_here, make_images


def _as_before_fletcher32(new, old):
    """`old`: `new` rewritten as lab convert wrote it before the checksum filter: same attributes and chunks,
    no fletcher32, no compression (so that flipped bytes decode as other pixels, not as an error)."""
    with h5py.File(new, "r") as src, h5py.File(old, "w") as dst:
        dst.attrs.update(src.attrs)
        def copy(name, obj):
            if isinstance(obj, h5py.Group):
                dst.require_group(name).attrs.update(obj.attrs)
            else:
                d = dst.create_dataset(name, data=obj[()], chunks=obj.chunks)
                d.attrs.update(obj.attrs)
        src.visititems(copy)


@pytest.fixture
def old_h5(tmp_path):
    images, labels = make_images(600, classes=10)
    np.savez(tmp_path / "ok.npz", images=images, labels=labels)
    assert lab_errors_quiet(["convert", tmp_path / "ok.npz", tmp_path / "new.h5"])[0] == 0
    _as_before_fletcher32(tmp_path / "new.h5", tmp_path / "old.h5")
    with h5py.File(tmp_path / "old.h5", "r") as f:
        assert not f["images"].fletcher32 and "sha256" in f["images"].attrs
    return tmp_path / "old.h5"


def _flip_pixels(path, count=200):
    with h5py.File(path, "r") as f:
        info = f["images"].id.get_chunk_info(0)
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset + info.size // 2)
        data = bytearray(fh.read(count))
        fh.seek(info.byte_offset + info.size // 2)
        fh.write(bytes(b ^ 0x55 for b in data))


def _train(path, *flags, cwd):
    return lab_here("train", "--data", path, "-e", "1", "-q", *flags, "--runs-dir", cwd / "runs", cwd=cwd)


def test_an_old_file_read_whole_is_checked_by_its_sha256(old_h5, tmp_path):
    got = _train(old_h5, cwd=tmp_path)
    assert got.returncode == 0 and "warning" not in got.stderr, got.stderr
    _flip_pixels(old_h5)
    got = _train(old_h5, cwd=tmp_path)
    lines = got.stderr.strip().splitlines()
    assert got.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: --data {old_h5}: "), lines
    assert "SHA-256" in lines[0] and "damaged" in lines[0], lines


@pytest.mark.parametrize("command", ["eval", "predict"])
def test_eval_and_predict_check_an_old_file_by_its_sha256(old_h5, trained_runs, tmp_path, command):
    run = trained_runs.get("small", into=tmp_path)
    args = ["eval", run, "--data", old_h5, "--split", "train"] if command == "eval" else ["predict", run, old_h5]
    assert lab_here(*args, cwd=tmp_path).returncode == 0
    _flip_pixels(old_h5)
    got = lab_here(*args, cwd=tmp_path)
    lines = got.stderr.strip().splitlines()
    assert got.returncode != 0 and len(lines) == 1 and "old.h5" in lines[0] and "SHA-256" in lines[0], lines
    assert lines[0].startswith("error: ") and "damaged" in lines[0]  # predict: exit 1, as for any unreadable input


def test_an_old_file_streamed_is_one_warning_naming_it_and_lab_convert(old_h5, tmp_path):
    got = _train(old_h5, "--stream", cwd=tmp_path)
    warned = [line for line in got.stderr.splitlines() if line.startswith("warning:")]
    assert got.returncode == 0, got.stderr
    assert len(warned) == 1 and str(old_h5) in warned[0] and "lab convert" in warned[0], got.stderr
    assert "checksum" in warned[0]


def test_a_file_with_chunk_checksums_streams_without_a_warning(old_h5, tmp_path):
    got = _train(tmp_path / "new.h5", "--stream", cwd=tmp_path)
    assert got.returncode == 0 and "warning" not in got.stderr, got.stderr


def test_a_fresh_stream_damaged_names_the_statistics_pass_before_epoch_1(tmp_path):
    """A new streamed run reads the training rows for its normalisation first: a damaged chunk met there is
    named as met there (no epoch or batch yet), as the README says."""
    images, labels = make_images(600, classes=10)
    np.savez(tmp_path / "ok.npz", images=images, labels=labels)
    h5 = tmp_path / "a.h5"
    assert lab_errors_quiet(["convert", tmp_path / "ok.npz", h5])[0] == 0
    flip_chunk_bytes(h5)
    code, lines = lab_errors_quiet(["train", "--data", h5, "--stream", "-e", "1", "--runs-dir", tmp_path / "runs"])
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {h5}: "), lines
    assert "damaged" in lines[0] and "while reading its statistics, before epoch 1" in lines[0], lines
    assert "at epoch" not in lines[0]
