"""lab_workbench.engine.training.finetune on lab's own small models: head, --head-lr groups, --freeze, shape checks (fast, no data)."""

import pytest
import torch

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.training.finetune import fit_state, head_names, set_frozen, trainable
from lab_workbench.engine.models import create_model
from lab_workbench.engine.training.optim import make_optimizer


def mlp(classes=10):
    torch.manual_seed(0)
    return create_model("mlp", (1, 8, 8), classes, hidden=[16])


def test_head_lr_puts_the_head_in_its_own_group():
    model = mlp()
    head = head_names(model)
    assert len(head) == 2 and all(n.endswith(("weight", "bias")) for n in head)
    opt = make_optimizer(model, TrainConfig(lr=1e-3, head_lr=5e-2))
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 5e-2]
    named = dict(model.named_parameters())
    assert {id(p) for p in opt.param_groups[1]["params"]} == {id(named[n]) for n in head}
    assert len(make_optimizer(model, TrainConfig()).param_groups) == 1


def test_freeze_by_glob_and_release():
    model = mlp()
    total = sum(p.numel() for p in model.parameters())
    first = next(n for n, _ in model.named_parameters())
    assert set_frozen(model, [first], True) == 1
    assert trainable(model) == total - dict(model.named_parameters())[first].numel()
    set_frozen(model, [first], False)
    assert trainable(model) == total
    with pytest.raises(ConfigError, match=r"^--freeze 'nope\*': matches no parameter"):
        set_frozen(model, ["nope*"], True)


def test_fit_state_reinitialises_a_head_of_another_class_count_and_names_other_mismatches():
    source, target = mlp(2), mlp(10)
    fresh_head = {n: target.state_dict()[n].clone() for n in head_names(target)}
    notes = fit_state(target, source.state_dict(), "--init-from x")
    assert notes and notes[0].endswith("re-initialised for 10 classes (the weights have 2)")
    for name, tensor in target.state_dict().items():
        want = fresh_head[name] if name in fresh_head else source.state_dict()[name]
        assert torch.equal(tensor, want), name
    bad = dict(source.state_dict())
    body = next(n for n in bad if n not in fresh_head)
    bad[body] = torch.zeros(3, 3)
    with pytest.raises(ConfigError, match=rf"^--init-from x: parameter '{body}' has shape \[3, 3\]"):
        fit_state(mlp(10), bad, "--init-from x")
