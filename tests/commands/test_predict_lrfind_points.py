"""lab predict, lab lr-find, the 2-D point data sets and decision boundaries (issue 15)."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import lab_here


@pytest.fixture(scope="module")
def digits_run(trained_runs, tmp_path_factory):
    """A digits MLP trained for a few epochs (runs/d), and its test images written as PNG and NumPy files."""
    from PIL import Image
    from lab_workbench.engine.data import load_dataset
    from lab_workbench.engine.settings.config import TrainConfig
    tmp = tmp_path_factory.mktemp("predict")
    trained_runs.get("digits", into=tmp)
    data = load_dataset(TrainConfig(), "cpu")
    images = np.round(data.denormalize(data.test.x[:20]).clamp(0, 1).numpy()[:, 0] * 255).astype(np.uint8)
    pngs = tmp / "pngs"
    pngs.mkdir()
    for i, im in enumerate(images[:10]):
        Image.fromarray(im).save(pngs / f"{i:02d}.png")
    np.save(tmp / "ten.npy", images[10:])
    return tmp, images


def test_predict_matches_eval_on_the_same_images(digits_run):
    import torch
    from lab_workbench.engine.artifacts.loading import load_model
    tmp, images = digits_run
    r = lab_here("predict", "runs/d", "pngs", "ten.npy", "--top", "2", "--json", cwd=tmp)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["predictions"]
    assert [p["input"] for p in out][:2] == [str(Path("pngs/00.png")), str(Path("pngs/01.png"))]
    assert len(out) == 20 and all(len(p["top"]) == 2 for p in out)
    loaded = load_model(str(tmp / "runs/d"))
    mean, std = loaded.facts["mean"][0], loaded.facts["std"][0]
    x = (torch.from_numpy(images).float()[:, None] / 255 - mean) / std
    expected = loaded.model(x).argmax(1).tolist()
    assert [p["top"][0]["index"] for p in out] == expected
    assert all(p["top"][0]["probability"] >= p["top"][1]["probability"] for p in out)


def test_predict_resizes_and_converts_with_a_notice_and_writes_csv(digits_run, tmp_path):
    from PIL import Image
    tmp, images = digits_run
    Image.fromarray(np.stack([images[0]] * 3, -1)).resize((32, 32)).save(tmp_path / "big_rgb.png")
    r = lab_here("predict", str(tmp / "runs/d"), str(tmp_path / "big_rgb.png"), "--csv",
                 str(tmp_path / "p.csv"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "resized 32x32 -> 8x8" in r.stderr and "converted RGB to grayscale" in r.stderr
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0] == "input,class_1,probability_1,class_2,probability_2,class_3,probability_3" and len(rows) == 2


def test_predict_works_on_an_export(digits_run):
    tmp, _ = digits_run
    assert lab_here("export", "runs/d", "--format", "onnx", "--out", "d.onnx", cwd=tmp).returncode == 0
    a = json.loads(lab_here("predict", "runs/d", "pngs", "--json", cwd=tmp).stdout)["predictions"]
    b = json.loads(lab_here("predict", "d.onnx", "pngs", "--json", cwd=tmp).stdout)["predictions"]
    assert [p["top"][0]["index"] for p in a] == [p["top"][0]["index"] for p in b]


def test_predict_bad_inputs_are_one_line_each_and_do_not_stop_the_others(digits_run, tmp_path):
    tmp, _ = digits_run
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "folder" / "bad.npy").write_bytes(b"nope")
    import shutil
    shutil.copy(tmp / "pngs" / "00.png", tmp_path / "folder" / "good.png")
    r = lab_here("predict", str(tmp / "runs/d"), "folder", "missing.png", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and any("broken.png: cannot read image" in e for e in errors)
    assert any("missing.png: no such file or folder" in e for e in errors)
    assert any("bad.npy: not a readable .npy file" in e for e in errors)
    assert r.stdout.count("\n") == 1 and "good.png" in r.stdout
    r = lab_here("predict", str(tmp / "runs/d"), "folder", "--top", "0", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip() == "error: --top: expected an integer >= 1, got 0"
    r = lab_here("predict", str(tmp_path / "nothing"), "folder", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_lr_find_suggests_a_rate_in_the_known_good_range(tmp_path):
    from lab_workbench.engine.settings.config import TrainConfig
    from lab_workbench.engine.training.lr_find import lr_find
    # logistic regression on digits with SGD: it learns for lr in about 1e-2..1, diverges well above 10
    cfg = TrainConfig(model="logistic", optimizer="sgd", momentum=0.0, batch_size=64, precision="fp32",
                      runs_dir=str(tmp_path / "runs"))
    r = lr_find(cfg, start=1e-5, end=1e3, steps=150)
    assert r.stopped == "exploded" and r.lrs[-1] < 1e3
    assert 1e-2 <= r.suggestion <= 1.0 and 1e-3 <= r.steepest <= 10
    assert not (tmp_path / "runs").exists()  # never touches a run folder


def test_lr_find_cli_prints_the_curve_and_the_train_line(tmp_path):
    r = lab_here("lr-find", "--model", "logistic", "--optimizer", "sgd", "--steps", "60", "--end", "100",
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "suggested: lab train --model logistic --optimizer sgd --lr " in r.stdout
    assert "minimum of the smoothed loss" in r.stdout and not (tmp_path / "runs").exists()
    j = json.loads(lab_here("lr-find", "--model", "logistic", "--steps", "40", "--json", cwd=tmp_path).stdout)
    assert len(j["lrs"]) == len(j["losses"]) and j["command"].startswith("lab train --model logistic --lr ")
    bad = lab_here("lr-find", "--steps", "3", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --steps: expected at least 10, got 3"


@pytest.mark.parametrize("dataset", ["moons", "circles", "blobs"])
def test_point_data_sets_train_with_vector_models_and_draw_their_boundary(tmp_path, dataset):
    # moons with the default sample count: a moons MLP reaches 95 % out of the box
    samples = [] if dataset == "moons" else ["--samples", "600"]
    r = lab_here("train", "--dataset", dataset, "--model", "mlp", "--hidden", "32,32", "--lr", "0.01", "-e", "40",
                 "--name", "p", *samples, "--precision", "fp32", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    results = json.loads((tmp_path / "runs/p/results.json").read_text())
    assert results["test"]["accuracy"] >= (0.95 if dataset != "blobs" else 0.85)  # blobs overlap: ~88%
    grid = json.loads((tmp_path / "runs/p/boundary.json").read_text())
    assert grid["epoch"] == 40 and len(grid["probs"]) == 24 and len(grid["probs"][0]) == 64
    r = lab_here("eval", "runs/p", "--boundary", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    top = lines.index(next(line for line in lines if line.startswith("+---")))
    body = lines[top + 1:top + 25]
    assert all(line.startswith("|") and len(line) == 66 for line in body)
    drawn = "".join(body)
    assert "#" in drawn and ("0" in drawn and "1" in drawn)
    if dataset != "blobs":
        assert "threshold" in r.stdout  # two classes: the tuned threshold's boundary too


def test_points_bad_inputs(tmp_path):
    def err(*args):
        r = lab_here(*args, cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        return r.stderr
    assert "holds 2-D points, not images" in err("train", "--dataset", "moons", "--model", "cnn", "-e", "1")
    assert "--samples/--noise: only for the generated data sets" in err("train", "--samples", "100", "-e", "1")
    assert "--samples: expected at least 10 points" in err("train", "--dataset", "moons", "--samples", "3")
    assert "--noise: expected a number >= 0" in err("train", "--dataset", "moons", "--noise", "-1")
    assert lab_here("train", "-e", "1", "--name", "img", cwd=tmp_path).returncode == 0
    assert "--boundary: needs a run on 2-D points" in err("eval", "runs/img", "--boundary")


def test_lr_find_stops_when_asked_with_a_partial_curve(tmp_path):
    from lab_workbench.engine.settings.config import TrainConfig
    from lab_workbench.engine.training.lr_find import lr_find
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return "interrupted" if calls["n"] > 30 else None
    r = lr_find(TrainConfig(model="logistic", precision="fp32"), steps=200, should_stop=stop)
    assert r.stopped == "cancelled" and len(r.lrs) == 30


def test_the_form_offers_every_setting(tmp_path):
    from lab_workbench.engine.settings.config import settings
    from lab_workbench.tui.widgets.config_form import form_settings
    # fine-tuning, trackers and --eval-subset included: the form is generated from every setting
    assert [s.name for s in form_settings()] == [s.name for s in settings()]
