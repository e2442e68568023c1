"""More of the bad-input corpus (test_bad_inputs.py runs them): every command's flags, files, run folders and
archives. A case is (id, arguments, what the one error line must contain[, environment variables])."""

import json
import shutil

import numpy as np
import torch


def _checkpoint_variant(runs, name, change):
    """A copy of the good run whose last.pt (saved the way lab saves it, checksum recorded) has one field
    changed: a resume must refuse it with one line instead of failing deep inside the loop."""
    from lab_workbench.engine.runs.checkpoint import save_checkpoint
    run = runs / name
    shutil.copytree(runs / "good", run)
    for which in ("last.pt", "best.pt"):
        state = torch.load(run / which, weights_only=True)
        change(state)
        state.pop("format_version", None)
        save_checkpoint(run / which, state)


def make_more_files(d):
    """The files the cases below name, written into the corpus folder `d` (which holds runs/good)."""
    runs = d / "runs"
    _checkpoint_variant(runs, "epoch-text", lambda s: s.update(epoch="x"))
    _checkpoint_variant(runs, "history-list", lambda s: s.update(history=[1, 2]))
    _checkpoint_variant(runs, "mean-text", lambda s: s["data"].update(mean="abc"))
    _checkpoint_variant(runs, "classes-negative", lambda s: s["data"].update(num_classes=-3))
    _checkpoint_variant(runs, "shape-text", lambda s: s["data"].update(input_shape="big"))
    _checkpoint_variant(runs, "step-negative", lambda s: s.update(epoch_step=-5))
    shutil.copytree(runs / "good", runs / "metrics-folder")
    (runs / "metrics-folder" / "metrics.csv").unlink()
    (runs / "metrics-folder" / "metrics.csv").mkdir()
    sweep = runs / "sweep5"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(json.dumps({"points": 5}))
    for name, value in (("negative-loss", "-1.0"), ("zero-loss", "0")):
        run = runs / name
        shutil.copytree(runs / "good", run)
        lines = (run / "metrics.csv").read_text().splitlines()
        head = lines[0].split(",")
        rows = [line.split(",") for line in lines[1:]]
        for row in rows:
            row[head.index("val_loss")] = value
        (run / "metrics.csv").write_text("\n".join([lines[0], *map(",".join, rows)]) + "\n")
    np.save(d / "zerod.npy", np.array(3.0))
    np.save(d / "digits.npy", np.zeros((2, 8, 8), np.uint8))  # what the good run (digits, 8x8) takes
    np.save(d / "chan5.npy", np.zeros((2, 8, 8, 5), np.uint8))
    np.save(d / "fived.npy", np.zeros((1, 1, 1, 1, 1), np.uint8))
    (d / "trunc.npz").write_bytes((d / "ok.npz").read_bytes()[:200])
    np.savez(d / "nolabels.npz", images=np.zeros((4, 8, 8), np.uint8))
    np.savez(d / "floatlab.npz", images=np.zeros((4, 8, 8), np.uint8), labels=np.array([0.5, 1, 0, 1]))
    np.savez(d / "scalars.npz", images=np.array(1), labels=np.array(2))
    (d / "empty.pt").write_bytes(b"")
    (d / "text.txt").write_text("hello")
    (d / "emptydir").mkdir()
    (d / "garbage.onnx").write_bytes(b"\x08\x07garbage")
    (d / "garbage.safetensors").write_bytes(b"\xff" * 16)


