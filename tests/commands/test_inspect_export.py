import json
import os
import subprocess

import numpy as np
import pytest
import torch

from tests.helpers import ROOT, lab_cmd, lab_here
from lab_workbench.engine.artifacts.export import FORMATS, export_model
from lab_workbench.engine.artifacts.loading import load_model
from lab_workbench.engine.models import list_models
from lab_workbench.engine.evaluation.weights import compare_states, tensor_stats, weight_table


run = lab_here  # in this process: the reports are the point, not the process boundary


def test_statistics_match_numpy():
    w = torch.tensor([[0.5, -0.0005, 2.0], [0.0, -1.5, 0.0002]])
    s = tensor_stats(w)
    a = w.numpy().astype(np.float64)
    assert s["count"] == 6 and s["shape"] == [2, 3]
    assert s["mean"] == pytest.approx(a.mean()) and s["std"] == pytest.approx(a.std())
    assert s["min"] == pytest.approx(a.min()) and s["max"] == pytest.approx(a.max())
    assert s["l2"] == pytest.approx(np.sqrt((a ** 2).sum()))
    assert s["near_zero"] == pytest.approx(3 / 6)
    table = weight_table({"w": w, "b": torch.ones(2), "bn.running_mean": torch.zeros(2)})
    assert [t["name"] for t in table["tensors"]] == ["w", "b"] and table["total"]["count"] == 8


def test_compare_and_mismatch():
    a = {"w": torch.tensor([1.0, 0.0]), "b": torch.tensor([1.0])}
    b = {"w": torch.tensor([0.0, 2.0]), "b": torch.tensor([1.0])}
    rows = compare_states(a, b)
    assert rows[0]["cosine"] == pytest.approx(0.0) and rows[0]["diff_l2"] == pytest.approx(np.sqrt(5))
    assert rows[1]["cosine"] == pytest.approx(1.0) and rows[1]["diff_l2"] == 0
    from lab_workbench.engine.core.errors import CheckpointError
    with pytest.raises(CheckpointError, match="differ at tensor 'w'"):
        compare_states(a, {"w": torch.zeros(3), "b": torch.ones(1)})


@pytest.fixture
def runs(trained_runs, tmp_path_factory):
    """A folder with this test's own copies of the session's runs/plain and runs/l2."""
    cwd = tmp_path_factory.mktemp("runs")
    for recipe in ("plain", "l2"):
        trained_runs.get(recipe, into=cwd)
    return cwd


def test_inspect_table_json_hist_filters(runs):
    r = run("inspect-weights", "runs/plain", "--json", cwd=runs)
    info = json.loads(r.stdout)
    assert info["total"]["count"] == sum(t["count"] for t in info["tensors"]) == 50826
    r = run("inspect-weights", "runs/plain", "--hist", "--filters", cwd=runs)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("values)") == len(info["tensors"])  # one histogram per tensor
    assert "filters of 1 (256" in r.stdout  # the first linear layer's rows as 8x8 templates
    r = run("inspect-weights", "runs/plain", "--hist", "3.weight", cwd=runs)
    assert r.stdout.count("values)") == 1


def test_inspect_compare_l2(runs):
    r = run("inspect-weights", "runs/plain", "--compare", "runs/l2", "--json", cwd=runs)
    rows = json.loads(r.stdout)
    assert rows[0]["b"]["l2"] < rows[0]["a"]["l2"]  # the L2-penalised model has smaller weights
    assert all(-1 <= row["cosine"] <= 1 for row in rows)


def test_inspect_errors(runs, trained_runs, tmp_path):
    trained_runs.get("logistic", into=runs)  # runs/lg
    r = lab_here("inspect-weights", "runs/plain", "--compare", "runs/lg", cwd=runs)
    assert r.returncode == 2 and "differ at tensor" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    r = lab_here("inspect-weights", str(tmp_path / "bad.pt"), cwd=runs)
    assert r.returncode == 2 and "not a readable checkpoint" in r.stderr and "Traceback" not in r.stderr
    r = lab_here("inspect-weights", "runs/plain", "--feature-maps", "0", cwd=runs)
    assert r.returncode == 2 and "no conv layers" in r.stderr


