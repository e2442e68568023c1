"""--log-to tensorboard,mlflow: read back with TensorBoard's own event reader and MLflow's client."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.helpers import lab_here

TRAIN = ["train", "--subset", "200", "-H", "16", "--threads", "1"]


def test_tensorboard_events_hold_metrics_lr_hparams_and_confusion_image(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    r = lab_here(*TRAIN, "-e", "2", "--log-to", "tensorboard", "--name", "tb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    acc = EventAccumulator(str(tmp_path / "runs" / "tb" / "tb"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    rows = (tmp_path / "runs" / "tb" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    for key in ("train_loss", "val_acc", "lr"):
        events = acc.Scalars(key)
        assert [e.step for e in events] == [1, 2]
        want = [float(line.split(",")[header.index(key)]) for line in rows[1:]]
        assert [e.value for e in events] == pytest.approx(want, rel=1e-5)
    assert "confusion" in tags["images"]
    image = acc.Images("confusion")[-1]
    assert image.width == image.height == 10 * 16
    plugins = acc.PluginTagToContent("hparams")
    hparams_blob = b"".join(plugins.values())
    assert b"optimizer" in hparams_blob and b"adam" in hparams_blob


def test_missing_or_unreachable_tracker_warns_and_trains_or_fails_when_strict(tmp_path):
    bad = ["--log-to", "mlflow", "--mlflow-uri", "http://127.0.0.1:9"]
    r = lab_here(*TRAIN, "-e", "1", *bad, "--name", "w", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("warning: --log-to mlflow: http://127.0.0.1:9 is not reachable")
    assert json.loads((tmp_path / "runs" / "w" / "results.json").read_text())["status"] == "completed"
    r = lab_here(*TRAIN, "-e", "1", *bad, "--log-to-strict", "--name", "s", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: --log-to mlflow: http://127.0.0.1:9 is not reachable")
    assert not (tmp_path / "runs" / "s").exists()
    r = lab_here(*TRAIN, "--log-to", "wandb", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: --log-to: expected a list of tensorboard, mlflow")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """One real `mlflow server` for this file's tests (its start costs more than their runs)."""
    pytest.importorskip("mlflow")
    tmp_path = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                             "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
                             "--artifacts-destination", str(tmp_path / "artifacts"), "--workers", "1"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 240
        while True:
            try:
                with urllib.request.urlopen(uri + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"mlflow server did not start (exit {proc.poll()})")
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)


@pytest.mark.slow
def test_mlflow_run_has_params_metrics_results_artifacts_and_resume_continues_it(tmp_path, mlflow_server):
    from mlflow.tracking import MlflowClient
    args = [*TRAIN, "--log-to", "mlflow", "--mlflow-uri", mlflow_server, "--name", "m"]
    r = lab_here(*args, "-e", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr
    run_id = json.loads((tmp_path / "runs" / "m" / "trackers.json").read_text())["mlflow"]["run_id"]
    r = lab_here("train", "--resume", "runs/m", "-e", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "runs" / "m" / "trackers.json").read_text())["mlflow"]["run_id"] == run_id
    client = MlflowClient(tracking_uri=mlflow_server)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "m"
    assert run.data.params["hidden"] == "[16]" and run.data.params["subset"] == "200"
    assert [m.step for m in client.get_metric_history(run_id, "val_acc")] == [1, 2]
    results = json.loads((tmp_path / "runs" / "m" / "results.json").read_text())
    assert run.data.metrics["best_val_acc"] == pytest.approx(results["best_val_acc"])
    assert run.data.metrics["test_accuracy"] == pytest.approx(results["test"]["accuracy"])
    assert {a.path for a in client.list_artifacts(run_id)} == {"best.pt", "config.json"}


@pytest.mark.slow
def test_mlflow_server_json_stdout_parses(tmp_path, mlflow_server):
    # here, not in test_tracker_stdout.py, so that both MLflow tests share one server
    from tests.commands.test_tracker_stdout import assert_only_lab_output
    for flag, name in (("--json", "a"), ("--json-lines", "b")):
        r = lab_here(*TRAIN, "-e", "1", "--log-to", "mlflow", "--mlflow-uri", mlflow_server, flag, "--name", name,
                     cwd=tmp_path)
        assert_only_lab_output(r, flag == "--json-lines")
        assert "View run" in r.stderr  # MLflow's own line, kept, on stderr
