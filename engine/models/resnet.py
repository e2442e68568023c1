"""ResNet built from residual blocks: 3x3 convs, batchnorm, dropout2d, 1x1 projection shortcuts."""

import torch.nn as nn

from lab_workbench.engine.models.layers import activation as make_act
from lab_workbench.engine.models.factory import register_model


def _conv_bn(cin, cout, k, stride=1):
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout)]


class ResidualBlock(nn.Module):
    """conv3x3-BN-ACT-dropout2d-conv3x3-BN (+ shortcut) -> ACT; the bottleneck variant is 1x1-3x3-1x1."""

    def __init__(self, cin, cout, stride=1, act="relu", dropout=0.0, bottleneck=False):
        super().__init__()
        if bottleneck:
            mid = max(cout // 4, 1)
            layers = [*_conv_bn(cin, mid, 1), make_act(act), *_conv_bn(mid, mid, 3, stride), make_act(act)]
            if dropout > 0:
                layers.append(nn.Dropout2d(dropout))
            layers += _conv_bn(mid, cout, 1)
        else:
            layers = [*_conv_bn(cin, cout, 3, stride), make_act(act)]
            if dropout > 0:
                layers.append(nn.Dropout2d(dropout))
            layers += _conv_bn(cout, cout, 3)
        self.body = nn.Sequential(*layers)
        needs_projection = stride != 1 or cin != cout
        self.shortcut = nn.Sequential(*_conv_bn(cin, cout, 1, stride)) if needs_projection else nn.Identity()
        self.act = make_act(act)

    def forward(self, x):
        return self.act(self.body(x) + self.shortcut(x))


@register_model("resnet", "residual network: stem->[blocks]*stages->avgpool->FC, -K 16,32,64 -L 2, --bottleneck")
def resnet(input_shape, num_classes, channels=None, layers_per_block=None, activation="relu", dropout=0.0,
           bottleneck=False):
    channels = [16, 32, 64] if channels is None else list(channels)
    blocks = 2 if layers_per_block is None else layers_per_block
    c, h, w = input_shape
    layers: list[nn.Module] = [*_conv_bn(c, channels[0], 3), make_act(activation)]
    cin = channels[0]
    for i, width in enumerate(channels):
        for j in range(blocks):
            # halve the map at the start of each later stage, while it is big enough to halve
            stride = 2 if (i > 0 and j == 0 and min(h, w) >= 2) else 1
            if stride == 2:
                h, w = (h + 1) // 2, (w + 1) // 2
            layers.append(ResidualBlock(cin, width, stride, activation, dropout, bottleneck))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
    return nn.Sequential(*layers)
