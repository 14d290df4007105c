"""CIFAR GoogLeNet (Szegedy et al. 2015) in the kuangliu/pytorch-cifar form.

A 3x3 stem to 192 channels instead of ImageNet's 7x7/max-pool stem; the nine Inception modules
of the paper, each with a 1x1 branch, a 1x1->3x3 branch, a 1x1->3x3->3x3 branch (the 5x5
replaced by two 3x3) and a pool->1x1 branch; convolutions with bias plus BatchNorm, as kuangliu.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .head import HeadMixin


def _conv_bn_relu(in_planes: int, out_planes: int, kernel_size: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_planes, out_planes, kernel_size, padding=kernel_size // 2),
        nn.BatchNorm2d(out_planes),
        nn.ReLU(True),
    ]


class Inception(nn.Module):
    def __init__(
        self,
        in_planes: int,
        n1x1: int,
        n3x3red: int,
        n3x3: int,
        n5x5red: int,
        n5x5: int,
        pool_planes: int,
    ) -> None:
        super().__init__()
        self.b1 = nn.Sequential(*_conv_bn_relu(in_planes, n1x1, 1))
        self.b2 = nn.Sequential(
            *_conv_bn_relu(in_planes, n3x3red, 1), *_conv_bn_relu(n3x3red, n3x3, 3)
        )
        self.b3 = nn.Sequential(
            *_conv_bn_relu(in_planes, n5x5red, 1),
            *_conv_bn_relu(n5x5red, n5x5, 3),
            *_conv_bn_relu(n5x5, n5x5, 3),
        )
        self.b4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), *_conv_bn_relu(in_planes, pool_planes, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNet(HeadMixin, nn.Module):
    def __init__(self, *, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.pre_layers = nn.Sequential(*_conv_bn_relu(in_channels, 192, 3))
        self.a3 = Inception(192, 64, 96, 128, 16, 32, 32)
        self.b3 = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.a4 = Inception(480, 192, 96, 208, 16, 48, 64)
        self.b4 = Inception(512, 160, 112, 224, 24, 64, 64)
        self.c4 = Inception(512, 128, 128, 256, 24, 64, 64)
        self.d4 = Inception(512, 112, 144, 288, 32, 64, 64)
        self.e4 = Inception(528, 256, 160, 320, 32, 128, 128)
        self.a5 = Inception(832, 256, 160, 320, 32, 128, 128)
        self.b5 = Inception(832, 384, 192, 384, 48, 128, 128)
        self.linear = nn.Linear(1024, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled penultimate features, (N, 1024)."""
        out = self.b3(self.a3(self.pre_layers(x)))
        out = self.maxpool(out)
        out = self.e4(self.d4(self.c4(self.b4(self.a4(out)))))
        out = self.maxpool(out)
        out = self.b5(self.a5(out))
        # Adaptive pool: kuangliu's AvgPool2d(8) on 32x32 inputs, and it accepts 28x28.
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def googlenet(*, num_classes: int = 10, in_channels: int = 3) -> GoogLeNet:
    return GoogLeNet(num_classes=num_classes, in_channels=in_channels)
