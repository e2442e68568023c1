"""One-cycle schedules over very few steps (issue 24: `--recipe fast --subset 512` divided by zero)."""

import pytest
import torch

from lab_workbench.engine.settings.config import config_from_text
from lab_workbench.engine.training.schedule import Schedule


@pytest.mark.parametrize("steps,epochs,warmup", [(4, 1, 0.25), (1, 1, 0.25), (2, 1, 0.5), (3, 1, 0.0),
                                                 (100, 1, 0.01), (1, 3, 1.0), (5, 2, 0.4)])
def test_onecycle_steps_through_any_short_run(steps, epochs, warmup):
    cfg = config_from_text({"scheduler": "onecycle", "epochs": str(epochs), "warmup": str(warmup), "lr": "0.2"})
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr, momentum=0.9)
    schedule = Schedule(cfg, steps, [cfg.lr])
    lrs = []
    for step in range(steps * epochs):
        schedule.apply(opt, step)
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert all(lr == lr and 0 <= lr <= cfg.lr * 1.0001 for lr in lrs)


def test_the_fast_recipe_trains_on_512_mnist_images(tmp_path, mnist_dir):
    from lab_workbench.engine.training.trainer import train
    cfg = config_from_text({"recipe": "fast", "dataset": "mnist", "data_dir": str(mnist_dir),
                            "subset": "512", "runs_dir": str(tmp_path), "device": "cpu", "precision": "fp32"})
    assert train(cfg).status == "completed"
