"""The training state has one home (issue 31): TrainingState reads and writes every checkpoint, migrates the
older formats and refuses newer ones; EpochTracker keeps the best epoch, --patience and divergence; TrainLoop
is built complete by its constructor."""

import ast
import math
import os
from functools import partial
from pathlib import Path

import pytest
import torch

from lab_workbench.engine import train
from lab_workbench.engine.core.errors import CheckpointError, ConfigError
from lab_workbench.engine.runs.checkpoint import load_checkpoint, save_checkpoint
from lab_workbench.engine.training.state import FORMAT_VERSION, TrainingState, migrate
from lab_workbench.engine.training.tracking import EpochTracker
from lab_workbench.engine.training.trainer import resume_config
from tests import helpers
from tests.engine.test_resume import assert_same_run, stop_at

cfg = partial(helpers.cfg, epochs=4, subset=300, model="mlp", hidden=[16], dropout=0.2, threads=1)

# the keys of a format 2 checkpoint as lab wrote them before TrainingState (TrainLoop.snapshot and
# runs/checkpoint.serialise), with --ema, stopped inside an epoch, by one process
FORMAT_2 = ["model_state_dict", "optimizer_state_dict", "scaler_state_dict", "scheduler_state_dict", "epoch",
            "best_accuracy", "best_val_loss", "best_epoch", "bad_epochs", "step", "config", "data", "history", "rng",
            "epoch_step", "world_size", "raw_model_state_dict", "ema_updates", "epoch_perm", "epoch_accum",
            "format_version"]


def test_a_checkpoint_in_the_format_written_before_resumes_bitwise(tmp_path):
    c = cfg(tmp_path, scheduler="plateau", ema=0.9, clip_grad=0.5)
    full = train(c.replace(name="full"))
    stopped = train(c.replace(name="old"), should_stop=stop_at(2 * 9 + 5))  # 270 samples / 32: 9 batches
    last = os.path.join(stopped.run_dir, "last.pt")
    written = load_checkpoint(last)
    assert list(written) == FORMAT_2  # what lab writes is still that format, key for key
    # the file as the code before TrainingState saved it: a plain dict through torch.save, unsealed
    torch.save({k: written[k] for k in FORMAT_2}, last)
    state = TrainingState.load(last, level="resume")
    assert (state.epoch, state.epoch_step, state.world, state.ema_updates) == (2, 4, 1, written["ema_updates"])
    c2, run_dir = resume_config(stopped.run_dir, runs_dir=c.runs_dir)
    assert train(c2, resume=run_dir).status == "completed"
    assert_same_run(full.run_dir, run_dir)


def test_a_format_1_checkpoint_is_migrated_and_resumes(tmp_path):
    c = cfg(tmp_path, epochs=1, scheduler="plateau", optimizer="sgd", lr=0.05, name="v1")
    run_dir = train(c).run_dir
    written = load_checkpoint(f"{run_dir}/last.pt")
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD([torch.zeros(1)], lr=0.025), factor=0.5)
    # what the first lab saved: no version, no position in an epoch, no world_size, torch's scheduler state
    v1 = {k: written[k] for k in ("model_state_dict", "optimizer_state_dict", "epoch", "best_accuracy", "config",
                                  "data", "history", "rng")}
    v1["scheduler_state_dict"] = plateau.state_dict()
    state = TrainingState.from_dict(v1, "v1.pt", level="resume")
    assert (state.epoch_step, state.world_size, state.world, state.step, state.bad_epochs) == (0, None, 1, 0, 0)
    assert state.best_val_loss == math.inf and not state.mid_epoch
    assert state.scheduler["scale"] == pytest.approx(0.5)  # its last lr over the run's --lr
    assert "scale" not in v1["scheduler_state_dict"]  # migration leaves the loaded dict as it was
    save_checkpoint(f"{run_dir}/last.pt", v1)
    c2, run_dir = resume_config(run_dir, runs_dir=c.runs_dir, epochs=2)
    history = train(c2, resume=run_dir)
    assert history.status == "completed" and [r["epoch"] for r in history.rows] == [1, 2]
    assert history.rows[1]["lr"] == pytest.approx(0.025)  # the plateau's halved lr carried over
    assert load_checkpoint(f"{run_dir}/last.pt")["format_version"] == FORMAT_VERSION


