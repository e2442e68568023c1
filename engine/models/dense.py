"""Fully connected models: logistic regression and the MLP."""

import torch.nn as nn

from lab_workbench.engine.models.layers import mlp_head
from lab_workbench.engine.models.factory import register_model


def _in_features(input_shape) -> int:
    c, h, w = input_shape
    return c * h * w


@register_model("logistic", "multinomial logistic regression: one linear layer on the flattened image")
def logistic(input_shape, num_classes):
    return nn.Sequential(nn.Flatten(), nn.Linear(_in_features(input_shape), num_classes))


@register_model("mlp", "multilayer perceptron: (FC->ACT->dropout)*M->FC, --hidden 256,128")
def mlp(input_shape, num_classes, hidden=None, activation="relu", dropout=0.0):
    hidden = [256, 128] if hidden is None else list(hidden)
    return nn.Sequential(nn.Flatten(), *mlp_head(_in_features(input_shape), hidden, num_classes, activation, dropout))
