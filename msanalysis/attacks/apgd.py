"""Auto-PGD (Croce & Hein 2020), L_inf, written compactly after Algorithm 1 of the paper."""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import EPS, Attack, _check_nonneg, project
from .objectives import Objective

__all__ = ["APGD", "checkpoints"]


def checkpoints(steps: int) -> set[int]:
    """Iterations w_j = ceil(p_j N) where APGD may halve its step (Croce & Hein 2020, Sec. 3.2).

    p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06).
    """
    p_prev, p, marks = 0.0, 0.22, set()
    while p <= 1:
        marks.add(math.ceil(round(p * steps, 9)))  # round: 0.57 * 100 is 57.000000000000007
        p_prev, p = p, p + max(p - p_prev - 0.03, 0.06)
    return marks - {0}


class APGD(Attack):
    r"""APGD: PGD with momentum 0.75 and a step size that halves when progress stalls.

    Start at a uniform point of the eps-ball (scaled so its largest coordinate is eps), step
    2 eps. At each checkpoint w_j a sample's step is halved, and it restarts from its best
    point, when (1) its objective rose on fewer than rho of the steps since w_{j-1}, or (2)
    its step was not halved at w_{j-1} and its best objective has not improved since.

    Each sample returns the first iterate that misclassifies it, otherwise its highest-
    objective iterate. ``restarts > 1`` reruns the attack on the samples not yet fooled.

    Args:
      model, eps, objective, seed: see :class:`~msanalysis.attacks.base.Attack`
        (``objective='dlr'`` gives APGD-DLR).
      steps: iterations per run (AutoAttack uses 100).
      restarts: runs, >= 1.
      rho: the oscillation threshold of condition (1), in (0, 1).

    References:
      Croce & Hein, Reliable evaluation of adversarial robustness with an ensemble of
      diverse parameter-free attacks, ICML 2020.
    """

    name = "apgd"

    def __init__(
        self,
        model: nn.Module,
        *,
        eps: float = EPS,
        steps: int = 100,
        restarts: int = 1,
        rho: float = 0.75,
        objective: str | Objective = "ce",
        seed: int | None = None,
    ) -> None:
        super().__init__(model, eps=eps, objective=objective, seed=seed)
        if int(steps) != steps or steps < 1:
            raise ValueError(f"steps must be an integer >= 1; got {steps!r}")
        if int(restarts) != restarts or restarts < 1:
            raise ValueError(f"restarts must be an integer >= 1; got {restarts!r}")
        if not 0 < _check_nonneg("rho", rho) < 1:
            raise ValueError(f"rho must lie in (0, 1); got {rho!r}")
        self.steps, self.restarts, self.rho = int(steps), int(restarts), float(rho)

    def settings(self) -> dict[str, object]:
        return {
            **super().settings(),
            "steps": self.steps,
            "restarts": self.restarts,
            "rho": self.rho,
        }

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        adv = images.clone()
        fooled = torch.zeros(len(images), dtype=torch.bool, device=images.device)
        for _ in range(self.restarts):
            todo = (~fooled).nonzero().squeeze(1)
            if todo.numel() == 0:
                break
            adv[todo], fooled[todo] = self.run_once(images[todo], labels[todo])
        return adv

    def run_once(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One run of Algorithm 1: (best adversarial images, which samples were fooled)."""
        shape = (-1,) + (1,) * (x.ndim - 1)
        marks = checkpoints(self.steps)
        t = self.uniform(x)
        t = t / t.flatten(1).abs().amax(1).clamp_min(1e-12).view(shape)
        x_adv = torch.clamp(x + self.eps * t, 0, 1)
        grad, loss, logits = self.gradient(x_adv, y)
        fooled = logits.argmax(1) != y
        x_fool, x_prev = x_adv, x_adv
        x_best, grad_best, loss_best = x_adv, grad, loss
        step = torch.full((len(x),), 2 * self.eps, device=x.device, dtype=x.dtype)
        rises = torch.zeros_like(loss)
        best_at_check, halved_at_check, last_check = loss_best, torch.ones_like(fooled), 0
        for i in range(self.steps):
            z = project(x_adv + step.view(shape) * grad.sign(), x, self.eps)
            a = 0.75 if i > 0 else 1.0
            x_prev, x_adv = (
                x_adv,
                project(x_adv + a * (z - x_adv) + (1 - a) * (x_adv - x_prev), x, self.eps),
            )
            grad, new_loss, logits = self.gradient(x_adv, y)
            now = logits.argmax(1) != y
            x_fool = torch.where((now & ~fooled).view(shape), x_adv, x_fool)
            fooled = fooled | now
            rises += new_loss > loss
            loss = new_loss
            better = loss > loss_best
            x_best = torch.where(better.view(shape), x_adv, x_best)
            grad_best = torch.where(better.view(shape), grad, grad_best)
            loss_best = torch.where(better, loss, loss_best)
            if i + 1 in marks:
                stalled = rises < self.rho * (i + 1 - last_check)
                halve = stalled | (~halved_at_check & (loss_best <= best_at_check))
                step = torch.where(halve, step / 2, step)
                x_adv = torch.where(halve.view(shape), x_best, x_adv)
                x_prev = torch.where(halve.view(shape), x_best, x_prev)
                grad = torch.where(halve.view(shape), grad_best, grad)
                rises = torch.zeros_like(rises)
                best_at_check, halved_at_check, last_check = loss_best, halve, i + 1
        return torch.where(fooled.view(shape), x_fool, x_best), fooled
