"""Fine-tuning: start a new run from saved weights (--init-from, --weights), freeze parameters by name
(--freeze, --unfreeze-at), and give the head its own learning rate (--head-lr).

Weights are read without unpickling code: safetensors, or torch.load(weights_only=True). A loaded state
must fit the model: a head whose class count differs is left freshly initialised (with a notice); any
other difference is a ConfigError naming the parameter.
"""

from __future__ import annotations

import fnmatch
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from lab_workbench.engine.core.errors import CheckpointError, ConfigError


def head_names(model: nn.Module) -> list[str]:
    """Parameter names of the head: the last module holding parameters of its own (fc, classifier.3,
    heads.head, lab's last Linear)."""
    last = None
    for prefix, module in model.named_modules():
        if any(True for _ in module.parameters(recurse=False)):
            last = prefix
    if last is None:
        return []
    return [f"{last}.{n}" if last else n for n, _ in model.get_submodule(last).named_parameters(recurse=False)]


def read_state(ref: str, flag: str, runs_dir: str | Path = "runs") -> dict[str, torch.Tensor]:
    """The tensors of a run (its best.pt), a .safetensors file or a state-dict .pt/.pth, keyed by name."""
    from lab_workbench.engine.launch.preflight import init_from_path
    path = init_from_path(ref, runs_dir, flag)
    from lab_workbench.engine.runs.checkpoint import verify_checksum
    try:  # the checksum every reader of a checkpoint uses: a flipped byte is damage, not other weights
        verify_checksum(path)
    except CheckpointError as e:
        raise ConfigError(f"{flag} {e}") from None
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path))
        else:
            with warnings.catch_warnings():  # a TorchScript file: torch warns twice before the error below
                warnings.simplefilter("ignore")
                state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickled code, a torn file, not a tensor file: one line, not a traceback
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise ConfigError(f"{flag} {path}: cannot read it as weights (safetensors or a weights-only state dict: "
                          f"{first})") from None
    from lab_workbench.engine.training.state import model_weights
    try:
        state = model_weights(state, path)
    except CheckpointError as e:
        raise ConfigError(f"{flag} {e}") from None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"{flag} {path}: expected a dict of named tensors (a state dict)")
    return state


def fit_state(model: nn.Module, state: dict, source: str) -> list[str]:
    """Load `state` into `model`; a head of another class count stays as initialised (returns the notice);
    a missing, extra or differently shaped parameter elsewhere is a ConfigError naming it."""
    own, head, notes = model.state_dict(), set(head_names(model)), []
    for key in state:
        if key not in own:
            raise ConfigError(f"{source}: parameter {key!r} is not in the model (it has e.g. {next(iter(own))!r})")
    keep = {}
    for key, tensor in own.items():
        theirs = state.get(key)
        if theirs is None:
            raise ConfigError(f"{source}: has no parameter {key!r}, which the model needs")
        if theirs.shape == tensor.shape:
            keep[key] = theirs
        elif key in head:
            if not notes:
                notes.append(f"head {key.rsplit('.', 1)[0]} re-initialised for {tensor.shape[0]} classes "
                             f"(the weights have {theirs.shape[0]})")
        else:
            raise ConfigError(f"{source}: parameter {key!r} has shape {list(theirs.shape)}, the model needs "
                              f"{list(tensor.shape)}")
    from lab_workbench.engine.evaluation.weights import first_nonfinite
    bad = first_nonfinite(keep)
    if bad is not None:  # else the first step's loss is NaN, reported as "diverged ... try a lower --lr"
        raise ConfigError(f"{source}: parameter {bad!r} holds NaN or infinite values; these weights cannot be "
                          f"trained from")
    model.load_state_dict(keep, strict=False)
    return notes


def torchvision_state(cfg) -> dict:
    """--weights: a torchvision weights file, or with --download a weights name of the architecture."""
    ref, arch = cfg.weights, cfg.model[3:]
    if Path(ref).is_file() or not cfg.download:
        if not Path(ref).is_file():
            raise ConfigError(f"--weights {ref}: no such file (nothing is downloaded unless --download is given)")
        return read_state(ref, "--weights")
    import torchvision.models as tvm
    try:
        enum = tvm.get_model_weights(arch)
        weights = enum[ref.split(".")[-1]] if ref.split(".")[-1] != "DEFAULT" else enum.DEFAULT
        return weights.get_state_dict(progress=False)
    except KeyError:
        names = ", ".join(["DEFAULT", *(w.name for w in tvm.get_model_weights(arch))])
        raise ConfigError(f"--weights {ref}: not a file nor a weights name of {arch} ({names})") from None
    except OSError as e:
        raise ConfigError(f"--weights {ref}: cannot download ({e})") from None


