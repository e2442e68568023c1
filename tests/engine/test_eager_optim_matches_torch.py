"""Hostile review of eager() optimizers: the fp16 grad scaler (skipped steps included) and --head-lr groups."""

import pytest
import torch

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.models import create_model
from lab_workbench.engine.training.optim import make_optimizer

STOCK = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
         "rmsprop": torch.optim.RMSprop}


def _stock_like(ours, params):
    """torch's own class with the groups and arguments of lab's instance."""
    cls = next(c for c in type(ours).__mro__ if c in STOCK.values())
    groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": p} for g, p in zip(ours.param_groups, params)]
    return cls(groups)


def _train(model, opt, scaler, steps=6):
    g = torch.Generator().manual_seed(3)
    for i in range(steps):
        x, y = torch.randn(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.float16):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        scaler.scale(loss * (1e30 if i == 2 else 1)).backward()  # step 2 overflows: the scaler skips it
        scaler.step(opt)
        scaler.update()


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_fp16_scaler_and_head_lr_groups_step_as_torchs(name):
    cfg = TrainConfig(optimizer=name, lr=0.01, head_lr=0.1, momentum=0.9, weight_decay=1e-3)
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(create_model("mlp", (1, 8, 8), 10, hidden=[16]))
    ours = make_optimizer(models[0], cfg)
    assert len(ours.param_groups) == 2 and ours.param_groups[1]["lr"] == 0.1
    stock = _stock_like(ours, [[dict(models[1].named_parameters())[n] for n, p in models[0].named_parameters()
                                if any(p is q for q in g["params"])] for g in ours.param_groups])
    scalers = [torch.amp.GradScaler("cpu", init_scale=2.0 ** 8) for _ in range(2)]
    _train(models[0], ours, scalers[0])
    _train(models[1], stock, scalers[1])
    assert scalers[0].get_scale() == scalers[1].get_scale() < 2.0 ** 8  # the overflow was seen by both
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        assert torch.equal(a, b)
    assert str(ours.state_dict()) == str(stock.state_dict())
