"""Shared fixtures: tiny data files written in the real formats, and the real MNIST when present."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
sys.path.insert(0, str(ROOT))
# one thread count for every test and subprocess: bitwise-resume tests compare float sums, and lab would
# otherwise size its threads by how busy the machine happens to be (engine.runtime.threads.idle_cpus)
os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))


def lab_cmd(*args) -> list[str]:
    """The `lab` command line, run through the interpreter that runs the tests."""
    return [sys.executable, "-m", "commands", *map(str, args)]


def run_lab(*args, cwd):
    """Run `lab ARGS` in cwd; returns the CompletedProcess with text stdout and stderr."""
    import os
    import subprocess
    return subprocess.run(lab_cmd(*args), cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def lab_here(*args, cwd):
    """Run `lab ARGS` in this process (no interpreter or torch start-up): the fast way for bad-input cases.
    Returns what run_lab returns; an uncaught exception (a traceback) propagates and fails the test."""
    import contextlib
    import io
    import subprocess
    from commands.app import main
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = e.code or 0
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def write_idx(path, array, gz=False, magic_type=0x08):
    """An IDX file as MNIST ships them (big-endian header, uint8 payload)."""
    import gzip
    import struct
    header = bytes([0, 0, magic_type, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())
    return path


@pytest.fixture
def mnist_dir():
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found in {MNIST_DIR}")
    return MNIST_DIR


def make_images(n=120, h=8, w=8, c=None, classes=3, seed=0):
    """Separable synthetic images: class k lights up row band k, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    shape = (n, h, w) if c is None else (n, h, w, c)
    images = rng.integers(0, 60, size=shape).astype(np.uint8)
    band = max(1, h // classes)
    for i, k in enumerate(labels):
        images[i, k * band:(k + 1) * band] = 250
    return images, labels.astype(np.int64)


def write_h5(path, images, labels, test=None, class_names=None, images_key="images", labels_key="labels"):
    import h5py
    with h5py.File(path, "w") as f:
        f.create_dataset(images_key, data=images)
        f.create_dataset(labels_key, data=labels)
        if test is not None:
            g = f.create_group("test")
            g.create_dataset(images_key, data=test[0])
            g.create_dataset(labels_key, data=test[1])
        if class_names is not None:
            f.attrs["class_names"] = class_names
    return path


@pytest.fixture
def tiny_h5(tmp_path):
    images, labels = make_images()
    test = make_images(30, seed=1)
    return write_h5(tmp_path / "tiny.h5", images, labels, test=test, class_names=["a", "b", "c"])


def pytest_collection_modifyitems(items):
    """Tests that read the real MNIST are slow: `pytest -m "not slow"` skips them."""
    for item in items:
        if "mnist_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
