"""Every run is reproducible from its record: `lab train --config runs/X/config.json --name Y` trains the same
run (metrics.csv equal but the seconds, weights bitwise on CPU) for every optimizer, scheduler, recipe, model
family and data source; config files are checked as a whole and several --config merge in order."""

import csv
import json

import pytest

from tests.helpers import lab_here

# tiny runs on the embedded digits data: one epoch of a small subset each
TINY = ["-e", "1", "--subset", "120", "-b", "32", "--device", "cpu"]

MATRIX = {
    "sgd": ["--optimizer", "sgd", "--lr", "0.05"],
    "sgd-nesterov": ["--optimizer", "sgd", "--nesterov", "--momentum", "0.8"],
    "adam": ["--optimizer", "adam"],
    "adamw": ["--optimizer", "adamw", "--weight-decay", "0.01"],
    "rmsprop": ["--optimizer", "rmsprop", "--momentum", "0.5"],
    "step": ["-e", "2", "--scheduler", "step", "--step-size", "1", "--gamma", "0.5"],
    "plateau": ["--scheduler", "plateau", "--gamma", "0.5"],
    "none": ["--scheduler", "none", "--label-smoothing", "0.1", "--clip-grad", "1"],
    "onecycle": ["--scheduler", "onecycle", "--warmup", "0.3", "--ema", "0.9"],
    "logistic": ["-m", "logistic", "--l1", "0.001", "--l2", "0.001"],
    "cnn": ["-m", "cnn", "-K", "4,8", "-L", "1", "--augment", "shift", "--dropout", "0.1"],
    "fastcnn": ["-m", "fastcnn", "-K", "4,4,8", "--precision", "fp32"],
    "resnet": ["-m", "resnet", "-K", "4,8", "-L", "1", "--bottleneck"],
    "tv": ["-m", "tv:squeezenet1_1", "--subset", "64"],
    "freeze": ["-H", "16", "--freeze", "1.*", "--head-lr", "0.01", "-e", "2", "--unfreeze-at", "2"],
    "classes": ["--classes", "3,5,8", "--seed", "7", "--val-split", "0.2"],
    "moons": ["-d", "moons", "--samples", "200", "--noise", "0.2"],
}


def _rows(run):
    with open(run / "metrics.csv") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def _weights(path):
    import torch
    return torch.load(path, map_location="cpu", weights_only=True)["model_state_dict"]


def assert_same_run(a, b):
    """metrics.csv equal but the seconds, best.pt and last.pt bitwise, config.json equal but the name."""
    import torch
    assert _rows(a) == _rows(b)
    for ckpt in ("best.pt", "last.pt"):
        wa, wb = _weights(a / ckpt), _weights(b / ckpt)
        assert wa.keys() == wb.keys()
        assert all(torch.equal(wa[k], wb[k]) for k in wa), ckpt
    ca, cb = (json.loads((r / "config.json").read_text())["config"] for r in (a, b))
    assert {**ca, "name": None} == {**cb, "name": None}


def train_and_rerun(tmp_path, *args):
    r = lab_here("train", *TINY, *args, "--name", "x", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = lab_here("train", "--config", "runs/x/config.json", "--name", "y", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert_same_run(tmp_path / "runs" / "x", tmp_path / "runs" / "y")


@pytest.mark.parametrize("case", list(MATRIX))
def test_config_json_retrains_the_same_run(tmp_path, case):
    train_and_rerun(tmp_path, *MATRIX[case])


def test_hdf5_run_retrains_from_its_config(tmp_path, tiny_h5):
    train_and_rerun(tmp_path, "--data", str(tiny_h5), "--optimizer", "sgd", "--nesterov")


def test_recipe_run_retrains_from_its_config(tmp_path, mnist_dir):
    train_and_rerun(tmp_path, "--recipe", "fast", "-d", "mnist", "--data-dir", str(mnist_dir), "--subset", "256",
                    "--eval-subset", "200")


def test_print_config_round_trip_with_sgd_and_step(tmp_path):
    flags = ["--optimizer", "sgd", "--nesterov", "--momentum", "0.7", "--scheduler", "step", "--step-size", "3",
             "--gamma", "0.5"]
    r = lab_here("train", "--print-config", *flags, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (tmp_path / "s.yaml").write_text(r.stdout)
    back = lab_here("train", "--print-config", "--format", "json", "--config", "s.yaml", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    cfg = json.loads(back.stdout)
    assert (cfg["optimizer"], cfg["nesterov"], cfg["momentum"], cfg["step_size"], cfg["gamma"]) == \
        ("sgd", True, 0.7, 3, 0.5)


def test_several_configs_merge_in_order_flags_last(tmp_path):
    (tmp_path / "a.yaml").write_text("optimizer: sgd\nmomentum: 0.5\nlr: 0.1\nepochs: 3\n")
    (tmp_path / "b.yaml").write_text("nesterov: true\nlr: 0.2\n")
    r = lab_here("train", "--print-config", "--format", "json", "--config", "a.yaml", "--config", "b.yaml",
                 "--epochs", "4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = json.loads(r.stdout)
    assert (cfg["optimizer"], cfg["momentum"], cfg["nesterov"], cfg["lr"], cfg["epochs"]) == \
        ("sgd", 0.5, True, 0.2, 4)


@pytest.mark.parametrize("text, flags, expected", [
    # the file's keys together: the same rule and text as the flags, naming the file and the key
    ("nesterov: true\n", [], "c.yaml: key 'nesterov': --optimizer adam does not use it"),
    ("optimizer: sgd\nnesterov: true\n", ["--optimizer", "adam"],
     "c.yaml: key 'nesterov': --optimizer adam does not use it"),
    ("scheduler: cosine\nstep_size: 3\n", [], "c.yaml: key 'step_size': --scheduler cosine does not use it"),
    ("optimizer: sgd\n", ["--nesterov", "--optimizer", "adam"], "--nesterov: --optimizer adam does not use it"),
])
def test_file_checked_as_a_whole(tmp_path, text, flags, expected):
    (tmp_path / "c.yaml").write_text(text)
    r = lab_here("train", "--print-config", "--config", "c.yaml", *flags, cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith(f"error: {expected}"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