def test_a_checkpoint_of_a_newer_format_is_one_line_for_every_reader(tmp_path):
    from lab_workbench.engine.artifacts.loading import load_model
    from lab_workbench.engine.training.finetune import read_state
    c = cfg(tmp_path, epochs=1, name="new")
    run_dir = Path(train(c).run_dir)
    for name in ("last.pt", "best.pt"):
        state = load_checkpoint(run_dir / name)
        save_checkpoint(run_dir / name, {**state, "format_version": FORMAT_VERSION + 1})
    newer = rf"written by a newer lab \(checkpoint format {FORMAT_VERSION + 1}; this lab reads up to {FORMAT_VERSION}\)"
    c2, run_dir = resume_config(run_dir, runs_dir=c.runs_dir, epochs=2)
    with pytest.raises(CheckpointError, match=r"last\.pt: " + newer):
        train(c2, resume=run_dir)
    with pytest.raises(CheckpointError, match=r"best\.pt: " + newer):
        load_model(run_dir)
    with pytest.raises(ConfigError, match=r"^--init-from .*best\.pt: " + newer):
        read_state(str(run_dir), "--init-from", c.runs_dir)


def test_to_dict_and_from_dict_round_trip_keeping_unknown_keys(tmp_path):
    h = train(cfg(tmp_path, epochs=2), should_stop=stop_at(12))
    written = {**load_checkpoint(f"{h.run_dir}/last.pt"), "note": "a key of a later lab"}
    again = TrainingState.from_dict(written, "last.pt", level="resume").to_dict()
    assert list(again) == [k for k in written if k != "format_version"] + ["format_version"]
    assert all(again[k] is v for k, v in written.items() if k != "format_version")


@pytest.mark.parametrize("level, bad, message", [
    ("model", {"config": None}, None),
    ("model", {"drop": "data"}, r"not a lab checkpoint \(no 'config' or 'data' entry\)"),
    ("resume", {"drop": "rng"}, r"cannot resume from it \(no rng\)"),
    ("resume", {"epoch": "x"}, r"epoch: expected an integer >= 0, got 'x'"),
    ("weights", {"format_version": "2"}, r"format_version: expected an integer >= 1, got '2'")])
def test_from_dict_checks_what_its_reader_needs(level, bad, message):
    d = {"model_state_dict": {"w": torch.ones(2)}, "config": {"lr": 0.1}, "epoch": 1, "best_accuracy": 0.5,
         "optimizer_state_dict": {}, "history": {"rows": []}, "rng": {},
         "data": {"input_shape": [1, 8, 8], "num_classes": 10, "mean": [0.0], "std": [1.0]}}
    bad = dict(bad)
    d.pop(bad.pop("drop", None), None)
    d.update(bad)
    if message is None:
        assert TrainingState.from_dict(d, "x.pt", level).model["w"].shape == (2,)
        return
    with pytest.raises(CheckpointError, match="^x.pt: " + message):
        TrainingState.from_dict(d, "x.pt", level)


def test_migrate_leaves_todays_scheduler_state_alone():
    today = {"schedule": "step", "global_step": 9, "_last_lr": [0.1]}
    assert migrate({"scheduler_state_dict": today, "config": {"lr": 0.2}})["scheduler_state_dict"] is today
    odd = {"scheduler_state_dict": {"_last_lr": [0.1]}, "config": [1, 2]}  # eval reports the config, later
    assert migrate(odd) == odd


class _Dist:
    def __init__(self, bad: bool):
        self.bad = bad

    def any(self, flag: bool) -> bool:
        return flag or self.bad


