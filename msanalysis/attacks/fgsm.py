"""Fast gradient sign method (Goodfellow et al. 2015)."""

from __future__ import annotations

from typing import Union

from torch import nn

from .objectives import Objective
from .pgd import PGD

__all__ = ["FGSM"]


class FGSM(PGD):
    r"""One signed-gradient step of size eps from the image, clipped to [0, 1].

    .. math:: x' = \mathrm{clip}_{[0,1]}\big(x + \epsilon\,\mathrm{sign}\,\nabla_x f(x)\big)

    That is PGD with one step of size eps and no random start. torchattacks' default eps is
    8/255; the paper's Section 4.2 uses eps = 0.007 (see :data:`msanalysis.attacks.PAPER_ATTACKS`).
    """

    name = "fgsm"

    def __init__(self, model: nn.Module, *, eps: float = 8 / 255, objective: Union[str, Objective] = "ce") -> None:
        super().__init__(model, eps=eps, alpha=eps, steps=1, random_start=False, objective=objective)

    def settings(self) -> dict[str, object]:
        return {"eps": self.eps, "objective": self.objective_name}
