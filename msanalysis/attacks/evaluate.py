"""Robust accuracy over a data set, and the noise margin for comparing two models' accuracies."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ..training.models import eval_mode

__all__ = ["correct_under", "paired_noise_margin", "unpaired_noise_margin"]


def correct_under(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    attack: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    *,
    batch_size: int = 256,
    device: torch.device | None = None,
    progress: Callable[[int], object] | None = None,
) -> torch.Tensor:
    """Which samples the model still classifies correctly (clean when ``attack`` is None).

    A sample counts as robust only if the model gets it right both clean and attacked (the
    convention of AutoAttack), so an attack can never raise accuracy by moving a misclassified
    point across the boundary the right way.

    Args:
      model: images in [0, 1] -> logits; evaluated in eval mode (its modes are restored).
      images: (N, ...) floats in [0, 1], on any device.
      labels: (N,) int64.
      attack: ``attack(images, labels) -> adv_images`` (an :class:`Attack`, or anything
        with that signature, e.g. a torchattacks attack), or None for clean accuracy.
      batch_size: samples per batch.
      device: where to run (default: the model's device).
      progress: called with the number of samples done after each batch (a tqdm ``update``).

    Returns:
      (N,) bool tensor on the CPU.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    device = device or next(model.parameters()).device
    out = []
    with eval_mode(model):
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size].to(device)
            y = labels[start : start + batch_size].to(device)
            with torch.no_grad():
                ok = model(x).argmax(1) == y
            if attack is not None:
                adv = attack(x, y)
                with torch.no_grad():
                    ok &= model(adv).argmax(1) == y
            out.append(ok.cpu())
            if progress is not None:
                progress(len(x))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool)


def paired_noise_margin(a: torch.Tensor, b: torch.Tensor, *, z: float = 1.96) -> float:
    r"""Half-width of a two-sided 95% interval for mean(a) - mean(b) on the same samples.

    Both models are evaluated on the same test samples, so the difference of accuracies is the
    mean of the paired differences d_i = a_i - b_i, with standard error sd(d) / sqrt(n)
    (normal approximation, the same as McNemar's test). One sample, 1/n, is the floor: a
    difference of one image is never evidence.

    Args:
      a, b: (n,) bool or {0, 1} correctness of two models on the same samples.
      z: normal quantile (1.96: 95%).

    Returns:
      The margin, in accuracy units (fraction, not percent).
    """
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(
            f"need two equal-length 1-D correctness vectors with n >= 2; got {tuple(a.shape)}, "
            f"{tuple(b.shape)}"
        )
    d = a.double() - b.double()
    return max(z * float(d.std()) / math.sqrt(len(d)), 1 / len(d))


def unpaired_noise_margin(p1: float, p2: float, n: int, *, z: float = 1.96) -> float:
    """Half-width of a 95% interval for p1 - p2, two accuracies on n samples each, from the
    accuracies alone (binomial variances added: conservative when the samples are shared, as
    the paired margin is usually smaller). Floor: one sample, 1/n."""
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    return max(z * math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n), 1 / n)