def test_feature_maps_of_a_cnn(tmp_path):
    assert run("train", "-e", "1", "--model", "cnn", "-K", "4,6", "-L", "1", "--name", "c", cwd=tmp_path).returncode == 0
    r = run("inspect-weights", "runs/c", "--feature-maps", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "0.0: 4 maps of 8x8" in r.stdout and "0.4: 6 maps of 4x4" in r.stdout


@pytest.fixture
def trained_once(trained_runs):
    """One run per model, shared by every export format (read only: exports go to the test's tmp_path)."""
    def get(name):
        return trained_runs.trained(name=name, model=name, epochs=1, subset=100,
                                    channels=[4, 8] if name in ("cnn", "resnet") else None)
    return get


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("name", [m.name for m in list_models()])
def test_every_model_exports_and_round_trips(trained_once, tmp_path, name, fmt):
    loaded = load_model(trained_once(name))
    x = torch.randn(5, 1, 8, 8)
    result = export_model(loaded, fmt, x, out=tmp_path / ("model" + FORMATS[fmt]))
    assert result.path.is_file() and result.max_diff <= 1e-4 and result.bytes > 0
    back = load_model(result.path, trust_code=True) if fmt in ("safetensors", "torchscript") else None
    if back is not None:
        assert torch.allclose(back.model(x), loaded.model(x), atol=1e-4)
    if fmt == "export":
        program = torch.export.load(str(result.path)).module()
        assert program(torch.randn(3, 1, 8, 8)).shape == (3, 10)  # dynamic batch dimension
    if fmt == "onnx":
        import onnxruntime as ort
        s = ort.InferenceSession(str(result.path))
        assert s.run(None, {"images": np.zeros((7, 1, 8, 8), np.float32)})[0].shape == (7, 10)


def test_export_cli_refuses_overwrite_and_eval_reads_exports(runs):
    r = lab_here("export", "runs/plain", "--format", "safetensors", cwd=runs)
    assert r.returncode == 0 and "max |difference|" in r.stdout, r.stderr
    r = lab_here("export", "runs/plain", "--format", "safetensors", cwd=runs)
    assert r.returncode == 2 and "--force" in r.stderr
    assert lab_here("export", "runs/plain", "--format", "safetensors", "--force", cwd=runs).returncode == 0
    assert lab_here("export", "runs/plain", "--format", "torchscript", "--method", "script", cwd=runs).returncode == 0
    expected = json.loads(lab_here("eval", "runs/plain", "--json", cwd=runs).stdout)["accuracy"]
    for f in ("runs/plain/export/model.safetensors", "runs/plain/export/model-script.torchscript.pt"):
        r = lab_here("eval", f, "--json", "--dataset", "digits", "--trust-code", cwd=runs)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["accuracy"] == pytest.approx(expected)


def test_failed_verification_removes_the_file(runs, monkeypatch):
    import lab_workbench.engine.artifacts.export as ex
    loaded = load_model(runs / "runs" / "plain")
    monkeypatch.setattr(ex, "TOLERANCE", -1.0)  # nothing can pass
    from lab_workbench.engine.core.errors import LabError
    with pytest.raises(LabError, match="failed verification"):
        export_model(loaded, "safetensors", torch.randn(4, 1, 8, 8), runs / "x.safetensors")
    assert not (runs / "x.safetensors").exists()
    assert not [p for p in runs.iterdir() if p.name.startswith(".x.safetensors")]


def test_missing_onnx_dependency_is_one_line(runs, tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "onnxscript.py").write_text("raise ImportError('blocked', name='onnxscript')\n")
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}
    r = subprocess.run(lab_cmd("export", "runs/plain", "--format", "onnx", "--out", tmp_path / "m.onnx"), cwd=runs,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "pip install 'lab-workbench[onnx]'" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "m.onnx").exists()


def test_exports_hold_only_the_model_and_eval_reads_every_format_into_its_own_folder(trained_runs, tmp_path):
    import zipfile
    run = trained_runs.get("logistic", into=tmp_path)  # runs/lg
    r = lab_here("eval", "runs/lg", "--json", cwd=tmp_path)
    expected = json.loads(r.stdout)["accuracy"]
    before = (run / "eval" / "test" / "metrics.json").read_bytes()
    params = sum(v.numel() * v.element_size() for v in torch.load(run / "best.pt")["model_state_dict"].values())
    for fmt in FORMATS:
        assert lab_here("export", "runs/lg", "--format", fmt, cwd=tmp_path).returncode == 0
    pt2 = run / "export" / "model.pt2"
    # the test images (359 x 8 x 8 floats = 92 kB) must not ride along as the example input
    assert pt2.stat().st_size < params + 40_000, (pt2.stat().st_size, params)
    assert {n.split("/")[0] for n in zipfile.ZipFile(pt2).namelist()} == {"archive"}  # not the temp name
    for f in sorted((run / "export").iterdir()):
        r = lab_here("eval", f, "--json", "--trust-code", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["accuracy"] == pytest.approx(expected)
        assert (run / "eval" / f.name / "test" / "metrics.json").is_file()
    assert (run / "eval" / "test" / "metrics.json").read_bytes() == before  # the checkpoint's files stay


def test_the_weight_table_says_what_each_layer_is(runs):
    r = lab_here("inspect-weights", "runs/plain", cwd=runs)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[2:] if line.strip()}
    assert "Linear 64->" in rows["1.weight"] and "Linear" in rows["1.bias"]
