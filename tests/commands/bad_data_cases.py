"""Bad data and weights that used to end in a traceback or a misleading line (issue 32): HDF5 files without
pixels, with a link loop or a test split of another shape, pixels beyond float32 or NaN under --stream,
weights holding NaN, a --freeze that leaves nothing to train, a pipe given as a run, a config.json nested
100,000 deep. test_bad_inputs.py runs them in-process, in its corpus folder (which holds runs/good)."""

import os
import shutil

import h5py
import numpy as np
import torch


def _nan_run(runs, name: str) -> None:
    """A copy of runs/good whose checkpoints (sealed the way lab seals them) hold NaN weights."""
    from lab_workbench.engine.runs.checkpoint import save_checkpoint
    shutil.copytree(runs / "good", runs / name)
    for which in ("best.pt", "last.pt"):
        state = torch.load(runs / name / which, weights_only=True)
        for v in state["model_state_dict"].values():
            if v.is_floating_point():
                v.fill_(float("nan"))
        state.pop("format_version", None)
        save_checkpoint(runs / name / which, state)


def make_data_files(d) -> None:
    """The files the cases below name, written into the corpus folder `d`."""
    x = np.random.default_rng(0).integers(0, 255, (60, 8, 8), dtype=np.uint8)
    y = np.arange(60) % 3
    with h5py.File(d / "nopixels.h5", "w") as f:
        f["images"], f["labels"] = np.zeros((60, 0, 0), np.uint8), y
    with h5py.File(d / "selflink.h5", "w") as f:
        f["images"], f["labels"] = h5py.SoftLink("/images"), y
    with h5py.File(d / "testshape.h5", "w") as f:
        f["images"], f["labels"] = x, y
        f["test/images"], f["test/labels"] = np.zeros((10, 6, 6), np.uint8), np.arange(10) % 3
    with h5py.File(d / "f64huge.h5", "w") as f:
        f["images"], f["labels"] = x.astype(np.float64) * 1e300, y
    nan = x.astype(np.float32)
    nan[5, 1, 1] = np.nan
    with h5py.File(d / "nanpixels.h5", "w") as f:
        f["images"], f["labels"] = nan, y
    for name, names in (("namesint", 3), ("names2d", np.zeros((2, 2)))):
        with h5py.File(d / f"{name}.h5", "w") as f:
            f["images"], f["labels"] = x, y
            f.attrs["class_names"] = names
    runs = d / "runs"
    _nan_run(runs, "nanweights")
    good = torch.load(runs / "good" / "best.pt", weights_only=True)["model_state_dict"]
    torch.save({k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in good.items()},
               d / "nanstate.pt")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(d / "script.pt"))
    os.mkfifo(d / "pipe.pt")
    deep = runs / "deep"
    deep.mkdir()
    (deep / "config.json").write_text("[" * 100_000 + "]" * 100_000)


G = ["{d}/runs/good"]
NAN = ["{d}/runs/nanweights"]
DATA_CASES = [
    # HDF5 files
    ("h5-no-pixels", ["train", "--data", "{d}/nopixels.h5"], "nopixels.h5: images have no pixels"),
    ("h5-no-pixels-stream", ["train", "--data", "{d}/nopixels.h5", "--stream"], "images have no pixels"),
    ("h5-no-pixels-data", ["data", "{d}/nopixels.h5"], "images have no pixels"),
    ("h5-self-link", ["train", "--data", "{d}/selflink.h5"], "selflink.h5: not a readable HDF5 file"),
    ("h5-self-link-stream", ["train", "--data", "{d}/selflink.h5", "--stream"], "not a readable HDF5 file"),
    ("h5-self-link-data", ["data", "{d}/selflink.h5"], "selflink.h5: not a readable HDF5 file"),
    ("h5-self-link-predict", ["predict", *G, "{d}/selflink.h5"], "selflink.h5: not a readable HDF5 file"),
    ("h5-self-link-eval", ["eval", *G, "--data", "{d}/selflink.h5"], "selflink.h5: not a readable HDF5 file"),
    ("h5-class-names-int", ["train", "--data", "{d}/namesint.h5"], "namesint.h5: its class_names attribute"),
    ("h5-class-names-int-data", ["data", "{d}/namesint.h5"], "namesint.h5: its class_names attribute"),
    ("h5-class-names-table", ["train", "--data", "{d}/names2d.h5", "--stream"], "class_names attribute must be"),
    ("h5-class-names-table-eval", ["eval", *G, "--data", "{d}/names2d.h5"], "class_names attribute must be"),
    ("h5-test-shape-stream", ["train", "--data", "{d}/testshape.h5", "--stream"],
     "test images (6, 6) differ from train images (8, 8)"),
    ("h5-test-shape", ["train", "--data", "{d}/testshape.h5"], "test images (6, 6) differ"),
    ("h5-float64-beyond-float32", ["train", "--data", "{d}/f64huge.h5"], "beyond float32's range"),
    ("h5-float64-beyond-float32-stream", ["train", "--data", "{d}/f64huge.h5", "--stream"], "beyond float32"),
    ("h5-nan-pixels-stream", ["train", "--data", "{d}/nanpixels.h5", "--stream"], "NaN or infinite values"),
    # weights holding NaN: named, never "diverged ... try a lower --lr"
    ("eval-nan-weights", ["eval", *NAN], "best.pt: its weights hold NaN or infinite values"),
    ("eval-nan-weights-last", ["eval", *NAN, "--checkpoint", "last"], "last.pt: its weights hold NaN"),
    ("predict-nan-weights", ["predict", *NAN, "{d}/digits.npy"], "its weights hold NaN or infinite values"),
    ("init-from-nan-state", ["train", "--init-from", "{d}/nanstate.pt"], "--init-from {d}/nanstate.pt: parameter"),
    ("init-from-nan-run", ["train", "--init-from", "{d}/runs/nanweights"], "holds NaN or infinite values"),
    ("init-from-torchscript", ["train", "--init-from", "{d}/script.pt"], "script.pt: cannot read it as weights"),
    # fine-tuning that would train nothing
    ("freeze-everything", ["train", "--freeze", "*"], "matches every parameter, so nothing would train"),
    ("freeze-everything-then-unfreeze", ["train", "--freeze", "*", "--unfreeze-at", "2", "--epochs", "2"],
     "matches every parameter"),
    # a pipe given as a run or a checkpoint, a config.json nested 100,000 deep
    ("eval-pipe", ["eval", "{d}/pipe.pt"], "pipe.pt: not a regular file or a folder"),
    ("inspect-pipe", ["inspect-weights", "{d}/pipe.pt"], "pipe.pt: not a regular file or a folder"),
    ("resume-deep-config", ["train", "--resume", "{d}/runs/deep"], "config.json: not valid JSON"),
    ("eval-deep-config", ["eval", "{d}/runs/deep"], "deep: no best.pt checkpoint"),
]
