"""Optimizers, a registry like the models' (a plugin adds one with `register_optimizer`), and the explicit
L1/L2 penalties (the lr schedules are in schedule.py).

Light to import (torch is imported by the builders): the config lists the registered names for --help, the
form and the error text of a bad --optimizer, before torch is loaded."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from lab_workbench.engine.core.registry import OPTIMIZERS

if TYPE_CHECKING:  # for the annotations; the functions import torch when they are called
    import torch


def register_optimizer(name: str, description: str, uses: tuple[str, ...] = ()):
    """Decorator: register `build(params, cfg) -> torch.optim.Optimizer` under `name` (--optimizer NAME);
    `params` is what torch optimizers take (tensors, or groups with their own lr under --head-lr). `uses`:
    which of momentum and nesterov it reads (set for an optimizer that does not, they are an error)."""
    return OPTIMIZERS.register(name, description, uses)


def make_optimizer(model, cfg):
    """The registered optimizer cfg.optimizer over the model's parameters, with cfg.lr and cfg.weight_decay."""
    from lab_workbench.engine.training.finetune import param_groups
    params = param_groups(model, cfg)  # one group, or the head apart with --head-lr
    return OPTIMIZERS.get(cfg.optimizer).fn(params, cfg)


def _fused(params) -> dict:
    """One fused kernel per step instead of a loop over tensors: ~20% off an MLP step on CPU (bench/README.md)."""
    tensors = [t for p in params for t in (p["params"] if isinstance(p, dict) else [p])]  # groups or tensors
    return {"fused": True} if tensors and tensors[0].device.type in ("cpu", "cuda") else {}


@register_optimizer("sgd", "stochastic gradient descent, with --momentum and --nesterov", ("momentum", "nesterov"))
def _sgd(params, cfg):
    import torch
    return eager(torch.optim.SGD)(params, lr=cfg.lr, momentum=cfg.momentum,
                                  nesterov=cfg.nesterov and cfg.momentum > 0, weight_decay=cfg.weight_decay,
                                  **_fused(params))


@register_optimizer("adam", "Adam (coupled --weight-decay)")
def _adam(params, cfg):
    import torch
    return eager(torch.optim.Adam)(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **_fused(params))


@register_optimizer("adamw", "AdamW (decoupled --weight-decay)")
def _adamw(params, cfg):
    import torch
    return eager(torch.optim.AdamW)(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **_fused(params))


@register_optimizer("rmsprop", "RMSprop, with --momentum", ("momentum",))
def _rmsprop(params, cfg):
    import torch
    return eager(torch.optim.RMSprop)(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


# torch's wrappers (file, function) that exist for torch.compile: each imports torch._dynamo on its first call.
# The profiling hook around step is peeled too: torch puts it back on every optimizer class it constructs.
_COMPILE_WRAPPERS = {("_compile.py", "inner"), ("optimizer.py", "_use_grad"), ("optimizer.py", "wrapper")}
_WRAPPED_METHODS = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")


def _unwrap(fn):
    """`fn` without torch's compile-only wrappers; any other wrapper is kept (and so is its behaviour)."""
    while hasattr(fn, "__wrapped__") and _origin(fn) in _COMPILE_WRAPPERS:
        fn = fn.__wrapped__
    return fn


def _origin(fn) -> tuple[str, str]:
    code = getattr(fn, "__code__", None)  # not __qualname__: functools.wraps copies the wrapped one's
    return (os.path.basename(code.co_filename), code.co_name) if code else ("", "")


@functools.cache
def eager(cls: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """`cls` with its methods called directly instead of through torch._dynamo's wrappers.

    torch 2.x wraps every optimizer's step and bookkeeping in `torch._disable_dynamo` and graph breaks so that
    torch.compile can trace around them; each imports torch._dynamo on first use (2.4 s of CPU on a 2-core AVX2
    VM, more than an MLP epoch of MNIST; bench/README.md). lab never compiles a step, so it skips them. The
    arithmetic is torch's own: the steps are bitwise those of `cls` (tests/engine/test_optim_eager.py)."""
    body = {name: _unwrap(getattr(cls, name)) for name in _WRAPPED_METHODS}
    wrapped_step = cls.step
    raw_step = _unwrap(wrapped_step)
    if raw_step is not wrapped_step:
        import torch

        def step(self, closure=None):
            with torch.set_grad_enabled(self.defaults.get("differentiable", False)):  # what torch's wrapper does
                return raw_step(self, closure)
        step.__doc__ = raw_step.__doc__
        body["step"] = step
    body["__reduce_ex__"] = lambda self, protocol: (_new_eager, (cls,), self.__getstate__())
    return type(cls.__name__, (cls,), {**body, "__module__": cls.__module__, "__doc__": cls.__doc__})


def _new_eager(cls: type) -> torch.optim.Optimizer:
    """An empty eager(cls) for pickle, which then restores its state (the class is made at run time, so pickle
    cannot find it by name)."""
    made = eager(cls)
    return made.__new__(made)


def penalty_params(model) -> list:
    """Weights that L1/L2 act on: matrices and kernels, not biases or norm scales."""
    return [p for p in model.parameters() if p.ndim > 1]


def penalty(params: list, l1: float, l2: float):
    """l1 * sum|w| + l2 * sum w^2 over the given weights (0.0 when both are off)."""
    total = 0.0
    if l1:
        total = total + l1 * sum(p.abs().sum() for p in params)
    if l2:
        total = total + l2 * sum(p.pow(2).sum() for p in params)
    return total
