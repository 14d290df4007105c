"""Projected gradient descent on the L_inf ball (Madry et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn

from .base import EPS, STEP, Attack, _check_nonneg, project
from .objectives import Objective

__all__ = ["PGD"]


class PGD(Attack):
    r"""PGD: ``steps`` signed-gradient steps of size ``alpha``, each projected back.

    .. math::

        x_{t+1} = \Pi_{B_\infty(x, \epsilon) \cap [0,1]^d}
            \big(x_t + \alpha\,\mathrm{sign}\,\nabla_x f(x_t)\big)

    Defaults are torchattacks' ``PGD`` (eps 8/255, alpha 2/255, 10 steps, uniform random start
    in the eps-ball, clipped to [0, 1]). With ``restarts > 1`` the attack is rerun from new
    random starts and a sample keeps the first run that misclassifies it.

    Args:
      model, eps, objective, seed: see :class:`~msanalysis.attacks.base.Attack`.
      alpha: step size, >= 0.
      steps: number of steps, >= 0 (0 returns the start point).
      random_start: start at a uniform point of the eps-ball instead of at the image.
      restarts: number of runs, >= 1.
    """

    name = "pgd"

    def __init__(
        self,
        model: nn.Module,
        *,
        eps: float = EPS,
        alpha: float = STEP,
        steps: int = 10,
        random_start: bool = True,
        restarts: int = 1,
        objective: str | Objective = "ce",
        seed: int | None = None,
    ) -> None:
        super().__init__(model, eps=eps, objective=objective, seed=seed)
        self.alpha = _check_nonneg("alpha", alpha)
        if int(steps) != steps or steps < 0:
            raise ValueError(f"steps must be an integer >= 0; got {steps!r}")
        if int(restarts) != restarts or restarts < 1:
            raise ValueError(f"restarts must be an integer >= 1; got {restarts!r}")
        self.steps, self.restarts, self.random_start = int(steps), int(restarts), bool(random_start)

    def settings(self) -> dict[str, object]:
        extra = {"alpha": self.alpha, "steps": self.steps, "random_start": self.random_start}
        if self.restarts > 1:
            extra["restarts"] = self.restarts
        return {**super().settings(), **extra}

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        adv = self.run_once(images, labels)
        for _ in range(self.restarts - 1):
            with torch.no_grad():
                todo = (self.model(adv).argmax(1) == labels).nonzero().squeeze(1)
            if todo.numel() == 0:
                break
            adv[todo] = self.run_once(images[todo], labels[todo])
        return adv

    def run_once(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """One run: (random) start, then ``steps`` projected ascent steps."""
        adv = images
        if self.random_start:
            adv = torch.clamp(images + self.eps * self.uniform(images), min=0, max=1)
        memory = None
        for _ in range(self.steps):
            grad = self.gradient(adv, labels)[0]
            direction, memory = self.direction(grad, memory)
            adv = project(adv + self.alpha * direction, images, self.eps)
        return adv

    def direction(
        self, grad: torch.Tensor, memory: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The step direction from this step's gradient (and state carried between steps)."""
        return grad.sign(), memory
