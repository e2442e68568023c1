"""The lr as a pure function of the global step (issue 21): the same values as torch's schedulers, and
checkpoints written before it (torch scheduler states) still resume."""

import math
import os
import shutil

import pytest
import torch

from lab_workbench.engine import TrainConfig, train
from lab_workbench.engine.settings.config import config_from_text
from lab_workbench.engine.runs.checkpoint import load_checkpoint, save_checkpoint
from lab_workbench.engine.runs import read_metrics
from lab_workbench.engine.training.schedule import Schedule
from lab_workbench.engine.training.state import migrate
from lab_workbench.engine.training.trainer import resume_config


def _opt(kind="sgd", lr=0.2):
    p = [torch.nn.Parameter(torch.zeros(1))]
    return torch.optim.SGD(p, lr=lr, momentum=0.9) if kind == "sgd" else torch.optim.Adam(p, lr=lr)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("epochs,steps,warmup", [(3, 7, 0.0), (2, 5, 0.5), (1, 4, 0.25)])
def test_onecycle_is_torchs_one_cycle_with_its_momentum(kind, epochs, steps, warmup):
    cfg = config_from_text({"scheduler": "onecycle", "epochs": str(epochs), "warmup": str(warmup), "lr": "0.2"})
    ref = _opt(kind)
    pct = min(max(warmup / epochs if warmup else 0.3, 0.01, 2 / (epochs * steps)), 0.99)
    torch_sched = torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=0.2, epochs=epochs, steps_per_epoch=steps,
                                                      pct_start=pct)
    ours, schedule = _opt(kind), Schedule(cfg, steps, [0.2])
    for step in range(epochs * steps):
        schedule.apply(ours, step)
        a, b = ref.param_groups[0], ours.param_groups[0]
        assert b["lr"] == a["lr"] and b.get("momentum") == a.get("momentum") and b.get("betas") == a.get("betas")
        ref.step()
        torch_sched.step()


@pytest.mark.parametrize("name,extra", [("cosine", {}), ("step", {"step_size": "2", "gamma": "0.5"})])
def test_epoch_schedules_are_torchs_with_a_linear_warm_up_on_top(name, extra):
    cfg = config_from_text({"scheduler": name, "epochs": "5", "warmup": "1.5", "lr": "0.1", **extra})
    ref = _opt(lr=0.1)
    make = {"cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(ref, T_max=5),
            "step": lambda: torch.optim.lr_scheduler.StepLR(ref, step_size=2, gamma=0.5)}[name]
    torch_sched, schedule, steps = make(), Schedule(cfg, 4, [0.1]), 4
    for epoch in range(5):
        for i in range(steps):
            step = epoch * steps + i
            warm = (step + 1) / 6 if step < 6 else 1.0  # 1.5 epochs of 4 steps
            assert schedule.lrs(step)[0] == pytest.approx(ref.param_groups[0]["lr"] * warm, rel=1e-12)
        ref.step()
        torch_sched.step()


def test_plateau_decays_as_torchs_and_keeps_its_state():
    cfg = config_from_text({"scheduler": "plateau", "gamma": "0.5", "lr": "0.1"})
    ref = _opt(lr=0.1)
    torch_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, factor=0.5, patience=2)
    schedule = Schedule(cfg, 3, [0.1])
    losses = [1.0, 0.9, 0.9, 0.95, 0.91, 0.89, 0.9, 0.9, 0.9, 0.9, float("nan"), 0.5]
    for epoch, loss in enumerate(losses):
        assert schedule.lrs(epoch * 3)[0] == pytest.approx(ref.param_groups[0]["lr"], rel=1e-12)
        schedule.end_epoch(loss)
        torch_sched.step(loss)
    again = Schedule(cfg, 3, [0.1])
    again.load_state_dict(schedule.state_dict(36))
    assert again.lrs(36) == schedule.lrs(36) and again.plateau == schedule.plateau
    old = Schedule(cfg, 3, [0.1])  # a checkpoint from before issue 21 holds ReduceLROnPlateau's own state
    before = {"model_state_dict": {}, "config": {"lr": 0.1}, "scheduler_state_dict": torch_sched.state_dict()}
    old.load_state_dict(migrate(before)["scheduler_state_dict"])
    assert old.lrs(36)[0] == pytest.approx(ref.param_groups[0]["lr"]) and old.plateau.best == torch_sched.best


def test_a_torch_one_cycle_state_is_ignored_the_step_decides():
    cfg = config_from_text({"scheduler": "onecycle", "epochs": "2", "lr": "0.2"})
    ref = _opt()
    torch_sched = torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=0.2, epochs=2, steps_per_epoch=5)
    for _ in range(7):
        ref.step()
        torch_sched.step()
    schedule = Schedule(cfg, 5, [0.2])
    schedule.load_state_dict(migrate({"config": {"lr": 0.2},
                                      "scheduler_state_dict": torch_sched.state_dict()})["scheduler_state_dict"])
    assert schedule.lrs(7) == [ref.param_groups[0]["lr"]]


def test_a_plateau_checkpoint_from_before_issue_21_resumes_like_a_new_one(tmp_path):
    c = TrainConfig(epochs=2, runs_dir=str(tmp_path / "runs"), subset=200, batch_size=32, model="mlp",
                    hidden=[16], optimizer="sgd", lr=0.05, scheduler="plateau", gamma=0.5, name="new")
    first = train(c)
    old_dir = os.path.join(c.runs_dir, "old")
    shutil.copytree(first.run_dir, old_dir)
    ck = load_checkpoint(os.path.join(old_dir, "last.pt"))
    ref = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=c.lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, factor=0.5, patience=2)
    for row in ck["history"]["rows"]:
        sched.step(row["val_loss"])
    ck["scheduler_state_dict"] = sched.state_dict()  # what the loop saved before the lr was a function
    save_checkpoint(os.path.join(old_dir, "last.pt"), ck)
    for run in (first.run_dir, old_dir):
        c2, run_dir = resume_config(run, runs_dir=c.runs_dir, epochs=3)
        assert train(c2, resume=run_dir).status == "completed"
    a, b = (load_checkpoint(os.path.join(d, "last.pt")) for d in (first.run_dir, old_dir))
    assert all(torch.equal(v, b["model_state_dict"][k]) for k, v in a["model_state_dict"].items())
    rows = [[r["lr"] for r in read_metrics(os.path.join(d, "metrics.csv"))] for d in (first.run_dir, old_dir)]
    assert rows[0] == rows[1] and len(rows[0]) == 3 and not any(math.isnan(x) for x in rows[0])
