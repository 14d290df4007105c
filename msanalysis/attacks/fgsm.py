"""Fast gradient sign method (Goodfellow et al. 2015)."""

from __future__ import annotations

import torch
from torch import nn

from .base import EPS, Attack
from .objectives import Objective

__all__ = ["FGSM"]


class FGSM(Attack):
    r"""One signed-gradient step of size eps from the image, clipped to [0, 1].

    .. math:: x' = \mathrm{clip}_{[0,1]}\big(x + \epsilon\,\mathrm{sign}\,\nabla_x f(x)\big)

    PGD with one step of size eps and no random start (the step never leaves the eps-ball, so
    only the clip to [0, 1] remains). torchattacks' default eps is 8/255; the paper's Section
    4.2 uses eps = 0.007 (see :data:`msanalysis.attacks.PAPER_ATTACKS`).

    Args:
      model, eps, objective: see :class:`~msanalysis.attacks.base.Attack` (eps default 8/255).
    """

    name = "fgsm"

    def __init__(
        self, model: nn.Module, *, eps: float = EPS, objective: str | Objective = "ce"
    ) -> None:
        super().__init__(model, eps=eps, objective=objective)

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        grad = self.gradient(images, labels)[0]
        return torch.clamp(images + self.eps * grad.sign(), min=0, max=1)
