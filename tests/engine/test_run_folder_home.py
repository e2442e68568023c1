"""Issue 21, point 1: RunFolder is the one home of the run folder; a run's result has one shape."""

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.runs import RunFolder, RunResult, read_run, run_of_file
from lab_workbench.engine.runs.writer import RunWriter
from lab_workbench.engine.contract.events import History, RunEnded

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("config.json", "metrics.csv", "results.json", "progress.json", "checkpoints.json", "confusion.json",
         "boundary.json", "best.pt", "last.pt", ".lock", "sweep.json", "trackers.json", "tb")
HOME = ROOT / "engine" / "runs" / "names.py"


def _code_strings(path: Path):
    """(line, text) of the string constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs:
            yield n.lineno, n.value


def test_run_file_names_are_spelled_in_one_place():
    # a path built from a literal ("config.json", f"{run}/results.json") anywhere but names.py is a second home
    found = []
    for face in ("engine", "commands", "tui"):
        for path in sorted((ROOT / face).rglob("*.py")):
            if path == HOME or not any(n in path.read_text() for n in NAMES):  # parse only the candidates
                continue
            for line, text in _code_strings(path):
                if any(text == n or text.endswith("/" + n) or text.startswith(n + "/") for n in NAMES):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert found == []
    assert all(n in HOME.read_text() for n in NAMES)


def test_a_property_per_file_and_is_run(tmp_path):
    run = RunFolder(tmp_path / "r")
    for prop, name in [("config", "config.json"), ("metrics", "metrics.csv"), ("results", "results.json"),
                       ("progress", "progress.json"), ("checksums", "checkpoints.json"), ("best", "best.pt"),
                       ("last", "last.pt"), ("lock_file", ".lock"), ("eval_dir", "eval"), ("export_dir", "export"),
                       ("trackers", "trackers.json"), ("tb_dir", "tb")]:
        assert getattr(run, prop) == tmp_path / "r" / name
    run.path.mkdir()
    assert not run.is_run() and run.read_results() is None and run.existing_checkpoint() is None
    with pytest.raises(CheckpointError, match="no config.json"):
        run.require_run()
    run.write_config({"config": {"epochs": 1}})
    assert run.is_run() and run.read_config() == {"config": {"epochs": 1}}
    run.last.write_bytes(b"x")
    assert run.existing_checkpoint("best") == run.last  # no best.pt: the other one
    assert run_of_file(run.last) == run.path and run_of_file(run.path / "export" / "m.onnx", up=2) == run.path
    assert run_of_file("m.onnx", up=2) is None  # a bare file name in the working folder is in no run


def test_the_folder_lock_and_eval_folder_refuse_what_they_must(tmp_path):
    run = RunFolder(tmp_path)
    with run.lock():
        with pytest.raises(CheckpointError, match="in use"):
            run.lock().acquire()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", run.eval_dir)
    with pytest.raises(CheckpointError, match="symlink"):
        run.eval_folder()


def _ended(run_dir: str) -> RunEnded:
    rows = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5, "val_loss": 1.0, "val_acc": 0.4 + e / 10,
             "lr": 0.1, "seconds": 0.25} for e in (1, 2)]
    history = History(rows=rows, best_epoch=2, best_val_acc=0.6, run_dir=run_dir)
    return RunEnded("completed", history, {"loss": 0.7, "accuracy": 0.75}, timings={"wall": 1.0})


def test_one_result_shape_from_the_event_to_results_json_and_back(tmp_path):
    assert History is RunResult  # train()'s return value is the shape results.json is read back into
    event = _ended(str(tmp_path))
    RunWriter(tmp_path)(event)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["history"] == event.history.rows and saved["seconds"] == 0.5 and saved["epochs_completed"] == 2
    back = read_run(tmp_path).result
    assert back.summary() == RunResult.of(event).summary()
    assert back.test_acc == 0.75 and back.column("epoch") == [1, 2]


def test_json_lines_prints_the_same_summary():
    from lab_workbench.commands.render import event_json
    event = _ended("runs/x")
    line = json.loads(event_json(event))
    assert {k: line[k] for k in RunResult.of(event).summary()} == RunResult.of(event).summary()


def test_a_hostile_results_json_reads_as_absent_fields(tmp_path):
    RunFolder(tmp_path).write_config({"config": {}})
    (tmp_path / "results.json").write_text(json.dumps({"status": 3, "history": "no", "test": [1],
                                                       "best_val_acc": 1e300, "best_epoch": True}))
    result = read_run(tmp_path).result
    assert (result.status, result.rows, result.test_acc, result.best_val_acc, result.best_epoch) == \
        ("", [], None, None, None)


PACKAGES = ["lab_workbench.engine.runs", "lab_workbench.engine.artifacts", "lab_workbench.engine.evaluation", "lab_workbench.engine.runtime"]


def test_packages_do_not_pull_in_torch():
    code = f"import importlib, sys; [importlib.import_module(p) for p in {PACKAGES!r}]; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"  # the names load on first use


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    assert module.__all__ and all(getattr(module, n) is not None for n in module.__all__)