G = ["{d}/runs/good"]
CASES = [
    # train: empty values are refused, never read as "the default" (defect 8)
    ("empty-lr", ["train", "--lr", ""], "--lr: expected a finite number, got ''"),
    ("empty-classes", ["train", "--classes", ""], "--classes: expected"),
    ("empty-hidden", ["train", "--hidden", ""], "--hidden: expected"),
    ("empty-channels", ["train", "--model", "cnn", "--channels", " "], "--channels: expected"),
    ("comma-hidden", ["train", "--hidden", ","], "--hidden: expected"),
    ("empty-epochs", ["train", "--epochs", ""], "--epochs: expected an integer, got ''"),
    ("empty-batch-size", ["train", "--batch-size", ""], "--batch-size: expected"),
    ("empty-seed", ["train", "--seed", ""], "--seed: expected"),
    ("empty-dropout", ["train", "--dropout", ""], "--dropout: expected"),
    ("empty-model", ["train", "--model", ""], "--model: expected"),
    ("empty-optimizer", ["train", "--optimizer", ""], "--optimizer: expected"),
    ("augment-comma", ["train", "--augment", ","], "--augment: expected"),
    ("augment-empty", ["train", "--augment", ""], "--augment: expected"),
    ("augment-unknown", ["train", "--augment", "flip,rotate"], "--augment: expected"),
    ("empty-images-key", ["train", "--images-key", ""], "--images-key: expected"),
    ("empty-labels-key", ["train", "--labels-key", ""], "--labels-key: expected"),
    ("empty-data", ["train", "--data", ""], "--data: expected"),
    ("empty-data-dir", ["train", "--data-dir", ""], "--data-dir: expected"),
    ("empty-runs-dir", ["train", "--runs-dir", "", "--epochs", "1"], "--runs-dir: expected"),
    # train: numbers out of what the machine and the libraries take (defects 5 and 7)
    ("seed-negative", ["train", "--seed", "-1"], "--seed: expected an integer from 0 to"),
    ("seed-huge", ["train", "--seed", str(2 ** 70)], "--seed: expected an integer from 0 to"),
    ("seed-float", ["train", "--seed", "1.5"], "--seed: expected an integer"),
    ("hidden-huge", ["train", "--hidden", "4000000000"], "--hidden"),
    ("hidden-two-huge", ["train", "--hidden", "100000,100000,100000"], "memory"),
    ("channels-huge", ["train", "--model", "cnn", "--channels", "4000000000"], "--channels"),
    ("hidden-zero", ["train", "--hidden", "0"], "--hidden: expected a comma-separated list of positive"),
    ("hidden-negative", ["train", "--hidden", "64,-5"], "--hidden: expected a comma-separated list of positive"),
    ("hidden-text", ["train", "--hidden", "wide"], "--hidden: expected a comma-separated list of integers"),
    ("threads-huge", ["train", "--threads", "100000"], "--threads: expected an integer from 1 to"),
    ("threads-zero", ["train", "--threads", "0"], "--threads: expected"),
    ("noise-huge", ["train", "--dataset", "moons", "--noise", "1e300"], "--noise"),
    ("noise-negative", ["train", "--dataset", "moons", "--noise", "-1"], "--noise: expected a number >= 0"),
    ("samples-zero", ["train", "--dataset", "moons", "--samples", "0"], "--samples: expected an integer >= 1"),
    ("samples-huge", ["train", "--dataset", "moons", "--samples", "100000000000"], "--samples"),
    ("subset-zero", ["train", "--subset", "0"], "--subset: expected an integer >= 1"),
    ("subset-text", ["train", "--subset", "half"], "--subset: expected an integer, got 'half'"),
    ("momentum-one", ["train", "--momentum", "1"], "--momentum: expected a number in [0, 1)"),
    ("dropout-one", ["train", "--dropout", "1"], "--dropout: expected a number in [0, 1)"),
    ("smoothing-negative", ["train", "--label-smoothing", "-0.1"], "--label-smoothing"),
    ("ema-one", ["train", "--ema", "1"], "--ema: expected a number in [0, 1)"),
    ("warmup-negative", ["train", "--warmup", "-1"], "--warmup: expected a number >= 0"),
    ("gamma-zero", ["train", "--gamma", "0"], "--gamma: expected a positive number"),
    ("step-size-zero", ["train", "--step-size", "0"], "--step-size: expected an integer >= 1"),
    ("weight-decay-negative", ["train", "--weight-decay", "-1"], "--weight-decay: expected a number >= 0"),
    ("l1-negative", ["train", "--l1", "-1"], "--l1: expected a number >= 0"),
    ("l2-nan", ["train", "--l2", "nan"], "--l2: expected a finite number"),
    ("clip-zero", ["train", "--clip-grad", "0"], "--clip-grad: expected a positive number"),
    ("patience-zero", ["train", "--patience", "0"], "--patience: expected an integer >= 1"),
    ("layers-zero", ["train", "--layers-per-block", "0"], "--layers-per-block: expected an integer >= 1"),
    ("pool-zero", ["train", "--pool-every", "0"], "--pool-every: expected an integer >= 1"),
    ("activation-unknown", ["train", "--activation", "sigmoid"], "--activation: expected one of"),
    ("init-unknown", ["train", "--init", "zeros"], "--init: expected one of"),
    ("scheduler-unknown", ["train", "--scheduler", "exp"], "--scheduler: expected one of"),
    ("device-unknown", ["train", "--device", "tpu"], "--device: expected one of"),
    ("precision-unknown", ["train", "--precision", "fp8"], "--precision: expected one of"),
    ("recipe-unknown", ["train", "--recipe", "turbo"], "--recipe: expected one of"),
    ("lr-infinite", ["train", "--lr", "1e999"], "--lr: expected a finite number"),
    ("lr-negative", ["train", "--lr", "-0.1"], "--lr: expected a positive number"),
    ("epochs-float", ["train", "--epochs", "1.5"], "--epochs: expected an integer, got '1.5'"),
    ("batch-text", ["train", "--batch-size", "big"], "--batch-size: expected an integer, got 'big'"),
    ("classes-duplicate", ["train", "--classes", "3,3"], "--classes: expected at least two distinct"),
    ("val-split-negative", ["train", "--val-split", "-0.1"], "--val-split: expected a number in [0, 1)"),
    ("slurm-procid-text", ["train", "--epochs", "1"], "SLURM_PROCID", {"SLURM_PROCID": "x", "SLURM_NTASKS": "2"}),
    ("slurm-ntasks-text", ["train", "--epochs", "1"], "SLURM_NTASKS", {"SLURM_PROCID": "0", "SLURM_NTASKS": "x"}),
    ("resume-auto-no-name", ["train", "--resume", "auto"], "--resume auto: needs --name"),
    ("time-limit-negative", ["train", "--time-limit", "-5m"], "--time-limit"),
    # resume of a checkpoint whose fields are not what lab writes (defect 7)
    ("resume-epoch-text", ["train", "--resume", "{d}/runs/epoch-text", "--epochs", "3"], "last.pt: epoch"),
    ("resume-history-list", ["train", "--resume", "{d}/runs/history-list", "--epochs", "3"], "last.pt: history"),
    ("resume-mean-text", ["train", "--resume", "{d}/runs/mean-text", "--epochs", "3"], "last.pt: data.mean"),
    ("resume-classes-negative", ["train", "--resume", "{d}/runs/classes-negative", "--epochs", "3"],
     "last.pt: data.num_classes"),
    ("resume-shape-text", ["train", "--resume", "{d}/runs/shape-text", "--epochs", "3"], "data.input_shape"),
    ("resume-step-negative", ["train", "--resume", "{d}/runs/step-negative", "--epochs", "3"], "epoch_step"),
    ("resume-metrics-folder", ["train", "--resume", "{d}/runs/metrics-folder", "--epochs", "3"],
     "metrics.csv: is not a regular file"),
    ("eval-classes-negative", ["eval", "{d}/runs/classes-negative"], "best.pt: its lab metadata is damaged: num_classes"),
    ("eval-mean-text", ["eval", "{d}/runs/mean-text"], "best.pt: its lab metadata is damaged: mean"),
    ("predict-shape-text", ["predict", "{d}/runs/shape-text", "{d}/zerod.npy"], "metadata is damaged: input_shape"),
    ("export-classes-negative", ["export", "{d}/runs/classes-negative", "--format", "safetensors",
                                 "--out", "{d}/x.safetensors"], "metadata is damaged: num_classes"),
    # eval
    ("eval-png-file", ["eval", *G, "--png", "{d}/afile"], "--png {d}/afile: expected a folder"),
    ("eval-missing", ["eval", "{d}/runs/nope"], "nope"),
    ("eval-checkpoint-word", ["eval", *G, "--checkpoint", "middle"], "--checkpoint"),
    ("eval-split-word", ["eval", *G, "--split", "dev"], "--split"),
    ("eval-splits-word", ["eval", *G, "--splits", "train,dev"], "dev"),
    ("eval-top-k-negative", ["eval", *G, "--top-k", "-1"], "--top-k"),
    ("eval-top-losses-negative", ["eval", *G, "--top-losses", "-1"], "--top-losses"),
    ("eval-threshold-two", ["eval", *G, "--threshold", "2"], "--threshold"),
    ("eval-gallery-index", ["eval", *G, "--gallery", "99"], "--gallery"),
    ("eval-gallery-name", ["eval", *G, "--gallery", "unicorn"], "--gallery"),
    ("eval-dataset-unknown", ["eval", *G, "--dataset", "imagenet"], "imagenet"),
    ("eval-boundary-images", ["eval", *G, "--boundary"], "--boundary"),
    ("eval-text-file", ["eval", "{d}/text.txt"], "text.txt"),
    ("eval-empty-pt", ["eval", "{d}/empty.pt"], "empty.pt"),
    ("eval-garbage-onnx", ["eval", "{d}/garbage.onnx"], "garbage.onnx"),
    ("eval-garbage-safetensors", ["eval", "{d}/garbage.safetensors"], "garbage.safetensors"),
    ("eval-empty-folder", ["eval", "{d}/emptydir"], "emptydir"),
    # predict
    ("predict-zero-d-npy", ["predict", *G, "{d}/zerod.npy"], "zerod.npy"),
    ("predict-five-d-npy", ["predict", *G, "{d}/fived.npy"], "fived.npy"),
    ("predict-truncated-npz", ["predict", *G, "{d}/trunc.npz"], "trunc.npz"),
    ("predict-missing-input", ["predict", *G, "{d}/nothere.png"], "nothere.png"),
    ("predict-text-input", ["predict", *G, "{d}/text.txt"], "text.txt"),
    ("predict-empty-folder", ["predict", *G, "{d}/emptydir"], "emptydir"),
    ("predict-top-zero", ["predict", *G, "{d}/digits.npy", "--top", "0"], "--top"),
    ("predict-csv-folder", ["predict", *G, "{d}/digits.npy", "--csv", "{d}/emptydir"], "emptydir"),
    ("predict-csv-no-folder", ["predict", *G, "{d}/digits.npy", "--csv", "{d}/no/where.csv"], "where.csv"),
    ("predict-missing-model", ["predict", "{d}/runs/nope", "{d}/digits.npy"], "nope"),
    ("predict-five-channels", ["predict", *G, "{d}/chan5.npy"], "chan5.npy"),
    # export
    ("export-format-unknown", ["export", *G, "--format", "tflite"], "--format"),
    ("export-method-unknown", ["export", *G, "--format", "torchscript", "--method", "magic"], "--method"),
    ("export-checkpoint-word", ["export", *G, "--format", "onnx", "--checkpoint", "middle"], "middle"),
    ("export-batch-zero", ["export", *G, "--format", "safetensors", "--batch", "0", "--out", "{d}/b.safetensors"],
     "--batch"),
    ("export-out-folder", ["export", *G, "--format", "safetensors", "--out", "{d}/emptydir", "--force"], "emptydir"),
    ("export-missing", ["export", "{d}/runs/nope", "--format", "onnx"], "nope"),
    # inspect-weights
    ("inspect-missing", ["inspect-weights", "{d}/runs/nope"], "nope"),
    ("inspect-hist-layer", ["inspect-weights", *G, "--hist", "nolayer"], "nolayer"),
    ("inspect-compare-missing", ["inspect-weights", *G, "--compare", "{d}/runs/nope"], "nope"),
    ("inspect-filters-layer", ["inspect-weights", *G, "--filters", "nolayer"], "nolayer"),
    ("inspect-feature-maps-negative", ["inspect-weights", *G, "--feature-maps", "-1"], "--feature-maps"),
    ("inspect-feature-maps-huge", ["inspect-weights", *G, "--feature-maps", "1000000000"], "--feature-maps"),
    ("inspect-png-file", ["inspect-weights", *G, "--hist", "--png", "{d}/afile"], "--png {d}/afile: expected a folder"),
    ("inspect-text-file", ["inspect-weights", "{d}/text.txt"], "text.txt"),
    # data
    ("data-missing", ["data", "{d}/missing.h5"], "missing.h5"),
    ("data-fake-h5", ["data", "{d}/fake.h5"], "fake.h5"),
    ("data-truncated-h5", ["data", "{d}/truncated.h5"], "truncated.h5"),
    ("data-truncated-npz", ["data", "{d}/trunc.npz"], "trunc.npz"),
    ("data-empty-folder", ["data", "{d}/emptydir"], "emptydir"),
    ("data-text-file", ["data", "{d}/text.txt"], "text.txt"),
    ("data-unknown-name", ["data", "imagenet"], "imagenet"),
    ("data-wrong-keys", ["data", "{d}/keys.h5"], "no dataset 'images'"),
    ("data-empty-key", ["data", "{d}/ok.h5", "--images-key", ""], "--images-key: expected"),
    ("data-negative-samples", ["data", "{d}/ok.h5", "--samples", "-1"], "--samples"),
    # convert
    ("convert-truncated-npz", ["convert", "{d}/trunc.npz", "{d}/new.h5"], "trunc.npz"),
    ("convert-npz-no-labels", ["convert", "{d}/nolabels.npz", "{d}/new.h5"], "nolabels.npz"),
    ("convert-npz-float-labels", ["convert", "{d}/floatlab.npz", "{d}/new.h5"], "labels must be integers"),
    ("convert-npz-scalars", ["convert", "{d}/scalars.npz", "{d}/new.h5"], "scalars.npz"),
    ("convert-format-unknown", ["convert", "{d}/ok.npz", "{d}/new.h5", "--format", "tar"], "--format"),
    ("convert-size-zero", ["convert", "{d}/emptydir", "{d}/new.h5", "--size", "0x0"], "--size"),
    ("convert-size-text", ["convert", "{d}/emptydir", "{d}/new.h5", "--size", "big"], "--size"),
    ("convert-exists", ["convert", "{d}/ok.npz", "{d}/ok.h5"], "ok.h5: already exists"),
    ("convert-labels-key-empty", ["convert", "{d}/ok.npz", "{d}/new.h5", "--labels-key", " "], "--labels-key"),
    ("convert-out-is-run-file", ["convert", "{d}/ok.npz", "{d}/runs/good/config.json"], "already exists"),
    ("convert-text-file", ["convert", "{d}/text.txt", "{d}/new.h5"], "text.txt"),
    ("convert-empty-folder", ["convert", "{d}/emptydir", "{d}/new.h5"], "emptydir"),
    ("convert-idx-wrong-folder", ["convert", "{d}/emptydir", "{d}/new.h5", "--format", "idx"], "emptydir"),
    ("convert-empty-key", ["convert", "{d}/ok.npz", "{d}/new.h5", "--images-key", ""], "--images-key: expected"),
    # compare
    ("compare-png-file", ["compare", *G, "--png", "{d}/afile"], "--png {d}/afile: expected a folder"),
    ("compare-sweep-points-int", ["compare", "{d}/runs/sweep5"], "sweep.json"),
    ("compare-log-y-negative", ["compare", "{d}/runs/negative-loss", *G, "--metric", "val_loss", "--log-y"],
     "--log-y"),
    ("compare-log-y-zero", ["compare", "{d}/runs/zero-loss", "--metric", "val_loss", "--log-y"], "--log-y"),
    ("compare-missing", ["compare", "{d}/runs/nope"], "nope"),
    ("compare-metric-unknown", ["compare", *G, "--metric", "f1"], "--metric"),
    ("compare-smooth-one", ["compare", *G, "--smooth", "1.5"], "--smooth"),
    ("compare-smooth-nan", ["compare", *G, "--smooth", "nan"], "--smooth"),
    ("compare-not-a-run", ["compare", "{d}/emptydir"], "emptydir"),
    # runs
    ("runs-dir-file", ["runs", "--runs-dir", "{d}/afile"], "afile"),
    ("runs-where-no-equals", ["runs", "--runs-dir", "{d}/runs", "--where", "model"], "--where"),
    ("runs-status-unknown", ["runs", "--runs-dir", "{d}/runs", "--status", "sleeping"], "--status"),
    ("runs-sort-unknown", ["runs", "--runs-dir", "{d}/runs", "--sort", "color"], "--sort"),
    # sweep
    ("sweep-grid-no-equals", ["sweep", "s", "--grid", "lr", "--runs-dir", "{d}/runs"], "--grid"),
    ("sweep-grid-unknown-field", ["sweep", "s", "--grid", "color=1,2", "--runs-dir", "{d}/runs"], "--grid color"),
    ("sweep-grid-bad-value", ["sweep", "s", "--grid", "lr=0.1,x", "--runs-dir", "{d}/runs"], "--grid lr=x"),
    ("sweep-grid-empty", ["sweep", "s", "--grid", "lr=", "--runs-dir", "{d}/runs"], "--grid lr"),
    ("sweep-grid-twice", ["sweep", "s", "--grid", "lr=1", "--grid", "lr=2", "--runs-dir", "{d}/runs"], "given twice"),
    ("sweep-jobs-zero", ["sweep", "s", "--grid", "lr=1", "--jobs", "0", "--runs-dir", "{d}/runs"], "--jobs"),
    ("sweep-max-runs", ["sweep", "s", "--grid", "lr=1,2,3", "--max-runs", "2", "--runs-dir", "{d}/runs"],
     "--max-runs"),
    ("sweep-sort-by", ["sweep", "s", "--grid", "lr=1", "--sort-by", "x", "--runs-dir", "{d}/runs"], "--sort-by"),
    ("sweep-name-slash", ["sweep", "a/b", "--grid", "lr=1", "--runs-dir", "{d}/runs"], "--name"),
    ("sweep-empty-lr", ["sweep", "s", "--grid", "dropout=0", "--lr", "", "--runs-dir", "{d}/runs"], "--lr"),
    ("sweep-existing-not-sweep", ["sweep", "good", "--grid", "lr=1", "--runs-dir", "{d}/runs"], "not a sweep"),
    ("sweep-points-int", ["sweep", "sweep5", "--grid", "lr=1", "--resume", "--runs-dir", "{d}/runs"], "sweep.json"),
    # device nodes where files or folders are expected
    ("train-data-device", ["train", "--data", "/dev/zero"], "/dev/zero"),
    ("data-device", ["data", "/dev/zero"], "/dev/zero: not a regular file or a folder"),
    ("convert-device", ["convert", "/dev/zero", "{d}/new.h5"], "/dev/zero: not a regular file or a folder"),
    ("predict-device", ["predict", *G, "/dev/zero"], "/dev/zero"),
    ("eval-device", ["eval", "/dev/zero"], "/dev/zero"),
    ("inspect-device", ["inspect-weights", "/dev/null"], "/dev/null"),
    ("compare-device", ["compare", "/dev/null"], "/dev/null"),
    ("resume-device", ["train", "--resume", "/dev/null"], "/dev/null"),
    # lr-find, models, the app
    ("lr-find-start-zero", ["lr-find", "--start", "0"], "--start"),
    ("lr-find-end-below-start", ["lr-find", "--start", "1", "--end", "0.1"], "--end"),
    ("lr-find-steps-zero", ["lr-find", "--steps", "0"], "--steps"),
    ("lr-find-empty-hidden", ["lr-find", "--hidden", ""], "--hidden: expected"),
    ("lr-find-hidden-huge", ["lr-find", "--hidden", "4000000000"], "--hidden"),
    ("models-extra-argument", ["models", "--frobnicate"], "--frobnicate"),
    ("unknown-command", ["frobnicate"], "frobnicate"),
]