def test_the_tracker_keeps_the_best_epoch_counts_patience_and_spots_divergence():
    from lab_workbench.engine.training.epoch_state import EpochAccum
    track = EpochTracker("val_acc", 2, num_classes=10)
    model = torch.nn.Linear(2, 2)
    assert track.observe({"val_acc": 0.5, "val_loss": 1.0}, model)
    kept = track.best_state["weight"].clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not track.observe({"val_acc": 0.4, "val_loss": 0.9}, model) and not track.patience_spent()
    assert not track.observe({"val_acc": 0.5, "val_loss": 1.5}, model) and track.patience_spent()
    assert torch.equal(track.best_state["weight"], kept) and track.fields() == {
        "best_accuracy": 0.5, "best_val_loss": 1.0, "bad_epochs": 2}
    acc = EpochAccum.zeros("cpu")
    for step, loss in enumerate([1.0, 2.0, float("nan"), math.inf]):
        track.check_loss(acc, torch.tensor(loss), 10 + step)
    assert track.diverged(acc, 3, first_step=10, dist=_Dist(False)) == {
        "epoch": 3, "step": 3, "global_step": 13, "limit": track.limit}
    fine = EpochAccum.zeros("cpu")
    track.check_loss(fine, torch.tensor(track.limit * 0.9), 0)
    assert track.diverged(fine, 1, 0, _Dist(False)) is None
    assert track.diverged(fine, 1, 0, _Dist(True))["step"] is None  # another rank saw it


def test_the_loop_is_built_complete_by_its_constructor(tmp_path):
    from lab_workbench.engine.data import load_dataset
    from lab_workbench.engine.training.distributed import Distributed
    from lab_workbench.engine.training.loop import TrainLoop
    from lab_workbench.engine.training.trainer import build_model
    h = train(cfg(tmp_path, epochs=2), should_stop=stop_at(12))  # stopped at batch 2 of epoch 2
    state, best = TrainingState.for_resume(h.run_dir, "cpu")
    c = cfg(tmp_path, epochs=2)
    data = load_dataset(c, torch.device("cpu"), stats=(state.data["mean"], state.data["std"]))
    dist = Distributed(torch.device("cpu"))
    loop = TrainLoop(c, data, build_model(c, data, dist.device), dist, lambda e: None, None, str(h.run_dir),
                     state=state, best=best, resumed=True, notes=["a note"], warnings=["a warning"])
    assert (loop.epoch, loop.position, loop.global_step, loop.resumed) == (1, 2, 11, True)
    assert loop.notes == ("a note",) and loop.warnings == ("a warning",) and loop.track.best_state is best
    assert torch.equal(loop.snapshot()["epoch_perm"], state.epoch_perm)
    # the trainer hands everything to the constructor: it sets no attribute of a built loop
    tree = ast.parse((helpers.ROOT / "engine" / "training" / "trainer.py").read_text())
    assigned = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                and isinstance(n.value, ast.Name) and n.value.id == "loop"]
    assert assigned == []


def test_a_checkpoint_is_written_by_files_atomic_write_and_a_failure_keeps_the_previous(tmp_path, monkeypatch):
    import lab_workbench.engine.core.files
    from lab_workbench import engine
    calls = []

    def recorded(path, write, durable=True, what=""):
        calls.append((Path(path).name, what))
        engine.core.files.atomic_write(path, write, durable, what)
    monkeypatch.setattr("lab_workbench.engine.runs.checkpoint.atomic_write", recorded)
    save_checkpoint(tmp_path / "last.pt", {"model_state_dict": {"w": torch.ones(2)}, "epoch": 1})
    assert calls == [("last.pt", "checkpoint")] and load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
    with pytest.raises(CheckpointError, match=r"gone/last\.pt: cannot write checkpoint \(No such file or directory\); "
                                              r"the previous last\.pt is kept$"):
        save_checkpoint(tmp_path / "gone" / "last.pt", {"model_state_dict": {}})
