import json
import math
import os

import pytest
import torch

from lab_workbench.engine import TrainConfig, train
from lab_workbench.engine.core.errors import CheckpointError, ConfigError
from lab_workbench.engine.runs.checkpoint import load_checkpoint, save_checkpoint
from lab_workbench.engine.contract.events import BatchEnded, EpochEnded, RunEnded, RunStarted
from lab_workbench.engine.runs import METRICS_HEADER, read_metrics
from lab_workbench.engine.training.trainer import resume_config
from tests.helpers import cfg


def test_events_files_and_history(tmp_path):
    events = []
    h = train(cfg(tmp_path, epochs=3), on_event=events.append)
    kinds = [type(e) for e in events if type(e).__name__ != "PhaseChanged"]  # 'loading' comes before RunStarted
    assert kinds[0] is RunStarted and kinds[-1] is RunEnded
    assert sum(k is EpochEnded for k in kinds) == 3 and BatchEnded in kinds
    epoch_events = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epoch_events] == [1, 2, 3]
    assert len(epoch_events[-1].confusion) == 10
    assert sum(map(sum, epoch_events[-1].confusion)) == 40  # the validation split of the 400-sample subset
    run = tmp_path / "runs" / os.path.basename(h.run_dir)
    assert {p.name for p in run.iterdir()} >= {"config.json", "metrics.csv", "results.json", "best.pt", "last.pt"}
    assert (run / "metrics.csv").read_text().splitlines()[0] == ",".join(METRICS_HEADER)
    assert [r["epoch"] for r in read_metrics(run / "metrics.csv")] == [1, 2, 3]
    results = json.loads((run / "results.json").read_text())
    assert results["status"] == "completed" and results["config"]["epochs"] == 3
    assert 0 < results["test"]["accuracy"] <= 1 and results["best_epoch"] == h.best_epoch
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["mean"] and config["config"]["model"] == "mlp"
    ck = load_checkpoint(run / "last.pt")
    for key in ("model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "epoch", "best_accuracy",
                "config", "rng"):
        assert key in ck
    assert ck["epoch"] == 3
    assert h.rows[-1]["train_acc"] > h.rows[0]["train_acc"]


def test_run_folders_are_never_overwritten(tmp_path):
    a = train(cfg(tmp_path, epochs=1, name="same"))
    b = train(cfg(tmp_path, epochs=1, name="same"))
    assert a.run_dir != b.run_dir and b.run_dir.endswith("same-2")


def test_stop_flag_cancels_within_a_batch_and_keeps_last(tmp_path):
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 15  # epoch 1 has 12 steps: stop early in epoch 2

    h = train(cfg(tmp_path, epochs=5), should_stop=stop)
    assert h.status == "cancelled" and len(h.rows) == 1
    assert calls["n"] == 16
    results = json.loads(open(os.path.join(h.run_dir, "results.json")).read())
    assert results["status"] == "cancelled"
    assert load_checkpoint(os.path.join(h.run_dir, "last.pt"))["epoch"] == 1


def test_interrupted_status_from_string(tmp_path):
    h = train(cfg(tmp_path), should_stop=lambda: "interrupted")
    assert h.status == "interrupted" and h.rows == []


def test_resume_continues_the_epoch_count(tmp_path):
    first = train(cfg(tmp_path, epochs=2))
    c, run_dir = resume_config(first.run_dir, epochs=4)
    events = []
    second = train(c, on_event=events.append, resume=run_dir)
    assert second.run_dir == first.run_dir
    assert [r["epoch"] for r in second.rows] == [1, 2, 3, 4]
    assert next(e for e in events if isinstance(e, RunStarted)).start_epoch == 3
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [3, 4]
    assert [r["epoch"] for r in read_metrics(os.path.join(run_dir, "metrics.csv"))] == [1, 2, 3, 4]


def test_resume_latest(tmp_path):
    train(cfg(tmp_path, epochs=1, name="a"))
    b = train(cfg(tmp_path, epochs=1, name="b"))
    os.utime(os.path.join(b.run_dir, "config.json"))
    _, run_dir = resume_config("latest", str(tmp_path / "runs"))
    assert str(run_dir) == b.run_dir


def test_same_seed_same_result(tmp_path):
    a = train(cfg(tmp_path, epochs=2))
    b = train(cfg(tmp_path, epochs=2))
    assert a.rows[-1]["train_loss"] == b.rows[-1]["train_loss"]


def test_early_stopping(tmp_path):
    # a large lr makes the validation loss bounce, so patience 1 ends the run early
    h = train(cfg(tmp_path, epochs=30, patience=1, lr=0.5, optimizer="sgd"))
    assert h.status == "early-stopped" and len(h.rows) < 30
    losses = [r["val_loss"] for r in h.rows]
    assert losses[-1] >= min(losses[:-1])


def test_divergence_is_reported(tmp_path):
    h = train(cfg(tmp_path, epochs=3, optimizer="sgd", lr=1.0, l2=1e30, model="logistic"))
    assert h.status == "diverged"


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw", "rmsprop"])
def test_optimizers(tmp_path, opt):
    h = train(cfg(tmp_path, epochs=2, optimizer=opt, lr=0.002 if opt != "sgd" else 0.05, nesterov=opt == "sgd"))
    assert h.status == "completed" and h.rows[-1]["train_acc"] > 0.5


