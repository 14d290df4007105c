"""A small CNN for 1x28x28 images (Fashion-MNIST): two conv layers and two dense layers.

About 0.42 M parameters; a forward-backward pass on a batch of 128 takes milliseconds on one
CPU core, so the robustness experiments can run on CPU-only machines.
"""

from __future__ import annotations

import torch
from torch import nn

from .head import HeadMixin


class SmallCNN(HeadMixin, nn.Module):
    """conv3x3(32)-ReLU-pool2, conv3x3(64)-ReLU-pool2, dense(``hidden``)-ReLU, dense(classes)."""

    def __init__(self, *, num_classes: int = 10, in_channels: int = 1, hidden: int = 128) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7),  # identity on 28x28 inputs; lets 32x32 inputs through
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    head_path = ("classifier", "3")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden layer's activations, (N, hidden)."""
        return self.classifier[:-1](self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def small_cnn(*, num_classes: int = 10, in_channels: int = 1, hidden: int = 128) -> SmallCNN:
    return SmallCNN(num_classes=num_classes, in_channels=in_channels, hidden=hidden)
