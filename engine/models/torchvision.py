"""`--model tv:NAME`: any classification model of torchvision.models, fitted to a lab data set.

The torchvision model sits inside `TorchvisionNet.body` unchanged (so torchvision weight files load into
it as they are); the wrapper adapts the input:
- channels: a 1-channel (grey) image is repeated on the three input channels, as a grey photo is an RGB
  one with R = G = B; ImageNet weights then see the kind of input they were trained on. Other channel counts
  than 1 and 3 are refused.
- size: an image smaller than the architecture accepts is resized (bilinear) to the smallest size that it
  accepts, found by a shape-only trial on the meta device (vit_b_16 needs 224x224, convnext 32x32, ...).
The head is built for the data set's classes (torchvision's `num_classes`).
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from lab_workbench.engine.core.errors import ConfigError

TRIAL_SIZES = (32, 64, 96, 128, 160, 192, 224, 256, 299, 384, 512)  # tried in order when the data's size fails
NO_AUX = ("googlenet", "inception_v3")  # their auxiliary heads return tuples in training: lab wants logits


class TorchvisionNet(nn.Module):
    """A torchvision classifier (`body`) behind the channel and size adaptation that a data set needs."""

    def __init__(self, body: nn.Module, name: str, in_channels: int, size: tuple[int, int] | None):
        super().__init__()
        self.body, self.arch, self.in_channels, self.size = body, name, in_channels, size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.in_channels == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.size is not None:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        return self.body(x)

    def notes(self) -> list[str]:
        """What the adaptation does, for the run's first line."""
        out = []
        if self.in_channels == 1:
            out.append("1 channel repeated to 3")
        if self.size is not None:
            out.append(f"inputs resized to {self.size[0]}x{self.size[1]} ({self.arch} needs at least that)")
        return out


def _body(name: str, num_classes: int, device=None) -> nn.Module:
    """The torchvision model; device="meta": its weights and buffers on the meta device (no memory)."""
    import torchvision.models as tvm
    kwargs = {"aux_logits": False, "init_weights": True} if name in NO_AUX else {}
    with _empty_weights() if device == "meta" else contextlib.nullcontext():
        return tvm.get_model(name, weights=None, num_classes=num_classes, **kwargs)


@contextlib.contextmanager
def _empty_weights():
    """Each parameter and buffer moved to the meta device as it is registered, before its module initialises
    it. Unlike `with torch.device("meta")`, the builder's own arithmetic stays on the CPU (regnet computes
    its widths with .tolist(), which meta tensors cannot answer)."""
    register_parameter, register_buffer = nn.Module.register_parameter, nn.Module.register_buffer

    def parameter(module, name, param):
        if param is not None:
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(module, name, param)

    def buffer(module, name, tensor, persistent=True):
        register_buffer(module, name, None if tensor is None else tensor.to("meta"), persistent)

    nn.Module.register_parameter, nn.Module.register_buffer = parameter, buffer
    try:
        yield
    finally:
        nn.Module.register_parameter, nn.Module.register_buffer = register_parameter, register_buffer


def _accepts(body: nn.Module, h: int, w: int) -> bool:
    try:
        with torch.no_grad():
            body(torch.empty(2, 3, h, w, device="meta"))
        return True
    except Exception:  # shape errors differ by architecture: any failure means "not this size"
        return False


def input_size(name: str, h: int, w: int) -> tuple[int, int] | None:
    """None when the architecture takes h x w images as they are; else the smallest square size it takes."""
    probe = _body(name, 2, device="meta").eval()
    if _accepts(probe, h, w):
        return None
    for size in TRIAL_SIZES:
        if size >= min(h, w) and _accepts(probe, size, size):
            return (size, size)
    raise ConfigError(f"--model tv:{name}: found no input size it accepts (tried up to {TRIAL_SIZES[-1]})")


def build_torchvision(name: str, input_shape, num_classes: int) -> TorchvisionNet:
    """tv:NAME for images of input_shape (C,H,W) and num_classes outputs."""
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise ConfigError(f"--model tv:{name}: expected 1- or 3-channel images, got input shape "
                          f"{list(input_shape)}")
    c, h, w = (int(v) for v in input_shape)
    size = input_size(name, h, w)
    _check_memory(name, int(num_classes))
    return TorchvisionNet(_body(name, int(num_classes)), name, c, size)


def _check_memory(name: str, num_classes: int) -> None:
    """Count the parameters on the meta device (no memory) and refuse a model whose weights, gradients and
    optimizer state cannot fit, as --hidden is checked (engine.models.factory)."""
    from lab_workbench.engine.runtime.memory import check_memory
    probe = _body(name, num_classes, device="meta")
    count = sum(t.numel() for t in [*probe.parameters(), *probe.buffers()])
    check_memory(16 * count, f"--model tv:{name} ({count:.3g} parameters)", "pick a smaller model")

