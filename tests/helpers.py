"""Helpers shared by the tests: running `lab`, tiny data files in the real formats, fake run folders, configs.

Imported as a module (`from tests.helpers import lab_here`); the fixtures live in tests/conftest.py."""

import contextlib
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
METRICS_HEADER = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n"


def lab_cmd(*args) -> list[str]:
    """The `lab` command line, run through the interpreter that runs the tests."""
    return [sys.executable, "-m", "lab_workbench.commands", *map(str, args)]


def lab_env(**extra) -> dict:
    """The environment of a `lab` subprocess: this tree first on the import path."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def run_lab(*args, cwd):
    """Run `lab ARGS` in cwd; returns the CompletedProcess with text stdout and stderr."""
    return subprocess.run(lab_cmd(*args), cwd=cwd, capture_output=True, text=True, timeout=300, env=lab_env())


def lab_here(*args, cwd):
    """Run `lab ARGS` in this process (no interpreter or torch start-up): the fast way when the point is not
    the process boundary. Returns what run_lab returns; an uncaught exception (a traceback) fails the test."""
    from lab_workbench.commands.app import main
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = e.code or 0
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def wait_for(predicate, timeout=60.0, every=0.02) -> bool:
    """Poll predicate until it is true (True) or timeout seconds pass (False): a condition, not a sleep."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def cfg(tmp_path, data=None, **kw):
    """A small, fast TrainConfig writing under tmp_path/runs; keywords override (modules bind their own
    defaults with functools.partial)."""
    from lab_workbench.engine.settings.config import TrainConfig
    base = dict(epochs=2, runs_dir=str(tmp_path / "runs"), subset=400, batch_size=32)
    if data is not None:
        base["data"] = str(data)
    return TrainConfig(**{**base, **kw})


def write_idx(path, array, gz=False, magic_type=0x08):
    """An IDX file as MNIST ships them (big-endian header, uint8 payload)."""
    header = bytes([0, 0, magic_type, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())
    return path


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
    """An HDF5 data set as `lab convert` writes it (a `test` group when test=(images, labels) is given)."""
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


def fake_run(runs, name, model, source, accs, test, status="completed", created=1_790_000_000):
    """A run folder as lab writes it, with fixed numbers and creation time (no training)."""
    d = runs / name
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"config": {"model": model, "epochs": 10, "dataset": source},
                                               "data": {"source": source}}))
    (d / "metrics.csv").write_text(METRICS_HEADER + "".join(f"{i + 1},0.5,0.9,0.4,{a},0.001,12.5\n"
                                                            for i, a in enumerate(accs)))
    (d / "results.json").write_text(json.dumps({"status": status, "test": {"accuracy": test}}))
    os.utime(d / "config.json", (created, created))
    return d


class TrainedRuns:
    """Runs trained once per session and handed out as private copies (the session fixture `trained_runs`).

    A run is named by a recipe in RECIPES and/or TrainConfig fields; two tests that ask for the same fields
    share one training. `get(...)` copies the run folder to into/runs/<name>: a test may change its copy
    freely (eval/ and export/ folders, symlinks, edited metrics) without touching another test's."""

    RECIPES = {
        # a valid, complete run folder where what it learned does not matter
        "small": dict(name="good", epochs=1, subset=200),
        # a run that has learned the whole digits set (eval reports, predict agreeing with eval)
        "digits": dict(name="d", epochs=3, precision="fp32"),
        # a plain MLP and the same with weight decay: inspect-weights compares them
        "plain": dict(name="plain", epochs=2, subset=400),
        "l2": dict(name="l2", epochs=2, subset=400, l2=0.01),
        "logistic": dict(name="lg", model="logistic", epochs=1, subset=100),
    }

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self._done: dict[str, Path] = {}

    def trained(self, recipe: str | None = None, **fields) -> Path:
        """The session's own run folder for recipe + fields, trained on first use. Read it; copy it (get)
        before changing anything in it."""
        if recipe is not None and recipe not in self.RECIPES:
            raise KeyError(f"no recipe {recipe!r} in TrainedRuns.RECIPES")
        config = {**self.RECIPES.get(recipe, {}), **fields}
        key = json.dumps(config, sort_keys=True)
        if key not in self._done:
            from lab_workbench.engine import TrainConfig, train
            home = self._tmp.mktemp("trained")
            with contextlib.chdir(home):  # a relative runs_dir, as `lab train` run in a folder records it
                h = train(TrainConfig(runs_dir="runs", **config))
            assert h.status == "completed", (config, h.status)
            self._done[key] = home / h.run_dir
        return self._done[key]

    def get(self, recipe: str | None = None, into: Path | None = None, **fields) -> Path:
        """A private copy of the run at into/runs/<its name> (into: a new temporary folder by default)."""
        source = self.trained(recipe, **fields)
        into = Path(into) if into is not None else self._tmp.mktemp("copy")
        dest = into / "runs" / source.name
        shutil.copytree(source, dest, symlinks=True)
        return dest



def lab_errors(capsys, *args) -> tuple[int, list[str]]:
    """`lab ARGS` in this process: (exit code, stderr lines)."""
    from lab_workbench.commands.app import main
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code or 0
    return code, capsys.readouterr().err.strip().splitlines()


def mount_tmpfs(folder: Path, size: str) -> Path:
    """Mount a tmpfs of `size` (e.g. '1m') on a new `folder`; skip the test where mounting is not permitted.
    The caller unmounts it (`umount`)."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    return folder
