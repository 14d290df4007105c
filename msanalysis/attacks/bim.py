"""Basic iterative method (Kurakin et al. 2017)."""

from __future__ import annotations

from torch import nn

from .base import EPS, STEP
from .objectives import Objective
from .pgd import PGD

__all__ = ["BIM"]


class BIM(PGD):
    """Iterated FGSM from the image itself: PGD without a random start.

    Defaults are torchattacks' ``BIM``: eps 8/255, alpha 2/255, 10 steps, and ``steps=0``
    chooses Kurakin et al.'s count min(255 eps + 4, 1.25 * 255 eps). torchattacks clips to
    [max(x - eps, 0), x + eps] and then to <= 1, which is the same set as PGD's projection.
    """

    name = "bim"

    def __init__(
        self,
        model: nn.Module,
        *,
        eps: float = EPS,
        alpha: float = STEP,
        steps: int = 10,
        objective: str | Objective = "ce",
    ) -> None:
        if steps == 0:
            steps = int(min(eps * 255 + 4, 1.25 * eps * 255))
        super().__init__(
            model, eps=eps, alpha=alpha, steps=steps, random_start=False, objective=objective
        )

    def settings(self) -> dict[str, object]:
        return {k: v for k, v in super().settings().items() if k != "random_start"}
