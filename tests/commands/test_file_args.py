"""Every file argument is checked before the data loads; --init-from RUN takes the run's architecture; an
unknown model name suggests the torchvision one."""

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT, lab_env, lab_here


@pytest.fixture
def no_data_load(monkeypatch):
    """The data must not load: a file argument's error comes first."""
    import lab_workbench.engine.training.trainer as trainer

    def refuse(*a, **k):
        raise AssertionError("the data loaded before the file arguments were checked")
    monkeypatch.setattr(trainer, "load_dataset", refuse)


@pytest.mark.parametrize("args, expected", [
    (["--data", "nope.h5"], "--data nope.h5: file not found"),
    (["-m", "tv:squeezenet1_1", "--weights", "nope.pt"], "--weights nope.pt: no such file"),
    (["--weights", "w.pt"], "--weights: only for torchvision models"),
    (["--init-from", "nope"], "--init-from nope: no such run folder or weights file"),
    (["--init-from", "empty"], "--init-from empty: a folder that is no run"),
    (["--init-from", "w.pt", "-m", "tv:squeezenet1_1", "--weights", "w.pt"], "--weights: give --init-from or"),
    (["--config", "nope.yaml"], "--config nope.yaml: cannot read"),
])
def test_file_arguments_fail_before_the_data_loads(tmp_path, no_data_load, args, expected):
    (tmp_path / "empty").mkdir()
    (tmp_path / "w.pt").write_bytes(b"not really weights")
    r = lab_here("train", "-e", "1", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith(f"error: {expected}"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_checks_import_no_torch(tmp_path):
    code = ("import sys; from lab_workbench.engine.settings.config import TrainConfig; from lab_workbench.engine.launch.preflight import check_inputs\n"
            "try:\n    check_inputs(TrainConfig(init_from='nope'))\nexcept Exception as e:\n    print(e)\n"
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=lab_env())
    assert r.stdout.splitlines() == ["--init-from nope: no such run folder or weights file", "False"], r.stderr


def test_init_from_a_run_takes_its_architecture(tmp_path):
    r = lab_here("train", "-e", "1", "--subset", "100", "-m", "cnn", "-K", "4,8", "-L", "1", "-H", "16",
                 "--activation", "gelu", "--name", "a", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for ref, name in (("runs/a", "b"), ("a", "c")):  # a folder, or a name under --runs-dir
        r = lab_here("train", "-e", "1", "--subset", "100", "--init-from", ref, "--name", name, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        cfg = json.loads((tmp_path / "runs" / name / "config.json").read_text())["config"]
        assert (cfg["model"], cfg["channels"], cfg["layers_per_block"], cfg["hidden"], cfg["activation"]) == \
            ("cnn", [4, 8], 1, [16], "gelu")
        assert "weights from" in r.stdout.splitlines()[0]
    # a flag given still wins (and a shape that then differs is named)
    r = lab_here("train", "-e", "1", "--init-from", "a", "-K", "4,4", "--name", "d", cwd=tmp_path)
    assert r.returncode == 2 and "has shape" in r.stderr, r.stderr


@pytest.mark.parametrize("model, hint", [("resnet50", "tv:resnet50"), ("vit_b_16", "tv:vit_b_16"),
                                         ("resnt", "resnet")])
def test_unknown_model_suggests_torchvision_names(tmp_path, model, hint):
    r = lab_here("train", "--model", model, cwd=tmp_path)
    assert r.returncode == 2
    assert f"(did you mean {hint!r}?)" in r.stderr, r.stderr


def test_a_sweep_folder_is_named_as_one(tmp_path):
    from tests.helpers import fake_run
    sweep = tmp_path / "runs" / "l2"
    fake_run(sweep, "l2=0.01", "mlp", "digits", [0.5], 0.5)
    (sweep / "sweep.json").write_text("{}")
    for args in (["inspect-weights", "runs/l2"], ["train", "--init-from", "runs/l2"]):
        r = lab_here(*args, cwd=tmp_path)
        assert r.returncode == 2, r.stdout
        assert "a sweep's folder, not a run" in r.stderr and "runs/l2/l2=0.01" in r.stderr, r.stderr
