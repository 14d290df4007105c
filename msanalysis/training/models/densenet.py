"""CIFAR DenseNet-121 (Huang et al. 2017) in the kuangliu/pytorch-cifar form.

Bottleneck layers BN-ReLU-1x1(4k)-BN-ReLU-3x3(k) concatenated onto their input, growth k = 32,
blocks of (6, 12, 24, 16) layers, transitions BN-ReLU-1x1-avgpool compressing channels by the
reduction 0.5; a 3x3 stem of 2k channels with no pooling, for 32x32 inputs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .head import HeadMixin


class Bottleneck(nn.Module):
    def __init__(self, in_planes: int, growth_rate: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, 4 * growth_rate, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth_rate)
        self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([out, x], 1)


class Transition(nn.Module):
    def __init__(self, in_planes: int, out_planes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(in_planes)
        self.conv = nn.Conv2d(in_planes, out_planes, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNet(HeadMixin, nn.Module):
    def __init__(
        self,
        num_blocks: tuple[int, int, int, int],
        *,
        growth_rate: int = 32,
        reduction: float = 0.5,
        num_classes: int = 10,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.growth_rate = growth_rate
        planes = 2 * growth_rate
        self.conv1 = nn.Conv2d(in_channels, planes, 3, padding=1, bias=False)
        stages: list[nn.Module] = []
        for i, n in enumerate(num_blocks):
            stages.append(self._make_dense(planes, n))
            planes += n * growth_rate
            if i < len(num_blocks) - 1:
                out_planes = int(math.floor(planes * reduction))
                stages.append(Transition(planes, out_planes))
                planes = out_planes
        self.features = nn.Sequential(*stages)
        self.bn = nn.BatchNorm2d(planes)
        self.linear = nn.Linear(planes, num_classes)

    def _make_dense(self, in_planes: int, n: int) -> nn.Sequential:
        return nn.Sequential(
            *(Bottleneck(in_planes + i * self.growth_rate, self.growth_rate) for i in range(n))
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled penultimate features, (N, 1024)."""
        out = self.features(self.conv1(x))
        # Adaptive pool: kuangliu's avg_pool2d(out, 4) on 32x32 inputs, and it accepts 28x28.
        return F.adaptive_avg_pool2d(F.relu(self.bn(out)), 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def densenet121(*, num_classes: int = 10, in_channels: int = 3) -> DenseNet:
    return DenseNet(
        (6, 12, 24, 16), growth_rate=32, num_classes=num_classes, in_channels=in_channels
    )
