"""Issue 25: lab's optimizers skip torch._dynamo's wrappers (a 2.4 s import on 2 cores) and stay torch's own."""

import copy
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.training.optim import OPTIMIZERS, eager, make_optimizer

ROOT = Path(__file__).resolve().parents[2]
STOCK = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
         "rmsprop": torch.optim.RMSprop}


def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def _steps(model, opt, n: int = 6) -> None:
    g = torch.Generator().manual_seed(1)
    for _ in range(n):
        x, y = torch.randn(8, 12, generator=g), torch.randint(0, 3, (8,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _stock(name: str, model, cfg: TrainConfig):
    """The optimizer as torch builds it, with the arguments lab passes (taken from lab's own instance)."""
    ours = make_optimizer(model, cfg)
    accepted = inspect.signature(STOCK[name]).parameters
    group = {k: v for k, v in ours.param_groups[0].items() if k in accepted and k != "params"}
    return ours, STOCK[name](model.parameters(), **group)


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_steps_are_bitwise_torchs_and_state_dicts_interchange(name):
    cfg = TrainConfig(optimizer=name, lr=0.01, weight_decay=1e-3, momentum=0.9, nesterov=name == "sgd")
    ours_model, stock_model = _model(), _model()
    ours, _ = _stock(name, ours_model, cfg)
    _, stock = _stock(name, stock_model, cfg)
    assert type(ours) is not STOCK[name] and isinstance(ours, STOCK[name])
    _steps(ours_model, ours)
    _steps(stock_model, stock)
    for a, b in zip(ours_model.parameters(), stock_model.parameters()):
        assert torch.equal(a, b)
    # a checkpoint written by either loads into the other (older runs saved torch's own optimizer)
    to_torch_model, to_lab_model = copy.deepcopy(ours_model), copy.deepcopy(stock_model)
    _, to_torch = _stock(name, to_torch_model, cfg)
    to_lab, _ = _stock(name, to_lab_model, cfg)
    to_torch.load_state_dict(copy.deepcopy(ours.state_dict()))
    to_lab.load_state_dict(copy.deepcopy(stock.state_dict()))
    for model, opt in ((to_torch_model, to_torch), (to_lab_model, to_lab), (stock_model, stock)):
        _steps(model, opt, 2)
    for a, b, c in zip(to_torch_model.parameters(), to_lab_model.parameters(), stock_model.parameters()):
        assert torch.equal(a, c) and torch.equal(b, c)

def test_eager_keeps_any_wrapper_that_is_not_torchs_compile_wrapper():
    class Counted(torch.optim.SGD):
        calls = 0

        def step(self, closure=None):
            Counted.calls += 1
            return super().step(closure)
    model = _model()
    opt = eager(Counted)(model.parameters(), lr=0.1)
    _steps(model, opt, 2)
    assert Counted.calls == 2


def test_training_runs_do_not_import_torch_dynamo(tmp_path):
    # cnn too: its shape probe ran batch norm on the meta device, whose decompositions import torch._dynamo
    code = ("import sys\nfrom lab_workbench.engine import TrainConfig, train\n"
            "for model in ('mlp', 'cnn'):\n"
            f"    train(TrainConfig(model=model, epochs=1, subset=200, runs_dir={str(tmp_path)!r}))\n"
            "    print(model, 'torch._dynamo' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-2:] == ["mlp False", "cnn False"]


def test_an_eager_optimizer_pickles_as_itself():
    import pickle
    model = _model()
    opt = make_optimizer(model, TrainConfig(optimizer="adamw", lr=0.01))
    _steps(model, opt, 2)
    back = pickle.loads(pickle.dumps(opt))
    assert type(back) is type(opt)
    for a, b in zip(back.state_dict()["state"].values(), opt.state_dict()["state"].values()):
        assert all(torch.equal(a[k], b[k]) for k in a)
