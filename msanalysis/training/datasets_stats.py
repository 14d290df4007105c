"""Per-channel mean and standard deviation of each image dataset, in one place.

The models normalise inside their first layer (:class:`~msanalysis.training.models.Normalize`),
so images stay in [0, 1] everywhere else (attacks clip to that box). The values are those of
the training split, pixel values scaled to [0, 1], population standard deviation over all
pixels of all images:

* CIFAR-10: the true per-channel std (0.2470, 0.2435, 0.2616). The (0.2023, 0.1994, 0.2010)
  seen in many CIFAR repositories is the mean of per-image stds, not the dataset's std.
* Fashion-MNIST: recomputed from the IDX files by ``tests/test_training_models.py``.
* MNIST: the usual (0.1307, 0.3081).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..registry import lookup

__all__ = ["ChannelStats", "DATASET_STATS", "dataset_stats", "channel_stats"]


class ChannelStats(NamedTuple):
    """Per-channel mean and std of images scaled to [0, 1]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


DATASET_STATS: dict[str, ChannelStats] = {
    "cifar10": ChannelStats((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "fashion-mnist": ChannelStats((0.2860,), (0.3530,)),
    "mnist": ChannelStats((0.1307,), (0.3081,)),
}


def dataset_stats(name: str) -> ChannelStats:
    """The stats of dataset ``name``, with an error that lists the known names."""
    return lookup(DATASET_STATS, name, kind="dataset")


def channel_stats(images: np.ndarray, *, channel_axis: int | None = None) -> ChannelStats:
    """Mean and population std per channel of uint8 images, scaled to [0, 1].

    Args:
      images: uint8 array, e.g. (N, H, W) for one channel or (N, H, W, C).
      channel_axis: the channel axis, or None for single-channel images.

    Returns:
      The per-channel stats (float64 accumulation, so 60 000 images lose no precision).
    """
    x = np.asarray(images, dtype=np.float64) / 255.0
    if channel_axis is None:
        x = x[..., np.newaxis]
        channel_axis = -1
    x = np.moveaxis(x, channel_axis, -1).reshape(-1, x.shape[channel_axis])
    return ChannelStats(tuple(x.mean(axis=0).tolist()), tuple(x.std(axis=0).tolist()))
