"""Objectives an attack ascends: per-sample losses of (logits, labels).

Every attack of :mod:`msanalysis.attacks` takes an explicit objective, because the objective
decides what an evaluation can see: a loss whose gradient vanishes on the model's outputs
(a saturated softmax, a loss with a flat region) makes a gradient attack blind there, while
the robustness is not real. The tables therefore record which objective they used.

* ``'ce'``: cross-entropy of the logits, torchattacks' default.
* ``'margin'``: the CW margin max_{j≠y} z_j - z_y (Carlini & Wagner 2017), not clamped, so
  the ascent keeps pushing after the label flips.
* ``'dlr'``: the difference-of-logits ratio of Croce & Hein 2020, invariant to shifts and
  positive rescalings of the logits.
* :func:`family_objective`: any loss of :mod:`msanalysis.losses` (a model's own training
  loss), as :class:`msanalysis.training.losses.FamilyLoss` evaluates it, per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from ..registry import lookup
from ..training.losses import FamilyLoss

__all__ = [
    "Objective",
    "OBJECTIVES",
    "cross_entropy",
    "margin",
    "dlr",
    "family_objective",
    "objective_name",
    "resolve_objective",
]

#: (logits (N, K), labels (N,)) -> per-sample loss (N,), larger = closer to misclassified.
Objective = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """-log softmax(z)_y per sample (torch's fused, stable log-softmax)."""
    return F.cross_entropy(logits, labels, reduction="none")


def _true_and_best_other(
    logits: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """z_y and max_{j≠y} z_j, each (N,)."""
    true = logits.gather(1, labels[:, None]).squeeze(1)
    is_true = F.one_hot(labels, logits.shape[1]).bool()
    # Masking with -inf (not multiplying by 1 - onehot) keeps the max right when all logits < 0.
    other = logits.masked_fill(is_true, float("-inf")).amax(dim=1)
    return true, other


def margin(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    r"""CW margin :math:`\max_{j \ne y} z_j - z_y`; positive iff the sample is misclassified."""
    true, other = _true_and_best_other(logits, labels)
    return other - true


def dlr(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    r"""Difference-of-logits ratio (Croce & Hein 2020, eq. 6), needs K >= 3 classes.

    .. math:: \mathrm{DLR} = \frac{\max_{j \ne y} z_j - z_y}{z_{\pi_1} - z_{\pi_3} + 10^{-12}}

    with :math:`z_{\pi_1} \ge z_{\pi_2} \ge \dots` the sorted logits.
    """
    if logits.shape[1] < 3:
        raise ValueError(f"the 'dlr' objective needs at least 3 classes, got {logits.shape[1]}")
    true, other = _true_and_best_other(logits, labels)
    top = logits.topk(3, dim=1).values
    return (other - true) / (top[:, 0] - top[:, 2] + 1e-12)


OBJECTIVES: dict[str, Objective] = {"ce": cross_entropy, "margin": margin, "dlr": dlr}


def family_objective(name: str, **params: Any) -> Objective:
    """A loss of :mod:`msanalysis.losses` (e.g. ``'ms', eta=1.5``) as an attack objective.

    It is :class:`msanalysis.training.losses.FamilyLoss` with ``reduction='none'``: the
    training loss itself, per sample.

    Args:
      name: a name of :data:`msanalysis.losses.LOSSES`.
      **params: its hyper-parameters, validated by the family's registry.

    Returns:
      The per-sample loss, named ``'loss:<name>(<params>)'`` in reports.
    """
    return FamilyLoss(name, reduction="none", check_values=False, **params)


def objective_name(objective: Objective) -> str:
    """How reports name an objective: a FamilyLoss as ``loss:<name>(<params>)``."""
    if isinstance(objective, FamilyLoss):
        args = ",".join(f"{k}={v:g}" for k, v in sorted(objective.params.items()))
        return f"loss:{objective.name}" + (f"({args})" if args else "")
    return getattr(objective, "__name__", type(objective).__name__)


def resolve_objective(objective: str | Objective) -> tuple[str, Objective]:
    """(name, function) of an objective given by name or as a callable."""
    if callable(objective):
        return objective_name(objective), objective
    function = lookup(OBJECTIVES, objective, kind="objective", alternative=", or pass a callable")
    return objective, function
