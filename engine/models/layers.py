"""Small building blocks shared by the model families."""

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


@torch.no_grad()
def flat_features(body: nn.Module, input_shape) -> int:
    """Number of features `body` produces for one image: lets every model take any input size."""
    was_training = body.training
    body.eval()
    n = body(torch.zeros(1, *input_shape)).flatten(1).shape[1]
    body.train(was_training)
    return n
