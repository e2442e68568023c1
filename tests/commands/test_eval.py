import json

import numpy as np
import pytest
import torch

from tests.helpers import lab_here, make_images, write_h5
from lab_workbench.engine.evaluation.metrics import EvalReport


run = lab_here  # in this process: the reports are the point, not the process boundary


def report(y_true, y_pred, probs=None, classes=("a", "b", "c")):
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    k = len(classes)
    probs = np.eye(k)[y_pred] * 0.8 + 0.2 / k if probs is None else np.array(probs)
    losses = -np.log(probs[np.arange(len(y_true)), y_true])
    return EvalReport("test", list(classes), y_true, y_pred, probs, losses, np.arange(len(y_true)))


def test_metrics_on_a_small_fixed_set():
    r = report([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0])
    assert r.accuracy == pytest.approx(4 / 6)
    pc = r.per_class()
    got = [(c["precision"], c["recall"], c["support"]) for c in pc["classes"]]
    assert got == [(pytest.approx(0.5), pytest.approx(0.5), 2), (pytest.approx(2 / 3), 1.0, 2), (1.0, 0.5, 2)]
    f1 = [2 * p * r / (p + r) for p, r in [(0.5, 0.5), (2 / 3, 1.0), (1.0, 0.5)]]
    assert pc["macro"]["f1"] == pytest.approx(np.mean(f1))
    assert r.confusion().tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert r.confusion(normalize=True)[0].tolist() == [0.5, 0.5, 0.0]
    assert sorted(r.most_confused(5)) == [(0, 1, 1), (2, 0, 1)]


def test_roc_auc_matches_sklearn():
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 50)
    probs = rng.dirichlet([1, 1, 1], 50)
    r = report(y, probs.argmax(1), probs)
    for k in range(3):
        assert r.roc()[k][3] == pytest.approx(roc_auc_score(y == k, probs[:, k]))
    assert r.macro_auc() == pytest.approx(roc_auc_score(y, probs, multi_class="ovr", average="macro"))


def test_two_class_youden_threshold_and_threshold_applied():
    p1 = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.9])
    probs = np.stack([1 - p1, p1], 1)
    r = report([0, 0, 0, 1, 1, 1], (p1 >= 0.5).astype(int), probs, classes=("neg", "pos"))
    y = r.youden()
    assert y["threshold"] == pytest.approx(0.4) and y["j"] == pytest.approx(1.0)
    from lab_workbench.engine.data import Split
    from lab_workbench.engine.evaluation.metrics import evaluate

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return torch.log(torch.from_numpy(probs).float())
    split = Split(torch.zeros(6, 1, 1, 1), torch.tensor([0, 0, 0, 1, 1, 1]), torch.arange(6))
    assert evaluate(Fixed(), split, ["neg", "pos"], threshold=0.4).accuracy == 1.0
    assert evaluate(Fixed(), split, ["neg", "pos"]).accuracy == pytest.approx(5 / 6)


def test_top_losses_and_gallery():
    r = report([0, 1, 2, 0], [0, 2, 2, 1])
    assert r.top_losses(2) == [1, 3]
    g = r.gallery(2)
    assert g["true positives"] == [2] and g["false positives"] == [1] and g["false negatives"] == []


@pytest.fixture
def trained(trained_runs, tmp_path_factory):
    """A folder holding runs/d, this test's own copy of the session's digits run."""
    cwd = tmp_path_factory.mktemp("eval")
    trained_runs.get("digits", into=cwd)
    return cwd


def test_eval_prints_the_report_and_writes_files(trained):
    r = run("eval", "runs/d", "--top-losses", "3", "--gallery", "8", cwd=trained)
    assert r.returncode == 0, r.stderr
    for needle in ("accuracy", "macro avg", "weighted avg", "true \\ predicted", "most confused", "ROC AUC",
                   "top 3 losses", "true positives of '8'", "false negatives"):
        assert needle in r.stdout
    out = trained / "runs" / "d" / "eval" / "test"
    assert {p.name for p in out.iterdir()} == {"metrics.json", "per_class.csv", "confusion.csv", "roc.csv",
                                               "predictions.csv"}
    metrics = json.loads((out / "metrics.json").read_text())
    results = json.loads((trained / "runs" / "d" / "results.json").read_text())
    assert metrics["accuracy"] == pytest.approx(results["test"]["accuracy"], abs=1e-6)
    preds = (out / "predictions.csv").read_text().splitlines()
    assert preds[0] == "index,true,predicted,confidence,loss" and len(preds) == metrics["samples"] + 1
    cm = np.loadtxt(out / "confusion.csv", delimiter=",", skiprows=1, usecols=range(1, 11))
    assert cm.sum() == metrics["samples"] and np.trace(cm) / cm.sum() == pytest.approx(metrics["accuracy"])


