"""Shared fixtures: tiny data files in the real formats, the real MNIST when present, and the session's
trained runs. Helpers that are not fixtures live in tests/helpers.py."""

import os

import pytest

from tests.helpers import MNIST_DIR, TrainedRuns, make_images, write_h5

# one thread count for every test and subprocess: bitwise-resume tests compare float sums, and lab would
# otherwise size its threads by how busy the machine happens to be (engine.runtime.threads.idle_cpus);
# the cores are shared among pytest-xdist's workers, which run side by side
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
os.environ.setdefault("OMP_NUM_THREADS", str(max(1, min(2, (os.cpu_count() or 1) // _WORKERS))))


@pytest.fixture
def mnist_dir():
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found in {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture
def tiny_h5(tmp_path):
    images, labels = make_images()
    test = make_images(30, seed=1)
    return write_h5(tmp_path / "tiny.h5", images, labels, test=test, class_names=["a", "b", "c"])


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory):
    """The session's factory of trained runs: each recipe trains once, tests get private copies."""
    return TrainedRuns(tmp_path_factory)


def pytest_collection_modifyitems(items):
    """Tests that read the real MNIST are slow: `pytest -m "not slow"` skips them. Files that hold a slow test
    run first: pytest-xdist hands out whole files (--dist loadfile) in this order (--no-loadscope-reorder), so
    the long ones start early and the many short ones even out the workers at the end, instead of a Slurm or
    torchrun file starting last while the other worker has nothing left to do."""
    for item in items:
        if "mnist_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: each file keeps its order