def load_initial_weights(model: nn.Module, cfg) -> list[str]:
    """A new run's starting weights per --init-from or --weights; returns the notices for the first line."""
    if cfg.init_from and cfg.weights:
        raise ConfigError("--weights: give --init-from or --weights, not both")
    if cfg.weights:
        if not cfg.model.startswith("tv:"):
            raise ConfigError(f"--weights: only for torchvision models (--model tv:NAME), not {cfg.model}")
        state = {f"body.{k}": v for k, v in torchvision_state(cfg).items()}  # the bare torchvision model's
        return fit_state(model, state, f"--weights {cfg.weights}") + [f"weights from {cfg.weights}"]
    if cfg.init_from:
        state = read_state(cfg.init_from, "--init-from", cfg.runs_dir)
        own = model.state_dict()
        if hasattr(model, "body") and not any(k in own for k in state):  # a bare torchvision state dict
            state = {f"body.{k}": v for k, v in state.items()}
        return fit_state(model, state, f"--init-from {cfg.init_from}") + [f"weights from {cfg.init_from}"]
    return []


BODY = "body"  # --freeze body: every parameter but the head's, whatever the family names them


def _frozen_by(name: str, pattern: str, head: set[str]) -> bool:
    return name not in head if pattern == BODY else fnmatch.fnmatchcase(name, pattern)


def set_frozen(model: nn.Module, patterns: list[str] | None, frozen: bool) -> int:
    """Freeze (or release) the parameters whose names match any glob (or all but the head's: `body`); the
    number of tensors matched. A pattern that matches nothing is a ConfigError listing a few names."""
    if not patterns:
        return 0
    named, head = list(model.named_parameters()), set(head_names(model))
    for pattern in patterns:
        if not any(_frozen_by(n, pattern, head) for n, _ in named):
            if pattern == BODY:
                raise ConfigError(f"--freeze {BODY}: the model has no parameters but its head's ("
                                  f"{', '.join(sorted(head))}): nothing to freeze")
            some = ", ".join(n for n, _ in named[:4])
            raise ConfigError(f"--freeze {pattern!r}: matches no parameter (names look like {some}, ...)")
    if frozen and all(any(_frozen_by(n, pattern, head) for pattern in patterns) for n, _ in named):
        # the backward pass of a model with nothing to train fails deep in autograd
        raise ConfigError(f"--freeze {','.join(patterns)}: matches every parameter, so nothing would train; "
                          f"leave some out (see lab inspect-weights for the names)")
    count = 0
    for name, p in named:
        if any(_frozen_by(name, pattern, head) for pattern in patterns):
            p.requires_grad_(not frozen)
            count += 1
    return count


def check_freeze(model: nn.Module, patterns: list[str] | None) -> None:
    """A ConfigError naming the pattern when --freeze would freeze the head: nothing would learn the classes
    (and with nothing left to train, the first step would fail)."""
    head, names = set(head_names(model)), [n for n, _ in model.named_parameters()]
    if all(any(_frozen_by(n, p, head) for p in patterns or ()) for n in names):
        raise ConfigError(f"--freeze {','.join(patterns)}: matches every parameter, so nothing would train (the "
                          f"head {', '.join(sorted(head))} too); use --freeze {BODY} to freeze all but the head")
    for pattern in patterns or ():
        caught = sorted(n for n in head if _frozen_by(n, pattern, head))
        if caught:
            raise ConfigError(f"--freeze {pattern!r}: would freeze the head too ({', '.join(caught)}), so "
                              f"nothing would learn the classes; use --freeze {BODY} to freeze all but the head")


# the image shapes of the built-in image sets, known before they load
KNOWN_SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion": (1, 28, 28), "cifar10": (3, 32, 32)}


def check_freeze_early(cfg) -> None:
    """--freeze checked before the data loads, on a shape-only (meta device) model, where the data set's image
    shape is known; the check after the real build covers the other data."""
    shape = None if cfg.data else KNOWN_SHAPES.get(cfg.dataset)
    if not cfg.freeze or shape is None:
        return
    from lab_workbench.engine.models import create_model, model_options
    try:
        with torch.device("meta"):
            model = create_model(cfg.model, shape, 10, **model_options(cfg))
    except Exception:  # a model that cannot be built so: the real build reports its own errors
        return
    check_freeze(model, cfg.freeze)
    set_frozen(model, cfg.freeze, True)  # a pattern that matches nothing


def trainable(model: nn.Module) -> int:
    """Number of parameters that the optimizer moves."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def param_groups(model: nn.Module, cfg) -> list:
    """The optimizer's parameters: one group, or with --head-lr the head in a second group of its own lr."""
    if getattr(cfg, "head_lr", None) is None:
        return list(model.parameters())
    head = set(head_names(model))
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if n not in head]},
            {"params": [p for n, p in named if n in head], "lr": cfg.head_lr}]

