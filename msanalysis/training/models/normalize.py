"""The first layer of every image model: per-channel standardisation of [0, 1] inputs."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Normalize(nn.Module):
    """(x - mean) / std per channel; buffers only, no parameters.

    Keeping normalisation inside the model lets data loaders and attacks work in the [0, 1]
    pixel box, where an L∞ budget such as 8/255 means what it says.

    Args:
      mean: per-channel means (C,).
      std: per-channel standard deviations (C,), all > 0.

    Shape:
      input (N, C, ...) with C = len(mean); output the same.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        if len(mean) != len(std) or len(mean) == 0:
            raise ValueError(
                f"mean and std need the same non-zero length, got {len(mean)} and {len(std)}"
            )
        if any(not s > 0 for s in std):
            raise ValueError(f"std must be > 0 per channel, got {tuple(std)}")
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (-1,) + (1,) * (x.dim() - 2)  # broadcast over (N, C, H, W) or (N, D)
        return (x - self.mean.view(shape)) / self.std.view(shape)

    def extra_repr(self) -> str:
        return f"mean={tuple(self.mean.tolist())}, std={tuple(self.std.tolist())}"
