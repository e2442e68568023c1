"""Inputs that issue 32 found wrongly refused, silently accepted or crashing outside the bad-input table:
--classes 0, --noise -0, a config.json nested 100,000 deep for runs and compare, a tracker that fails during
a --log-to-strict run, and an output encoding that cannot write a run's name."""

import json
import subprocess

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


def test_an_ascii_terminal_gets_escapes_not_a_traceback(tmp_path):
    run = tmp_path / "runs" / "caf\u00e9"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"config": {"model": "mlp", "dataset": "digits"}}))
    done = subprocess.run(lab_cmd("runs"), cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=lab_env(PYTHONIOENCODING="ascii"))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "caf\\xe9" in done.stdout
