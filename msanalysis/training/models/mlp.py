"""The two-layer fully connected network of the paper's toy figures: 2 -> hidden -> classes."""

from __future__ import annotations

import torch
from torch import nn

from .head import HeadMixin


class MLP(HeadMixin, nn.Module):
    """Linear(in_features, hidden) - ReLU - Linear(hidden, num_classes).

    Args:
      num_classes: number of outputs (logits).
      in_features: input dimension (2 for the toy data).
      hidden: hidden width.
    """

    def __init__(self, *, num_classes: int = 2, in_features: int = 2, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
        )

    head_path = ("net", "2")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden layer's activations, (N, hidden)."""
        return self.net[:-1](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def mlp(*, num_classes: int = 2, in_channels: int = 2, hidden: int = 64) -> MLP:
    """The MLP with ``in_channels`` read as the input dimension (the registry's common name)."""
    return MLP(num_classes=num_classes, in_features=in_channels, hidden=hidden)
