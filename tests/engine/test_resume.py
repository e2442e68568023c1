"""Exact resume: a run stopped anywhere and resumed ends bitwise equal to one that never stopped."""

import json
import os
from functools import partial

import pytest
import torch

from lab_workbench.engine import train
from lab_workbench.engine.core.errors import CheckpointError, ConfigError
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from lab_workbench.engine.runs import read_metrics
from lab_workbench.engine.training.trainer import resume_config
from tests import helpers

COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]  # all but seconds
cfg = partial(helpers.cfg, epochs=6, subset=300, model="mlp", hidden=[32], dropout=0.2)


def stop_at(n: int, reason="interrupted"):
    """should_stop that asks to stop before the n-th batch of the run (what SIGTERM does via StopFlag)."""
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return reason if calls["n"] == n else None
    return should_stop


def assert_same_run(a_dir, b_dir):
    a, b = load_checkpoint(os.path.join(a_dir, "last.pt")), load_checkpoint(os.path.join(b_dir, "last.pt"))
    for k, v in a["model_state_dict"].items():
        assert torch.equal(v, b["model_state_dict"][k]), k
    sa, sb = a["optimizer_state_dict"]["state"], b["optimizer_state_dict"]["state"]
    assert sa.keys() == sb.keys()
    for i in sa:
        for k in sa[i]:
            assert torch.equal(torch.as_tensor(sa[i][k]), torch.as_tensor(sb[i][k])), (i, k)
    assert a["scheduler_state_dict"] == b["scheduler_state_dict"]
    assert a.get("scaler_state_dict") == b.get("scaler_state_dict") and a.get("ema_updates") == b.get("ema_updates")
    for k, v in (a.get("raw_model_state_dict") or {}).items():
        assert torch.equal(v, b["raw_model_state_dict"][k]), k
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"]) and torch.equal(a["rng"]["generator"],
                                                                              b["rng"]["generator"])
    ra = [{k: r[k] for k in COLUMNS} for r in read_metrics(os.path.join(a_dir, "metrics.csv"))]
    rb = [{k: r[k] for k in COLUMNS} for r in read_metrics(os.path.join(b_dir, "metrics.csv"))]
    assert ra == rb and len(ra) == a["epoch"]


@pytest.mark.parametrize("extra", [dict(scheduler="onecycle", optimizer="sgd", lr=0.05, nesterov=True),
                                   dict(scheduler="plateau", augment="crop"),
                                   dict(scheduler="step", step_size=2, model="cnn", channels=[4], hidden=None),
                                   # fp16 with its grad scaler, an EMA, clipping, warm-up and label smoothing
                                   dict(precision="fp16", ema=0.9, clip_grad=0.5, warmup=1.5, label_smoothing=0.1),
                                   dict(model="fastcnn", channels=[4, 8], hidden=None, dropout=None,
                                        precision="bf16", augment="shift", ema=0.99, scheduler="onecycle",
                                        warmup=2.0, optimizer="sgd", lr=0.05)])
def test_a_run_stopped_mid_epoch_resumes_bitwise_exactly(tmp_path, extra):
    c = cfg(tmp_path, **extra)
    full = train(c.replace(name="full"))
    steps = 9  # 270 training samples / 32
    # stop in the middle of epoch 4: 3 full epochs and 4 batches
    stopped = train(c.replace(name="stopped"), should_stop=stop_at(3 * steps + 5))
    assert stopped.status == "interrupted" and len(stopped.rows) == 3
    ck = load_checkpoint(os.path.join(stopped.run_dir, "last.pt"))
    assert ck["epoch"] == 3 and ck["epoch_step"] == 4  # where in epoch 4 it stopped
    c2, run_dir = resume_config(stopped.run_dir, runs_dir=c.runs_dir)
    resumed = train(c2, resume=run_dir)
    assert resumed.status == "completed" and [r["epoch"] for r in resumed.rows] == [1, 2, 3, 4, 5, 6]
    assert_same_run(full.run_dir, resumed.run_dir)


def test_three_epochs_then_resume_to_six_equals_six(tmp_path):
    c = cfg(tmp_path, scheduler="step", step_size=2, gamma=0.5)
    full = train(c.replace(name="full"))
    short = train(c.replace(name="short", epochs=3))
    c2, run_dir = resume_config(short.run_dir, runs_dir=c.runs_dir, epochs=6)
    train(c2, resume=run_dir)
    assert_same_run(full.run_dir, short.run_dir)


def test_a_resume_records_itself_and_updates_config_json(tmp_path):
    h = train(cfg(tmp_path, epochs=2), should_stop=stop_at(12))
    c2, run_dir = resume_config(h.run_dir, runs_dir=str(tmp_path / "runs"), epochs=4, patience=3)
    train(c2, resume=run_dir)
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["config"]["epochs"] == 4 and saved["config"]["patience"] == 3
    assert len(saved["resumes"]) == 1
    assert saved["resumes"][0]["epoch"] == 1 and saved["resumes"][0]["step"] == 2  # 11 batches: 9 + 2
    assert saved["resumes"][0]["changes"] == {"epochs": 4, "patience": 3}


