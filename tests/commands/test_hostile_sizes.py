"""Hostile sizes (issue 20, defect 5): a size read from a file or a flag is checked against what the data
and the machine allow before anything of that size is allocated, and refused with one line.

Each case runs under a lowered address-space limit (RLIMIT_AS, the current mapping + 3 GB): were a check
missing, the allocation would fail at once with a MemoryError (a traceback: the test fails) instead of
taking the machine's memory until the OOM killer stops it. The limit is lifted again after each case.
"""

import contextlib
import gzip
import os
import resource
import struct
import traceback
import zipfile

import h5py
import numpy as np
import pytest

from lab_workbench.commands.app import main
from tests.helpers import make_images, write_h5

GB = 1024 ** 3


@contextlib.contextmanager
def address_space_limit(extra=3 * GB):
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    mapped = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = mapped + extra if hard == resource.RLIM_INFINITY else min(hard, mapped + extra)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def lab_limited(args, capsys):
    """(exit code, stderr lines) of `lab ARGS` in-process under the address-space limit."""
    code = 0
    with address_space_limit():
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = e.code
        except BaseException:
            pytest.fail("traceback:\n" + traceback.format_exc())
    return code, capsys.readouterr().err.strip().splitlines()


def assert_one_line(code, lines, *expected):
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(e in lines[0] for e in expected), lines


@pytest.fixture
def huge_label_h5(tmp_path):
    images, labels = make_images(60)
    labels[0] = 10 ** 9  # num_classes 10^9 + 1: the class list alone would take tens of GB
    return write_h5(tmp_path / "huge_label.h5", images, labels)


@pytest.mark.parametrize("command", ["data", "train"])
def test_a_label_of_a_billion(huge_label_h5, tmp_path, capsys, command):
    args = [command, huge_label_h5] if command == "data" else ["train", "--data", huge_label_h5, "--epochs", "1",
                                                               "--runs-dir", tmp_path / "runs"]
    code, lines = lab_limited(args, capsys)
    assert_one_line(code, lines, "huge_label.h5", "labels must be below")
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def huge_shape_h5(tmp_path):
    """A dataset of shape (10, 10^5, 10^5) uint8 (10^11 bytes when read) in a file of a few kB."""
    path = tmp_path / "huge_shape.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", shape=(10, 10 ** 5, 10 ** 5), dtype=np.uint8, chunks=(1, 1000, 1000))
        f.create_dataset("labels", data=np.arange(10) % 2)
    assert path.stat().st_size < 1 << 20
    return path


@pytest.mark.parametrize("command", ["data", "train"])
def test_an_hdf5_dataset_of_a_hundred_gigabytes(huge_shape_h5, tmp_path, capsys, command):
    args = [command, huge_shape_h5] if command == "data" else ["train", "--data", huge_shape_h5, "--epochs", "1",
                                                               "--runs-dir", tmp_path / "runs"]
    code, lines = lab_limited(args, capsys)
    assert_one_line(code, lines, "huge_shape.h5", "needs", "of memory")


def _idx_header(shape, magic=0x08):
    return bytes([0, 0, magic, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape)


@pytest.mark.parametrize("gz", [False, True])
def test_an_idx_header_that_claims_terabytes(tmp_path, capsys, gz):
    folder = tmp_path / "idx"
    folder.mkdir()
    suffix = ".gz" if gz else ""
    for name, shape in (("train-images-idx3-ubyte", (60000, 60000, 60000)), ("train-labels-idx1-ubyte", (60000,))):
        with (gzip.open if gz else open)(folder / (name + suffix), "wb") as f:
            f.write(_idx_header(shape) + bytes(1000))
    code, lines = lab_limited(["convert", folder, tmp_path / "out.h5"], capsys)
    assert_one_line(code, lines, "train-images-idx3-ubyte", "IDX header")
    assert not (tmp_path / "out.h5").exists() and os.listdir(tmp_path) == ["idx"]


def test_convert_size_sixty_thousand_squared(tmp_path, capsys):
    from PIL import Image
    for cls in ("cat", "dog"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(tmp_path / "imgs" / cls / "a.png")
    code, lines = lab_limited(["convert", tmp_path / "imgs", tmp_path / "out.h5", "--size", "60000x60000"], capsys)
    assert_one_line(code, lines, "--size 60000x60000", "of memory")
    assert not (tmp_path / "out.h5").exists()


def test_an_npz_whose_header_claims_a_terabyte(tmp_path, capsys):
    """np.load allocates the shape a member's header claims before reading it: a zip bomb of sorts."""
    header = {"descr": "|u1", "fortran_order": False, "shape": (1000, 1000, 1000, 1000)}
    buf = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w") as z:
        z.writestr("images.npy", buf.getvalue() + bytes(64))
        z.writestr("labels.npy", _npy(np.arange(4)))
    code, lines = lab_limited(["convert", tmp_path / "bomb.npz", tmp_path / "out.h5"], capsys)
    assert_one_line(code, lines, "bomb.npz", "of memory")


def _npy(array):
    import io
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


@pytest.mark.parametrize("flags, expected", [
    (["--hidden", "4000000000"], "--hidden"),
    (["--hidden", "200000,200000"], "parameters"),
    (["--model", "cnn", "--channels", "30000"], "--channels"),
])
def test_a_model_too_large_for_memory(tmp_path, capsys, flags, expected):
    code, lines = lab_limited(["train", "--epochs", "1", "--runs-dir", tmp_path / "runs", *flags], capsys)
    assert_one_line(code, lines, expected, "of memory")
    assert not (tmp_path / "runs").exists()


def test_threads_beyond_the_machine_are_refused_before_any_thread_starts(tmp_path, capsys):
    code, lines = lab_limited(["train", "--threads", "100000", "--runs-dir", tmp_path / "runs"], capsys)
    assert_one_line(code, lines, "--threads: expected an integer from 1 to")


def test_available_memory_is_a_positive_count_and_follows_the_address_space_limit():
    from lab_workbench.engine.runtime.memory import available_memory
    free = available_memory()
    assert free is not None and free > 0
    with address_space_limit(extra=1 * GB):
        assert available_memory() <= 1 * GB
