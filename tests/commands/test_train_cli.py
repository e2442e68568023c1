import json
import os
import re
import signal
import subprocess

import pytest

from tests.helpers import ROOT, lab_cmd, lab_here, run_lab

ESC = re.compile(r"\x1b\[")


run = lab_here  # in this process, but for the first test: one real `python -m lab_workbench.commands train`


def only_run(cwd):
    runs = list((cwd / "runs").iterdir())
    assert len(runs) == 1
    return runs[0]


def test_train_writes_the_run_folder_and_one_line_per_epoch(tmp_path):
    r = run_lab("train", "--epochs", "3", "--subset", "300", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not ESC.search(r.stdout)
    epoch_lines = [line for line in r.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    run_dir = only_run(tmp_path)
    assert {p.name for p in run_dir.iterdir()} == {"config.json", "metrics.csv", "results.json", "best.pt", "last.pt",
                                                   "confusion.json", "progress.json", "checkpoints.json", ".lock"}
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 4
    assert run_dir.name.startswith("digits-mlp-")


def test_flags_map_to_the_config(tmp_path):
    r = run("train", "-e", "1", "--model", "cnn", "-K", "4,8", "-L", "1", "-H", "16", "--dropout", "0.3",
            "--optimizer", "sgd", "--nesterov", "--classes", "3,5", "--l2", "0.001", "--name", "x", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "runs" / "x" / "config.json").read_text())
    c = cfg["config"]
    assert (c["model"], c["channels"], c["layers_per_block"], c["hidden"]) == ("cnn", [4, 8], 1, [16])
    assert (c["dropout"], c["optimizer"], c["nesterov"], c["classes"], c["l2"]) == (0.3, "sgd", True, [3, 5], 0.001)
    assert cfg["data"]["classes"] == ["3", "5"]


def test_json_and_quiet(tmp_path):
    r = run("train", "-e", "1", "--subset", "200", "--json", cwd=tmp_path)
    assert r.returncode == 0
    results = json.loads(r.stdout)
    assert results["status"] == "completed" and len(results["history"]) == 1
    q = run("train", "-e", "1", "--subset", "200", "--quiet", cwd=tmp_path)
    assert q.returncode == 0 and q.stdout == "" and q.stderr == ""


def test_resume_continues(tmp_path):
    assert run("train", "-e", "2", "--subset", "200", "--name", "r", cwd=tmp_path).returncode == 0
    r = run("train", "--resume", "latest", "--epochs", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "resuming runs/r" in r.stdout
    assert [line.split()[1] for line in r.stdout.splitlines() if line.startswith("epoch ")] == ["3/3"]
    assert len(list((tmp_path / "runs").iterdir())) == 1


@pytest.mark.parametrize("args, needle", [
    (["--dataset", "imagenet"], "--dataset"),
    (["--model", "vit"], "--model"),
    (["--optimizer", "lbfgs"], "--optimizer"),
    (["--lr", "fast"], "--lr"),
    (["--epochs", "0"], "--epochs"),
    (["--hidden", "12,x"], "--hidden"),
    (["--data", "missing.h5"], "missing.h5"),
    (["--data", "bad.h5"], "bad.h5"),
    (["--dataset", "mnist", "--data-dir", "empty"], "train-images-idx3-ubyte"),
    (["--runs-dir", "blocked/runs"], "--runs-dir"),
    (["--resume", "nope"], "nope"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, needle):
    (tmp_path / "bad.h5").write_bytes(b"garbage")
    (tmp_path / "empty").mkdir()
    (tmp_path / "blocked").write_text("a file where a folder should be")
    r = run("train", "-e", "1", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], r.stderr


def test_sigterm_stops_cleanly(tmp_path):
    p = subprocess.Popen(lab_cmd("train", "--epochs", "500", "--name", "t"), cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    for line in p.stdout:
        if line.startswith("epoch 2/"):
            break
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    results = json.loads((tmp_path / "runs" / "t" / "results.json").read_text())
    assert results["status"] == "interrupted" and results["epochs_completed"] < 500
    assert (tmp_path / "runs" / "t" / "last.pt").is_file()


def test_models_lists_the_registry(tmp_path):
    r = run_lab("models", cwd=tmp_path)  # a fresh process: other tests register plugin models in this one
    assert r.returncode == 0
    assert [line.split()[0] for line in r.stdout.splitlines() if not line.startswith(" ")] == ["logistic", "mlp", "cnn", "convnet", "fastcnn", "resnet"]


# torchrun's two processes writing one run: test_process_count.py's straight run (one torchrun for both)


def test_without_a_validation_split_the_metrics_say_they_are_training_metrics(tmp_path):
    r = lab_here("train", "-e", "1", "--val-split", "0", "--name", "nv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "no validation split" in r.stdout and "train_eval_acc=" in r.stdout and " val_acc=" not in r.stdout
    assert json.loads((tmp_path / "runs" / "nv" / "results.json").read_text())["monitor"] == "train"
    assert json.loads((tmp_path / "runs" / "nv" / "confusion.json").read_text())["split"] == "train"
