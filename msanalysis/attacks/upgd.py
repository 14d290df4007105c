"""torchattacks' "Ultimate PGD": PGD with L1-normalised gradients and momentum."""

from __future__ import annotations

import torch
from torch import nn

from .base import EPS, STEP
from .objectives import Objective
from .pgd import PGD

__all__ = ["UPGD"]


class UPGD(PGD):
    r"""PGD whose direction is the sign of a momentum of L1-normalised gradients.

    .. math:: g_t = \frac{\nabla_x f(x_t)}{\mathrm{mean}|\nabla_x f(x_t)|} + \mu\, g_{t-1},
              \quad x_{t+1} = \Pi\big(x_t + \alpha\,\mathrm{sign}\,g_t\big)

    This is torchattacks' ``UPGD`` (its momentum is MI-FGSM's, Dong et al. 2018); its
    defaults: eps 8/255, alpha 2/255, 10 steps, no random start, decay mu = 1. torchattacks'
    ``loss`` option is our ``objective``; its ``eot_iter`` is left out (models are evaluated
    in eval mode, so every gradient evaluation is the same). One deliberate difference: where a
    sample's gradient is exactly zero (a flat objective, e.g. DLR when the true class ranks
    third), torchattacks divides 0 by 0 and the NaN momentum freezes that sample for the rest
    of the run; here the zero gradient adds nothing and the momentum carries on.

    Args:
      decay: momentum factor mu >= 0.
    """

    name = "upgd"

    def __init__(
        self,
        model: nn.Module,
        *,
        eps: float = EPS,
        alpha: float = STEP,
        steps: int = 10,
        random_start: bool = False,
        decay: float = 1.0,
        objective: str | Objective = "ce",
        seed: int | None = None,
    ) -> None:
        super().__init__(
            model,
            eps=eps,
            alpha=alpha,
            steps=steps,
            random_start=random_start,
            objective=objective,
            seed=seed,
        )
        if decay < 0:
            raise ValueError(f"decay must be >= 0; got {decay!r}")
        self.decay = float(decay)

    def settings(self) -> dict[str, object]:
        return {**super().settings(), "decay": self.decay}

    def direction(
        self, grad: torch.Tensor, memory: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        scale = grad.abs().mean(dim=tuple(range(1, grad.ndim)), keepdim=True)
        grad = grad / torch.where(scale > 0, scale, torch.ones_like(scale))
        if memory is not None:
            grad = grad + self.decay * memory
        return grad.sign(), grad