def test_eval_json_and_splits(trained):
    r = run("eval", "runs/d", "--json", "--checkpoint", "last", cwd=trained)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["split"] == "test"
    r = run("eval", "runs/d", "--splits", "train,val,test", cwd=trained)
    assert r.returncode == 0, r.stderr
    table = r.stdout.split("split")[-1]
    assert all(s in table for s in ("train", "val", "test"))
    # best.pt's files in eval/<split>; last.pt's in their own folder, never over them
    assert {p.name for p in (trained / "runs" / "d" / "eval").iterdir()} == {"train", "val", "test", "last.pt"}


def test_two_class_threshold_cli(tmp_path):
    assert run("train", "-e", "2", "--classes", "3,5", "--name", "b", cwd=tmp_path).returncode == 0
    r = lab_here("eval", "runs/b", cwd=tmp_path)
    assert "Youden's J, chosen on the val split" in r.stdout and "ROC operating points on test" in r.stdout
    table = r.stdout[r.stdout.index("ROC operating points"):].splitlines()[3:]
    shown = [line.split()[0] for line in table if line.strip() and line.split()[0][0].isdigit()]
    assert len(shown) == len(set(shown)) and "inf" not in shown  # no repeated threshold rows
    m = json.loads(lab_here("eval", "runs/b", "--json", cwd=tmp_path).stdout)
    y = m["youden"]
    assert y["chosen_on"] == "val" and set(y["on_this_split"]) == {"tpr", "fpr"}
    r = lab_here("eval", "runs/b", "--threshold", "0.9", "--json", cwd=tmp_path)
    assert json.loads(r.stdout)["threshold"] == 0.9
    assert json.loads(lab_here("eval", "runs/b", "--json", "--threshold-split", "test",
                               cwd=tmp_path).stdout)["youden"]["chosen_on"] == "test"
    assert lab_here("train", "-e", "1", "--classes", "3,5", "--val-split", "0", "--name", "nv",
                    cwd=tmp_path).returncode == 0
    assert json.loads(lab_here("eval", "runs/nv", "--json", cwd=tmp_path).stdout)["youden"]["chosen_on"] == "train"


def test_eval_bad_input(trained, tmp_path):
    def err(*args):
        r = lab_here("eval", *args, cwd=trained)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        return lines[0]
    assert "run folder not found" in err("runs/missing")
    assert "--split" in err("runs/d", "--split", "holdout")
    # a checkpoint whose tensors belong to another architecture
    ck = torch.load(trained / "runs" / "d" / "best.pt", weights_only=True)
    ck["config"]["hidden"] = [32]
    torch.save(ck, tmp_path / "other.pt")
    assert "does not match the model" in err(str(tmp_path / "other.pt"))
    # data with another image shape, or other classes, than the model
    write_h5(tmp_path / "six.h5", *make_images(60, 6, 6, classes=10))
    assert "model expects 1x8x8" in err("runs/d", "--data", str(tmp_path / "six.h5"))
    write_h5(tmp_path / "three.h5", *make_images(60, 8, 8, classes=3))
    assert "3 classes but the model predicts 10" in err("runs/d", "--data", str(tmp_path / "three.h5"))
    assert "--threshold" in err("runs/d", "--threshold", "0.5")


def test_png_figures(trained, tmp_path):
    pytest.importorskip("matplotlib")
    r = run("eval", "runs/d", "--gallery", "3", "--png", tmp_path / "figs", cwd=trained)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == ["confidence_test.png", "confusion_test.png", "gallery_3_test.png", "results.png",
                     "roc_test.png"]
    assert all((tmp_path / "figs" / n).read_bytes()[:4] == b"\x89PNG" for n in names)
    r = run("inspect-weights", "runs/d", "--hist", "1.weight", "--filters", "--png", tmp_path / "w", cwd=trained)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["filters_1.png", "hist_1.weight.png"]


def test_two_class_export_evaluates_on_the_same_classes(tmp_path):
    assert lab_here("train", "-e", "1", "--classes", "3,5", "--name", "b", cwd=tmp_path).returncode == 0
    assert lab_here("export", "runs/b", "--format", "safetensors", cwd=tmp_path).returncode == 0
    r = lab_here("eval", "runs/b/export/model.safetensors", "--dataset", "digits", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["classes"] == ["3", "5"]
    r = lab_here("train", "-e", "1", "--val-split", "0", "--name", "noval", cwd=tmp_path)
    r = lab_here("eval", "runs/noval", "--split", "val", cwd=tmp_path)
    assert r.returncode == 2 and "split is empty" in r.stderr


def test_bad_arguments_are_refused_before_any_report_is_printed(trained):
    r = lab_here("eval", "runs/d", "--gallery", "cat", cwd=trained)
    assert r.returncode == 2 and "--gallery" in r.stderr and r.stdout == ""
    r = lab_here("inspect-weights", "runs/d", "--hist", "no.such.layer", cwd=trained)
    assert r.returncode == 2 and "--hist" in r.stderr and r.stdout == ""


def test_curves_in_the_terminal(trained):
    r = lab_here("eval", "runs/d", "--curves", cwd=trained)
    assert r.returncode == 0, r.stderr
    assert "accuracy (%)" in r.stdout and "loss" in r.stdout and "\x1b" not in r.stdout
