"""Issue 25: a run's phase timings, bounded evaluation, and checkpoints serialised once."""

import json
from pathlib import Path

import torch

from lab_workbench.engine import train
from lab_workbench.engine.evaluation.metrics import sample_split
from lab_workbench.engine.runs import checkpoint
from lab_workbench.engine.training import loop
from lab_workbench.engine.contract.events import RunEnded
from tests.helpers import cfg


def test_results_record_where_the_wall_time_went(tmp_path):
    events = []
    h = train(cfg(tmp_path), on_event=events.append)
    timings = json.loads((Path(h.run_dir) / "results.json").read_text())["timings"]
    for phase in ("startup", "data", "setup", "train", "validation", "checkpoints", "test", "other", "wall"):
        assert timings[phase] >= 0, phase
    assert timings["train"] > 0 and timings["checkpoints"] > 0
    phases = sum(v for k, v in timings.items() if k != "wall")
    assert abs(phases - timings["wall"]) < 0.01  # every second of the wall is in one phase or in 'other'
    assert sum(r["seconds"] for r in h.rows) <= timings["train"] + 1e-6
    assert events[-1].timings == timings and isinstance(events[-1], RunEnded)


def test_eval_subset_bounds_the_test_score_and_the_default_is_the_whole_split(tmp_path):
    whole = train(cfg(tmp_path, epochs=1, name="whole"))
    part = train(cfg(tmp_path, epochs=1, name="part", eval_subset=50))
    test_whole = json.loads((Path(whole.run_dir) / "results.json").read_text())["test"]
    test_part = json.loads((Path(part.run_dir) / "results.json").read_text())["test"]
    assert test_whole["samples"] == 359 and test_part["samples"] == 50  # digits: 20% of 1797 held out


def test_sample_split_is_seeded_ordered_and_bounded():
    from lab_workbench.engine.data.dataset import Split
    split = Split(torch.arange(100.0)[:, None], torch.arange(100) % 10, torch.arange(100))
    a, b = sample_split(split, 30, seed=1), sample_split(split, 30, seed=1)
    assert len(a) == 30 and torch.equal(a.index, b.index) and bool((a.index.diff() > 0).all())
    assert torch.equal(a.x[:, 0].long(), a.index) and sample_split(split, 200) is split
    assert not torch.equal(sample_split(split, 30, seed=2).index, a.index)


def test_without_a_validation_split_epochs_score_a_bounded_sample_of_the_training_data(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "TRAIN_MONITOR_MAX", 100)
    h = train(cfg(tmp_path, epochs=1, val_split=0.0))
    confusion = json.loads((Path(h.run_dir) / "confusion.json").read_text())
    assert confusion["split"] == "train" and sum(map(sum, confusion["matrix"])) == 100


def test_best_and_last_checkpoints_are_serialised_once(tmp_path, monkeypatch):
    calls = []
    real_save = torch.save

    def counting_save(obj, f, *a, **kw):
        calls.append(obj.get("epoch") if isinstance(obj, dict) else None)
        return real_save(obj, f, *a, **kw)
    monkeypatch.setattr(checkpoint.torch, "save", counting_save)
    h = train(cfg(tmp_path, epochs=1))
    assert calls == [1]  # epoch 1 improved: best.pt and last.pt hold the same bytes, written from one save
    assert (Path(h.run_dir) / "best.pt").read_bytes() == (Path(h.run_dir) / "last.pt").read_bytes()


def test_the_built_in_data_set_names_match_the_registered_ones():
    import subprocess
    import sys
    code = ("import sys; from lab_workbench.engine.settings.config import BUILTIN_DATASETS, _dataset_names; "
            "assert _dataset_names() == BUILTIN_DATASETS and 'numpy' not in sys.modules; "
            "from lab_workbench.engine.data.sources import list_datasets; assert tuple(list_datasets()) == BUILTIN_DATASETS")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_validation_runs_at_the_training_precision_and_the_test_score_in_fp32(tmp_path, monkeypatch):
    seen = []
    real = loop.loss_acc_confusion

    def recording(model, split, num_classes, top5=False, progress=None):
        seen.append(torch.is_autocast_enabled("cpu"))
        return real(model, split, num_classes, top5=top5, progress=progress)
    monkeypatch.setattr(loop, "loss_acc_confusion", recording)
    h = train(cfg(tmp_path, epochs=1, subset=200, precision="bf16", device="cpu"))
    assert seen == [True, False] and 0 < h.test_acc <= 1


def test_a_checkpoint_is_written_while_the_next_epoch_trains(tmp_path, monkeypatch):
    import threading
    from lab_workbench.engine.runs import writer
    from lab_workbench.engine.contract.events import BatchEnded
    real, next_epoch_ran, waited = writer.save_checkpoint, threading.Event(), []

    def slow_disk(path, state, data):
        if state["epoch"] == 1 and path.name == "last.pt":  # held until epoch 2 has trained its batches
            waited.append(next_epoch_ran.wait(timeout=20))
        real(path, state, data)

    def on_event(event):
        if isinstance(event, BatchEnded) and event.epoch == 2:
            next_epoch_ran.set()
    monkeypatch.setattr(writer, "save_checkpoint", slow_disk)
    h = train(cfg(tmp_path, epochs=2), on_event=on_event)
    assert waited == [True] and h.status == "completed"
    assert checkpoint.load_checkpoint(Path(h.run_dir) / "last.pt")["epoch"] == 2
