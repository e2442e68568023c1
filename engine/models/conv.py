"""Convolutional models: the pattern CNN and the classic small MNIST convnet."""

import torch.nn as nn

from lab_workbench.engine.models.layers import activation as make_act
from lab_workbench.engine.models.layers import flat_features, mlp_head
from lab_workbench.engine.models.factory import register_model


def _pool_if_possible(h: int, w: int) -> tuple[list[nn.Module], int, int]:
    # a pool on a 1-pixel map would fail; skipping it lets one recipe fit 8x8 digits and 32x32 CIFAR
    if h >= 2 and w >= 2:
        return [nn.MaxPool2d(2)], h // 2, w // 2
    return [], h, w


@register_model("cnn", "[(CONV->ACT)*L->POOL every P blocks]->(FC->ACT)*M->FC, -K 32,64 -L 2 -P 1 -H 128")
def cnn(input_shape, num_classes, channels=None, layers_per_block=None, pool_every=1, hidden=None,
        activation="relu", dropout=0.0, batchnorm=True):
    channels = [32, 64] if channels is None else list(channels)
    per_block = 2 if layers_per_block is None else layers_per_block
    hidden = [128] if hidden is None else list(hidden)
    c, h, w = input_shape
    body: list[nn.Module] = []
    for i, width in enumerate(channels):
        for _ in range(per_block):
            body.append(nn.Conv2d(c, width, 3, padding=1, bias=not batchnorm))
            if batchnorm:
                body.append(nn.BatchNorm2d(width))
            body.append(make_act(activation))
            c = width
        if (i + 1) % pool_every == 0:
            pool, h, w = _pool_if_possible(h, w)
            body += pool
            if dropout > 0 and pool:
                body.append(nn.Dropout2d(dropout))
    features = nn.Sequential(*body)
    n = flat_features(features, input_shape)
    return nn.Sequential(features, nn.Flatten(), *mlp_head(n, hidden, num_classes, activation, dropout))


@register_model("convnet", "classic small MNIST net: conv32->conv64->pool->dropout->FC128->FC")
def convnet(input_shape, num_classes, hidden=None, activation="relu", dropout=0.25):
    hidden = [128] if hidden is None else list(hidden)
    c, h, w = input_shape
    pool, _, _ = _pool_if_possible(h, w)
    features = nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), make_act(activation),
        nn.Conv2d(32, 64, 3, padding=1), make_act(activation),
        *pool, nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
    )
    n = flat_features(features, input_shape)
    return nn.Sequential(features, nn.Flatten(), *mlp_head(n, hidden, num_classes, activation, dropout))


@register_model("fastcnn", "fast small CNN: (CONV->POOL->BN->ReLU)*3->FC, -K 16,32,64 (the fast recipe's model)")
def fastcnn(input_shape, num_classes, channels=None, activation="relu", dropout=0.0):
    # pooling before the norm and the activation does their work on a quarter of the pixels; max-pool
    # commutes with ReLU, so the net is nearly the usual CONV->BN->ReLU->POOL at 0.45x the time (bench/)
    channels = [16, 32, 64] if channels is None else list(channels)
    c, h, w = input_shape
    body: list[nn.Module] = []
    for width in channels:
        body.append(nn.Conv2d(c, width, 3, padding=1, bias=False))
        pool, h, w = _pool_if_possible(h, w)
        body += [*pool, nn.BatchNorm2d(width), make_act(activation)]
        c = width
    if dropout > 0:
        body.append(nn.Dropout(dropout))
    features = nn.Sequential(*body)
    return nn.Sequential(features, nn.Flatten(), nn.Linear(flat_features(features, input_shape), num_classes))
