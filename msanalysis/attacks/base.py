"""The attack base class: input checks, eval mode, input gradients, seeded random numbers."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..training.models import eval_mode
from .objectives import Objective, resolve_objective

__all__ = ["EPS", "STEP", "Attack", "project"]

#: The L∞ budget of the paper's Section 4.2 (BIM, PGD, UPGD; Table 2's first) and torchattacks'
#: default: 8/255 of the [0, 1] pixel box.
EPS = 8 / 255
#: The step size of Section 4.2's UPGD and torchattacks' default for the iterative attacks.
STEP = 2 / 255


def project(adv: torch.Tensor, images: torch.Tensor, eps: float) -> torch.Tensor:
    """Project onto the L_inf ball of radius ``eps`` around ``images``, then onto [0, 1].

    Written as torchattacks' PGD writes it (clamp the difference, add it back), so our images
    match theirs bit for bit.
    """
    delta = torch.clamp(adv - images, min=-eps, max=eps)
    return torch.clamp(images + delta, min=0, max=1)


class Attack:
    """An L_inf attack: ``atk(images, labels) -> adv_images``.

    Subclasses implement :meth:`perturb`. Calling the attack:

    * checks its inputs (images in [0, 1], finite; integer labels of the right length and range);
    * puts the model in eval mode and afterwards restores every sub-module's own mode;
    * never touches parameters' ``.grad``: gradients are taken with ``torch.autograd.grad``
      with respect to the images only.

    Normalisation belongs inside the model, so attacks see images in [0, 1].

    Args:
      model: maps images (N, ...) to logits (N, K).
      eps: L_inf radius, >= 0.
      objective: the loss to ascend, ``'ce'``, ``'margin'``, ``'dlr'`` or a callable
        (logits, labels) -> per-sample loss (see :mod:`msanalysis.attacks.objectives`).
      seed: seed of this attack's own ``torch.Generator`` for random starts (None:
        nondeterministic); global torch random state is never used.
    """

    name = "attack"

    def __init__(
        self,
        model: nn.Module,
        *,
        eps: float,
        objective: str | Objective = "ce",
        seed: int | None = None,
    ) -> None:
        self.model = model
        self.eps = _check_nonneg("eps", eps)
        self.objective_name, self.objective = resolve_objective(objective)
        self.seed = seed
        self._generator: torch.Generator | None = None
        self._checked_labels: torch.Tensor | None = None  # labels already checked against K

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({settings})"

    def settings(self) -> dict[str, object]:
        """The attack's settings as plain values, for reports."""
        return {"eps": self.eps, "objective": self.objective_name}

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check_batch(images, labels)
        with eval_mode(self.model), torch.enable_grad():
            return self.perturb(images.detach(), labels.detach()).detach()

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # -- helpers for subclasses ------------------------------------------------------------

    def gradient(
        self, x: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(d objective / d x, per-sample objective, logits) at ``x``; no parameter ``.grad``."""
        x = x.detach().requires_grad_(True)
        logits = self.model(x)
        if logits.ndim != 2 or logits.shape[0] != x.shape[0]:
            raise ValueError(
                f"the model must return logits of shape (N, K); got {tuple(logits.shape)}"
            )
        if labels is not self._checked_labels:  # once per batch: .max() synchronises a GPU
            if int(labels.max()) >= logits.shape[1]:
                raise ValueError(
                    f"labels must lie in [0, {logits.shape[1]}); got max {int(labels.max())}"
                )
            self._checked_labels = labels
        loss = self.objective(logits, labels)
        if loss.shape != labels.shape:
            raise ValueError(
                f"objective {self.objective_name} must return one loss per sample "
                f"(reduction='none'); got shape {tuple(loss.shape)}"
            )
        (grad,) = torch.autograd.grad(loss.sum(), x)
        return grad, loss.detach(), logits.detach()

    def uniform(self, like: torch.Tensor) -> torch.Tensor:
        """U[-1, 1) noise shaped like ``like``, from this attack's own generator."""
        if self._generator is None or self._generator.device != like.device:
            self._generator = torch.Generator(device=like.device)
            if self.seed is None:
                self._generator.seed()
            else:
                self._generator.manual_seed(self.seed)
        noise = torch.rand(
            like.shape, generator=self._generator, device=like.device, dtype=like.dtype
        )
        return 2 * noise - 1


def _check_nonneg(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def _check_batch(images: torch.Tensor, labels: torch.Tensor) -> None:
    if not torch.is_tensor(images) or not images.is_floating_point() or images.ndim < 2:
        raise ValueError("images must be a floating tensor of shape (N, ...)")
    if (
        not torch.is_tensor(labels)
        or labels.dtype != torch.long
        or labels.shape != images.shape[:1]
    ):
        raise ValueError(f"labels must be an int64 tensor of shape ({images.shape[0]},)")
    # One pass: NaN makes a comparison false and +-inf falls outside [0, 1], so this checks
    # finiteness too.
    if images.numel() and not all(0 <= v <= 1 for v in map(float, torch.aminmax(images))):
        raise ValueError(
            "images must be finite and lie in [0, 1] (normalisation belongs inside the model)"
        )
    if labels.numel() and int(labels.min()) < 0:
        raise ValueError(f"labels must be >= 0; got min {int(labels.min())}")
