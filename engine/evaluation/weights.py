"""Weight statistics, model comparison, first-layer filters and feature maps, as numbers."""

from __future__ import annotations

import math

import numpy as np
import torch

from lab_workbench.engine.core.errors import CheckpointError

NEAR_ZERO = 1e-3


def tensor_stats(t: torch.Tensor) -> dict:
    """count, mean, std, min, max, L2 norm and share of |w| < 1e-3 of one tensor (float64 math)."""
    x = t.detach().cpu().double().flatten()
    n = x.numel()
    return {"shape": list(t.shape), "count": n, "mean": x.mean().item() if n else 0.0,
            "std": x.std(unbiased=False).item() if n else 0.0, "min": x.min().item() if n else 0.0,
            "max": x.max().item() if n else 0.0, "l2": x.norm().item(),
            "near_zero": (x.abs() < NEAR_ZERO).double().mean().item() if n else 0.0}


def parameters_of(state: dict) -> dict[str, torch.Tensor]:
    """The learnable tensors of a state dict (batchnorm running statistics and counters left out)."""
    skip = ("running_mean", "running_var", "num_batches_tracked")
    return {k: v for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point() and not k.endswith(skip)}


def first_nonfinite(state: dict) -> str | None:
    """The name of the first floating tensor of `state` that holds NaN or inf (None: all finite). Such
    weights give NaN outputs: evaluating or fine-tuning from them is refused with this name."""
    for key, v in state.items():
        if torch.is_tensor(v) and v.is_floating_point() and not bool(torch.isfinite(v).all()):
            return key
    return None


def weight_table(state: dict) -> dict:
    """Per-tensor statistics plus totals over all parameters."""
    params = parameters_of(state)
    rows = [{"name": k, **tensor_stats(v)} for k, v in params.items()]
    if params:
        everything = torch.cat([v.detach().cpu().double().flatten() for v in params.values()])
        total = {"name": "total", **tensor_stats(everything)}
        total["shape"] = []
    else:
        total = {"name": "total", "count": 0}
    return {"tensors": rows, "total": total}


def layer_names(model: torch.nn.Module) -> dict[str, str]:
    """{parameter name: what its layer is}, e.g. '1.weight' -> 'Linear 64->256', '0.0.weight' -> 'Conv2d 1->32 3x3'."""
    out = {}
    for prefix, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            what = f"Linear {module.in_features}->{module.out_features}"
        elif isinstance(module, torch.nn.Conv2d):
            what = f"Conv2d {module.in_channels}->{module.out_channels} {'x'.join(map(str, module.kernel_size))}"
        elif isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            what = f"{type(module).__name__} {module.num_features}"
        else:
            continue
        for name, _ in module.named_parameters(recurse=False):
            out[f"{prefix}.{name}" if prefix else name] = what
    return out


def compare_states(a: dict, b: dict) -> list[dict]:
    """Per tensor: both sides' statistics, the L2 norm of the difference and the cosine similarity."""
    pa, pb = parameters_of(a), parameters_of(b)
    for (ka, va), (kb, vb) in zip(pa.items(), pb.items()):
        if ka != kb or va.shape != vb.shape:
            raise CheckpointError(f"the models differ at tensor {ka!r} {tuple(va.shape)} vs {kb!r} {tuple(vb.shape)}")
    if len(pa) != len(pb):
        longer, shorter = (pa, pb) if len(pa) > len(pb) else (pb, pa)
        name = list(longer)[len(shorter)]
        raise CheckpointError(f"the models differ at tensor {name!r}: only one of them has it")
    rows = []
    for k in pa:
        x, y = pa[k].detach().cpu().double().flatten(), pb[k].detach().cpu().double().flatten()
        denom = x.norm().item() * y.norm().item()
        rows.append({"name": k, "a": tensor_stats(pa[k]), "b": tensor_stats(pb[k]),
                     "diff_l2": (x - y).norm().item(),
                     "cosine": (x @ y).item() / denom if denom > 0 else math.nan})
    return rows


def _scale_each(arrays: np.ndarray) -> np.ndarray:
    lo = arrays.reshape(len(arrays), -1).min(1).reshape(-1, *[1] * (arrays.ndim - 1))
    hi = arrays.reshape(len(arrays), -1).max(1).reshape(-1, *[1] * (arrays.ndim - 1))
    return (arrays - lo) / np.where(hi - lo > 0, hi - lo, 1)


def filters(model: torch.nn.Module, input_shape, layer: str | None = None) -> tuple[str, np.ndarray]:
    """(layer name, filters as (N,C,H,W) in [0,1], each scaled on its own).

    A linear layer's rows are reshaped to the input image (for MNIST, 28x28 templates); a conv layer gives
    its kernels. Without `layer`, the first conv or linear layer is used.
    """
    modules = dict(model.named_modules())
    if layer is not None:
        if layer not in modules or not isinstance(modules[layer], (torch.nn.Linear, torch.nn.Conv2d)):
            names = [n for n, m in modules.items() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
            raise CheckpointError(f"--filters: no linear or conv layer {layer!r} (have: {', '.join(names)})")
        name = layer
    else:
        name = next((n for n, m in modules.items() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))), None)
        if name is None:  # an exported graph (ONNX, .pt2, TorchScript) keeps weights but no layer objects
            raise CheckpointError("--filters: this model has no linear or conv layer objects (an export other "
                                  "than safetensors keeps only its graph): use the run or a .safetensors export")
    m = modules[name]
    w = m.weight.detach().float().cpu().numpy()
    if isinstance(m, torch.nn.Linear):
        c, h, wd = input_shape
        if w.shape[1] != c * h * wd:
            raise CheckpointError(f"--filters: {name} takes {w.shape[1]} inputs, not an image of {c}x{h}x{wd}")
        w = w.reshape(-1, c, h, wd)
    elif w.shape[1] not in (1, 3):
        w = w.mean(1, keepdims=True)  # deeper conv kernels: average over input channels
    return name, _scale_each(w)


@torch.inference_mode()
def feature_maps(model: torch.nn.Module, x: torch.Tensor) -> list[tuple[str, np.ndarray]]:
    """The activation maps (C,H,W) of every conv layer for one image x of shape (1,C,H,W)."""
    maps, hooks = [], []
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(lambda mod, inp, out, n=name: maps.append((n, out[0].cpu().numpy()))))
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return [(n, _scale_each(a)) for n, a in maps]
