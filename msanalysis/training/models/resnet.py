"""CIFAR ResNet-18/34 (He et al. 2016) in the kuangliu/pytorch-cifar form.

3x3 stem with stride 1 and no max-pool, so 32x32 inputs keep full resolution in the first
stage; BasicBlocks with a 1x1 projection shortcut where the shape changes; global average pool.
The pool is adaptive, which on 32x32 inputs equals kuangliu's ``avg_pool2d(out, 4)`` and also
accepts 28x28 (Fashion-MNIST) inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .head import HeadMixin


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(HeadMixin, nn.Module):
    """Four stages of BasicBlocks (64, 128, 256, 512 planes), ``num_blocks`` per stage."""

    def __init__(
        self, num_blocks: tuple[int, int, int, int], *, num_classes: int = 10, in_channels: int = 3
    ) -> None:
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(64, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(128, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(256, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(512, num_blocks[3], stride=2)
        self.linear = nn.Linear(512 * BasicBlock.expansion, num_classes)

    def _make_layer(self, planes: int, num_blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes * BasicBlock.expansion
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled penultimate features, (N, 512)."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def resnet18(*, num_classes: int = 10, in_channels: int = 3) -> ResNet:
    return ResNet((2, 2, 2, 2), num_classes=num_classes, in_channels=in_channels)


def resnet34(*, num_classes: int = 10, in_channels: int = 3) -> ResNet:
    return ResNet((3, 4, 6, 3), num_classes=num_classes, in_channels=in_channels)
