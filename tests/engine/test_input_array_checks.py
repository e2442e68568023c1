"""Review of the readers: a tiny file that declares huge dimensions is one error entry naming the memory it
needs, not a 186 GiB allocation (a MemoryError traceback, or the OOM killer where memory is overcommitted)."""

import h5py
import numpy as np
from numpy.lib import format as npformat

from lab_workbench.engine.data.inputs import read_inputs

HUGE = (200_000, 1, 1000, 1000)  # 186 GiB of uint8


def _read(path):
    return read_inputs([str(path)], [1, 28, 28], [0.1], [0.3])


def test_an_npy_header_declaring_huge_dimensions_is_an_error_entry(tmp_path):
    path = tmp_path / "huge.npy"
    with open(path, "wb") as f:
        npformat.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": HUGE})
        f.write(b"\0" * 100)
    got = _read(path)
    assert got.x.shape[0] == 0 and len(got.errors) == 1 and "huge.npy" in got.errors[0]


def test_an_hdf5_dataset_declaring_huge_dimensions_is_refused(tmp_path):
    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", shape=HUGE, dtype="uint8", chunks=(1, 1, 1000, 1000), compression="gzip")
    got = _read(path)
    assert got.x.shape[0] == 0 and len(got.errors) == 1
    assert "huge.h5" in got.errors[0] and "of memory" in got.errors[0]


def test_a_real_npy_still_reads(tmp_path):
    path = tmp_path / "ok.npy"
    np.save(path, np.zeros((3, 28, 28), np.uint8))
    got = _read(path)
    assert got.x.shape == (3, 1, 28, 28) and not got.errors


def test_an_empty_npy_is_an_error_entry_for_images_and_for_points(tmp_path):
    path = tmp_path / "empty.npy"
    path.write_bytes(b"")
    assert len(_read(path).errors) == 1  # was an EOFError traceback
    assert len(read_inputs([str(path)], [2, 1, 1], [0.0, 0.0], [1.0, 1.0]).errors) == 1


def test_a_zero_d_npy_given_to_a_points_model_is_an_error_entry(tmp_path):
    path = tmp_path / "zerod.npy"
    np.save(path, np.array(3.0))  # was an IndexError traceback (shape[-1] of ())
    got = read_inputs([str(path)], [2, 1, 1], [0.0, 0.0], [1.0, 1.0])
    assert got.x.shape[0] == 0 and len(got.errors) == 1 and "zerod.npy" in got.errors[0]