@pytest.mark.parametrize("change, flag", [({"hidden": [64]}, "--hidden"), ({"optimizer": "sgd"}, "--optimizer"),
                                          ({"model": "cnn"}, "--model"), ({"subset": 100}, "--subset"),
                                          ({"dataset": "mnist"}, "--dataset")])
def test_a_resume_refuses_a_change_of_architecture_data_or_optimizer(tmp_path, change, flag):
    h = train(cfg(tmp_path, epochs=1))
    with pytest.raises(ConfigError, match=f"^{flag}: cannot change on resume"):
        resume_config(h.run_dir, runs_dir=str(tmp_path / "runs"), epochs=2, **change)


def test_a_resume_with_fewer_epochs_than_done_is_an_error(tmp_path):
    h = train(cfg(tmp_path, epochs=2))
    c2, run_dir = resume_config(h.run_dir, runs_dir=str(tmp_path / "runs"), epochs=1)
    with pytest.raises(ConfigError, match="--epochs 1: the run already has 2 epochs"):
        train(c2, resume=run_dir)


def test_a_foreign_last_pt_is_a_one_line_error(tmp_path):
    a = train(cfg(tmp_path, epochs=1, name="a"))
    b = train(cfg(tmp_path, epochs=1, name="b", hidden=[8]))
    os.replace(os.path.join(b.run_dir, "last.pt"), os.path.join(a.run_dir, "last.pt"))
    os.remove(os.path.join(a.run_dir, "checkpoints.json"))  # else the checksum check refuses it first
    c2, run_dir = resume_config(a.run_dir, runs_dir=str(tmp_path / "runs"), epochs=2)
    with pytest.raises(CheckpointError, match="does not match this run's model"):
        train(c2, resume=run_dir)


def test_a_diverged_run_keeps_the_last_finite_checkpoint(tmp_path):
    h = train(cfg(tmp_path, epochs=1, optimizer="sgd", lr=0.05))
    good = load_checkpoint(os.path.join(h.run_dir, "last.pt"))
    c2, run_dir = resume_config(h.run_dir, runs_dir=str(tmp_path / "runs"), epochs=3, lr=1e9)
    bad = train(c2, resume=run_dir)
    assert bad.status == "diverged" and len(bad.rows) == 1
    after = load_checkpoint(run_dir / "last.pt")
    assert after["epoch"] == 1
    for k, v in good["model_state_dict"].items():
        assert torch.equal(v, after["model_state_dict"][k])
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "diverged" and results["diverged_at"]["epoch"] == 2
    assert 1 <= results["diverged_at"]["step"] <= 9


def test_a_loss_that_explodes_but_stays_finite_is_diverged(tmp_path):
    h = train(cfg(tmp_path, epochs=3, optimizer="adam", lr=1e9, dropout=None, hidden=None))
    assert h.status == "diverged"
    results = json.loads(open(os.path.join(h.run_dir, "results.json")).read())
    assert results["diverged_at"]["epoch"] == 1


def test_paused_time_is_not_training_time(tmp_path, monkeypatch):
    import time
    calls, clock = {"n": 0}, {"t": 0.0}

    def tick() -> float:  # a clock that a loaded machine cannot slow down: 0.1 ms a reading
        clock["t"] += 1e-4
        return clock["t"]

    def pause_once():
        calls["n"] += 1
        if calls["n"] == 3:
            clock["t"] += 1000.0  # labtui's pause blocks inside should_stop
    monkeypatch.setattr(time, "perf_counter", tick)
    h = train(cfg(tmp_path, epochs=1), should_stop=pause_once)
    assert calls["n"] > 3 and h.rows[0]["seconds"] < 1.0


def test_every_metrics_row_is_backed_by_a_checkpoint(tmp_path, monkeypatch):
    from lab_workbench.engine.runs import writer
    real = writer.save_checkpoint
    calls = {"n": 0}

    def failing(path, state, *serialised):
        calls["n"] += 1
        if state["epoch"] == 2:
            raise CheckpointError(f"{path}: cannot write checkpoint (No space left on device)")
        real(path, state, *serialised)
    monkeypatch.setattr(writer, "save_checkpoint", failing)
    with pytest.raises(CheckpointError, match="No space left"):
        train(cfg(tmp_path, epochs=3, name="full"))
    run = tmp_path / "runs" / "full"
    assert [r["epoch"] for r in read_metrics(run / "metrics.csv")] == [1]
    assert load_checkpoint(run / "last.pt")["epoch"] == 1
    assert json.loads((run / "results.json").read_text())["status"] == "failed"
