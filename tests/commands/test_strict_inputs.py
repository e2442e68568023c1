"""Inputs that issue 32 found wrongly refused, silently accepted or crashing outside the bad-input table:
--classes 0, --noise -0, a config.json nested 100,000 deep for runs and compare, a tracker that fails during
a --log-to-strict run, and an output encoding that cannot write a run's name."""

import json
import subprocess

import pytest

from tests.helpers import lab_cmd, lab_env, lab_here


def _config(run) -> dict:
    return json.loads((run / "config.json").read_text())["config"]


def test_classes_take_label_zero(tmp_path):
    got = lab_here("train", "--classes", "0,1", "--epochs", "1", "--subset", "200", "--name", "c01", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert _config(tmp_path / "runs" / "c01")["classes"] == [0, 1]


def test_a_yaml_bool_is_not_a_class(tmp_path):
    (tmp_path / "c.yaml").write_text("classes: [true, 2]\n")
    got = lab_here("train", "--config", "c.yaml", "--epochs", "1", cwd=tmp_path)
    assert got.returncode == 2 and "c.yaml: key 'classes'" in got.stderr
    assert not (tmp_path / "runs").exists()


def test_noise_minus_zero_is_zero(tmp_path):
    got = lab_here("train", "--dataset", "moons", "--noise", "-0", "--epochs", "1", "--name", "m", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert _config(tmp_path / "runs" / "m")["noise"] == 0.0


def test_a_config_json_nested_deep_is_listed_not_a_traceback(tmp_path):
    deep = tmp_path / "runs" / "deep"
    deep.mkdir(parents=True)
    (deep / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    for args in (["runs"], ["runs", "--json"], ["compare", "runs/deep"]):
        got = lab_here(*args, cwd=tmp_path)
        assert got.returncode == 0 and "Traceback" not in got.stderr, (args, got.stderr)


def test_a_tracker_failing_during_a_strict_run_is_an_error(tmp_path):
    """RUN/tb is a file: TensorBoard cannot start; --log-to-strict says so (exit 2), without it the run ends 0."""
    assert lab_here("train", "--epochs", "1", "--subset", "200", "--name", "r", cwd=tmp_path).returncode == 0
    (tmp_path / "runs" / "r" / "tb").write_text("a file where TensorBoard's folder goes")
    got = lab_here("train", "--resume", "runs/r", "--epochs", "2", "--log-to", "tensorboard", "--log-to-strict",
                   cwd=tmp_path)
    assert got.returncode == 2, got.stderr
    assert got.stderr.strip().splitlines()[-1].startswith("error: --log-to tensorboard: failed during the run")
    assert json.loads((tmp_path / "runs" / "r" / "results.json").read_text())["status"] == "completed"
    got = lab_here("train", "--resume", "runs/r", "--epochs", "3", "--no-log-to-strict", cwd=tmp_path)
    assert got.returncode == 0, got.stderr



def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def test_a_tracker_failing_during_a_run_is_one_warning_and_the_run_trains(tmp_path):
    """Without --log-to-strict, a tracker that fails during the run (RUN/tb a file) is not only a line in
    trackers.json: stderr gets one warning naming the tracker and why; the run completes, exit 0."""
    assert lab_here("train", "--epochs", "1", "--subset", "200", "--name", "r", cwd=tmp_path).returncode == 0
    (tmp_path / "runs" / "r" / "tb").write_text("a file where TensorBoard's folder goes")
    got = lab_here("train", "--resume", "runs/r", "--epochs", "2", "--log-to", "tensorboard", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    warned = _warnings(got.stderr)
    assert len(warned) == 1, got.stderr
    assert warned[0].startswith("warning: --log-to tensorboard: failed during the run (") and "tb" in warned[0]
    assert json.loads((tmp_path / "runs" / "r" / "results.json").read_text())["status"] == "completed"
    assert "error" in json.loads((tmp_path / "runs" / "r" / "trackers.json").read_text())["tensorboard"]


def test_an_mlflow_store_that_refuses_warns_or_fails_when_strict(tmp_path):
    """--mlflow-uri names a file, not a store: found only when the run starts logging. A warning line and
    exit 0; with --log-to-strict, exit 2 naming mlflow (the run folder is complete either way)."""
    pytest.importorskip("mlflow")
    (tmp_path / "store").write_text("not an MLflow store")
    flags = ["train", "--epochs", "1", "--subset", "200", "--log-to", "mlflow", "--mlflow-uri", "store"]
    got = lab_here(*flags, "--name", "w", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    warned = _warnings(got.stderr)
    assert len(warned) == 1 and warned[0].startswith("warning: --log-to mlflow: failed during the run ("), got.stderr
    got = lab_here(*flags, "--log-to-strict", "--name", "s", cwd=tmp_path)
    assert got.returncode == 2, got.stderr
    assert got.stderr.strip().splitlines()[-1].startswith("error: --log-to mlflow: failed during the run (")
    assert json.loads((tmp_path / "runs" / "s" / "results.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("flags", [["--warmup", "3", "--epochs", "3"], ["--warmup", "4.5", "--epochs", "2"],
                                   ["--scheduler", "onecycle", "--warmup", "3", "--epochs", "3"]])
def test_a_warmup_as_long_as_the_run_is_one_line_not_a_silent_run(tmp_path, flags):
    """--warmup N epochs in a run of N epochs or fewer: the lr would never reach --lr; refused before a folder."""
    got = lab_here("train", "--subset", "200", *flags, cwd=tmp_path)
    warmup, epochs = flags[flags.index("--warmup") + 1], flags[flags.index("--epochs") + 1]
    assert got.returncode == 2, got.stderr
    assert got.stderr.startswith(f"error: --warmup {warmup}: ") and f"--epochs {epochs}" in got.stderr
    assert len(got.stderr.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()


def test_a_recipes_warmup_longer_than_a_shortened_run_names_the_recipe(tmp_path):
    got = lab_here("train", "--recipe", "fast", "--dataset", "cifar10", "--epochs", "2", cwd=tmp_path)
    assert got.returncode == 2 and got.stderr.startswith("error: --warmup 2 (from --recipe fast): "), got.stderr


def test_a_warmup_shorter_than_the_run_trains(tmp_path):
    got = lab_here("train", "--subset", "200", "--warmup", "1.5", "--epochs", "2", "--name", "w", cwd=tmp_path)
    assert got.returncode == 0, got.stderr


def test_the_engine_refuses_a_warmup_as_long_as_the_run(tmp_path):
    from lab_workbench.engine.settings.config import config_from_text
    from lab_workbench.engine.core.errors import ConfigError
    from lab_workbench.engine.training.trainer import train
    cfg = config_from_text({"dataset": "moons", "epochs": "2", "warmup": "2", "runs_dir": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"^--warmup 2: .*--epochs 2"):
        train(cfg)
    assert not list(tmp_path.iterdir())

def test_an_ascii_terminal_gets_escapes_not_a_traceback(tmp_path):
    run = tmp_path / "runs" / "caf\u00e9"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"config": {"model": "mlp", "dataset": "digits"}}))
    done = subprocess.run(lab_cmd("runs"), cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=lab_env(PYTHONIOENCODING="ascii"))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "caf\\xe9" in done.stdout
