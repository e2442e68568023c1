"""Small building blocks shared by the model families."""

import copy

import torch
import torch.nn as nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "lrelu": lambda: nn.LeakyReLU(0.01), "gelu": nn.GELU}


def activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def mlp_head(in_features: int, hidden: list[int], num_classes: int, act: str, dropout: float) -> list[nn.Module]:
    """(FC -> ACT -> Dropout) * M -> FC."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_features, width), activation(act)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_features = width
    layers.append(nn.Linear(in_features, num_classes))
    return layers


PROBE_ON_CPU_BYTES = 256 * 2**20


@torch.no_grad()
def flat_features(body: nn.Module, input_shape) -> int:
    """Number of features `body` produces for one image: lets every model take any input size."""
    device = None  # the default: meta while the model's memory is checked (registry.py)
    if any(t.is_meta for t in body.parameters()):
        size = sum(t.numel() * t.element_size() for t in [*body.parameters(), *body.buffers()])
        # norms, pooling and dropout on meta run Python decompositions that import torch._dynamo (2.4 s on
        # 2 cores): a real copy of a small body finds the shape for less, where its weights and one image's
        # activations are small (large images stay on meta: the check refuses them before they exist)
        if size + _activation_bytes(body, input_shape) <= PROBE_ON_CPU_BYTES:
            body, device = copy.deepcopy(body).to_empty(device="cpu"), "cpu"
            for t in [*body.parameters(), *body.buffers()]:
                t.zero_()  # not the memory's leftovers: denormal floats would make each op ~100x slower
    was_training = body.training
    body.eval()
    n = body(torch.zeros(1, *input_shape, device=device))
    body.train(was_training)
    return n.flatten(1).shape[1]


def _activation_bytes(body: nn.Module, input_shape) -> int:
    """A bound on what one image's forward pass through a conv body holds at once (an input and an output of
    its widest layer at full resolution): large images are probed on meta, which the memory check refuses
    before anything of that size exists."""
    widths = [int(input_shape[0])] + [m.out_channels for m in body.modules() if isinstance(m, nn.Conv2d)]
    pixels = 1
    for d in input_shape[1:]:
        pixels *= int(d)
    return 2 * 4 * max(widths) * pixels
