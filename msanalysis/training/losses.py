"""Torch forms of the loss family of :mod:`msanalysis.losses`.

The losses are not rewritten here: :func:`true_class_from_logits` builds the
:class:`~msanalysis.losses.TrueClass` view from logits with a log-softmax, and the family's
single definitions are evaluated on it.
"""

from __future__ import annotations

import torch

from ..losses import TrueClass

__all__ = ["true_class_from_logits"]


def true_class_from_logits(logits: torch.Tensor, target: torch.Tensor) -> TrueClass[torch.Tensor]:
    """ξ, log ξ, 1 - ξ and log(1 - ξ) of each sample's true class, computed stably.

    Args:
      logits: (N, K) floating tensor.
      target: (N,) integer class indices in [0, K).

    Returns:
      A TrueClass of (N,) tensors, in the dtype of ``logits`` (float32 at least).
    """
    log_probs = torch.log_softmax(logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits, dim=-1)
    log_p = log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    p = log_p.exp()
    # Stability identity: 1 - ξ = -expm1(log ξ) keeps its relative precision as ξ -> 1.
    q = -torch.expm1(log_p)
    # log(1 - e^a), a = log ξ <= 0: log(-expm1(a)) near 0, log1p(-exp(a)) further out
    # (Mächler 2012, "Accurately computing log(1 - exp(-|a|))").
    log_q = torch.where(log_p > -0.6931471805599453, torch.log(q), torch.log1p(-p))
    return TrueClass(p=p, log_p=log_p, q=q, log_q=log_q)