@pytest.mark.parametrize("sched", ["none", "step", "plateau", "cosine", "onecycle"])
def test_schedulers_change_lr(tmp_path, sched):
    uses = {"step": dict(step_size=1, gamma=0.5), "plateau": dict(gamma=0.5)}.get(sched, {})  # others refuse them
    h = train(cfg(tmp_path, epochs=3, scheduler=sched, **uses))
    lrs = [r["lr"] for r in h.rows]
    if sched in ("step", "cosine", "onecycle"):
        assert lrs[-1] < lrs[0]
    if sched == "none":
        assert lrs == [1e-3] * 3


def test_l1_penalty_shrinks_weights(tmp_path):
    def norm(h):
        sd = load_checkpoint(os.path.join(h.run_dir, "last.pt"))["model_state_dict"]
        return sum(v.abs().sum().item() for k, v in sd.items() if k.endswith("weight"))
    plain = train(cfg(tmp_path, epochs=2, model="logistic"))
    l1 = train(cfg(tmp_path, epochs=2, model="logistic", l1=1e-2))
    l2 = train(cfg(tmp_path, epochs=2, model="logistic", l2=1e-1))
    assert norm(l1) < norm(plain) and norm(l2) < norm(plain)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_checkpoint_with_a_pickled_callable_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {}, "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "good.pt"
    save_checkpoint(path, {"model_state_dict": {"w": torch.ones(100)}})
    (tmp_path / "bad.pt").write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "bad.pt")


def test_failed_save_keeps_the_good_checkpoint(tmp_path):
    path = tmp_path / "best.pt"
    save_checkpoint(path, {"model_state_dict": {"w": torch.ones(3)}})

    class Boom:
        def __reduce__(self):
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        save_checkpoint(path, {"model_state_dict": {"w": torch.zeros(3)}, "x": Boom()})
    assert torch.equal(load_checkpoint(path)["model_state_dict"]["w"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "checkpoints.json"]  # no temp file left


@pytest.mark.parametrize("field, value, flag", [
    ("dataset", "imagenet", "--dataset"), ("optimizer", "lbfgs", "--optimizer"), ("lr", -1.0, "--lr"),
    ("epochs", 0, "--epochs"), ("dropout", 1.5, "--dropout"), ("scheduler", "warm", "--scheduler"),
    ("device", "tpu", "--device"),
])
def test_bad_config_values_name_the_flag(tmp_path, field, value, flag):
    with pytest.raises(ConfigError, match=flag):
        train(cfg(tmp_path, **{field: value}))


def test_config_round_trips():
    c = TrainConfig(model="cnn", channels=[8, 16], classes=[3, 5])
    assert TrainConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_real_mnist_logistic_one_epoch(tmp_path, mnist_dir):
    h = train(cfg(tmp_path, dataset="mnist", data_dir=str(mnist_dir), model="logistic", epochs=1, subset=None,
                  batch_size=128))
    assert h.test_acc > 0.9 and math.isfinite(h.test_loss)


def test_augment_flips_and_shifts_on_device():
    from lab_workbench.engine.settings.config import parse_augment
    from lab_workbench.engine.training.augment import augment
    x = torch.arange(64 * 8 * 8, dtype=torch.float32).view(64, 1, 8, 8)
    f = augment(x, ("flip",), torch.Generator().manual_seed(0))
    flipped = [torch.equal(f[i], x[i].flip(2)) for i in range(64)]
    assert all(flipped[i] or torch.equal(f[i], x[i]) for i in range(64))
    assert 16 < sum(flipped) < 48  # about half, drawn per image
    shifted = augment(x, ("crop",), torch.Generator().manual_seed(1))
    assert shifted.shape == x.shape and not torch.equal(shifted, x)
    # a shift moves whole pixels: every value is either an original pixel or the zero border
    assert set(shifted.unique().tolist()) <= set(x.unique().tolist()) | {0.0}
    assert parse_augment("none") == () and parse_augment("flip,crop") == ("flip", "crop")
    with pytest.raises(ConfigError, match="--augment"):
        parse_augment("rotate")


def test_training_with_augmentation(tmp_path):
    h = train(cfg(tmp_path, epochs=2, augment="crop", model="cnn", channels=[4, 8]))
    assert h.status == "completed" and h.rows[-1]["train_acc"] > 0.3


def test_resume_with_more_epochs_under_onecycle_and_a_new_lr(tmp_path):
    first = train(cfg(tmp_path, epochs=2, scheduler="onecycle"))
    c, run_dir = resume_config(first.run_dir, epochs=4)
    second = train(c, resume=run_dir)
    assert [r["epoch"] for r in second.rows] == [1, 2, 3, 4] and second.status == "completed"
    plain = train(cfg(tmp_path, epochs=1))
    c, run_dir = resume_config(plain.run_dir, epochs=2, lr=0.01234)
    # the lr is a function of the step and of the resumed config: epoch 2 of 2 of a cosine from 0.01234
    assert train(c, resume=run_dir).rows[-1]["lr"] == pytest.approx(0.01234 * (1 + math.cos(math.pi / 2)) / 2)


def test_a_stop_while_the_data_loads_makes_no_run_folder(tmp_path):
    from lab_workbench.engine.contract.events import RunEnded
    events = []
    h = train(cfg(tmp_path, name="early"), on_event=events.append, should_stop=lambda: "interrupted")
    assert h.status == "interrupted" and h.run_dir is None and h.rows == []
    assert not (tmp_path / "runs" / "early").exists()  # was a folder holding a checkpoint of nothing trained
    assert isinstance(events[-1], RunEnded) and events[-1].status == "interrupted"
    resumed = train(cfg(tmp_path, name="early", epochs=1))  # the name is free for the next start
    assert resumed.run_dir.endswith("early") and resumed.status == "completed"
