"""lab convert at scale: an ImageFolder decoded by a process pool, chunking and compression for streaming."""

import h5py
import numpy as np
import pytest
from PIL import Image

from tests.helpers import lab_here
from lab_workbench.engine.data.convert import PARALLEL_FROM, detect_source
from lab_workbench.engine.core.errors import DataError


def image_folder(root, n, bad=None):
    rng = np.random.default_rng(0)
    for i in range(n):
        d = root / f"class{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (6, 6, 3), dtype=np.uint8)).save(d / f"{i:04d}.png")
    if bad is not None:
        (root / "class1" / bad).write_bytes(b"not a png")
    return root


def all_chunks(src):
    parts = list(src.splits["train"].chunks())
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def test_a_process_pool_decodes_an_image_folder_in_order(tmp_path):
    root = image_folder(tmp_path / "imgs", PARALLEL_FROM + 30)
    serial = all_chunks(detect_source(str(root), workers=1))
    parallel = all_chunks(detect_source(str(root), workers=2))
    assert np.array_equal(serial[0], parallel[0]) and np.array_equal(serial[1], parallel[1])


def test_a_bad_image_in_the_pool_is_one_clear_error(tmp_path):
    root = image_folder(tmp_path / "imgs", PARALLEL_FROM + 30, bad="0999.png")
    with pytest.raises(DataError, match="0999.png: cannot read image"):
        all_chunks(detect_source(str(root), workers=2))


@pytest.mark.parametrize("compression", ["lzf", "gzip", "none"])
def test_convert_writes_row_chunks_of_about_a_megabyte(tmp_path, compression):
    images = np.random.default_rng(0).integers(0, 255, (3000, 16, 16, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", images=images, labels=np.arange(3000) % 4)
    r = lab_here("convert", tmp_path / "a.npz", tmp_path / "a.h5", "--compression", compression, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "a.h5") as f:
        d = f["images"]
        assert d.compression == (None if compression == "none" else compression)
        assert d.chunks[1:] == (16, 16, 3) and d.chunks[0] == (1 << 20) // (16 * 16 * 3)
        assert np.array_equal(d[()], images)


def test_lab_data_says_whether_training_would_stream(tmp_path):
    images = np.random.default_rng(0).integers(0, 255, (500, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", images=images, labels=np.arange(500) % 4)
    assert lab_here("convert", tmp_path / "a.npz", tmp_path / "a.h5", cwd=tmp_path).returncode == 0
    r = lab_here("data", tmp_path / "a.h5", "--samples", "0", "--data-memory", "10K", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # binary units, as --data-memory reads them: the budget prints as typed
    assert "resident 93.75 KiB" in r.stdout and "budget 10.00 KiB" in r.stdout and "training streams it" in r.stdout
    r = lab_here("data", tmp_path / "a.h5", "--samples", "0", cwd=tmp_path)
    assert "training holds it in memory" in r.stdout
