"""Attack rows and evaluation choices of a study: what is attacked, and how.

An *attack row* is one attack with fixed settings (the paper's four of Table 1, Table 2's
four PGD rows, PGD-40 at a list of ε). An *evaluation variant* is one of the choices a paper
could have made when it evaluated a model (see the study page of the docs):

=============== ========================================================================
standard        CE objective, eval-mode BatchNorm, ε in [0, 1] pixels, best.pt
train-loss      the attack ascends the model's own training loss
bn-train        BatchNorm in training mode (batch statistics) while the attack runs
eps-normalised  ε applied to normalised inputs: a pixel ε of ε·σ (σ the data set's std)
probs-as-logits the attack's CE is applied to softmax probabilities instead of logits
last-epoch      the last epoch's checkpoint instead of the best by test accuracy
margin          the attack ascends the logit margin max_{j≠y} o_j − o_y (the audit's)
dlr             the attack ascends the DLR loss of Croce & Hein 2020 (the audit's)
=============== ========================================================================

``margin`` and ``dlr`` are the objectives an adaptive attack uses on a model whose logits are
distances (MMC, L-GM): with ``standard`` they make the per-sample worst case of
:data:`WORST_CASE_OF` (see :mod:`~msanalysis.evaluation.study_report`).

Variants change the model the attack sees, the objective or ε; the model that is *judged*
is always the checkpoint's own, in eval mode (AutoAttack's convention in
:func:`~msanalysis.attacks.evaluate.correct_under`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..attacks import FGSM, PGD, Attack, Objective, paper_attack
from ..training.models.normalize import Normalize

__all__ = [
    "AttackRow",
    "ROW_SETS",
    "expand_rows",
    "VARIANTS",
    "WORST_CASE_OF",
    "Variant",
    "attack_model",
]


@dataclass(frozen=True)
class AttackRow:
    """One attack with its settings; ``build(model, objective, seed, eps_scale)``."""

    name: str
    kind: str  # "fgsm", "bim", "pgd", "upgd" (paper's settings) or "pgd-custom"
    eps255: float | None = None  # for pgd-custom and fgsm-custom: ε·255
    steps: int | None = None

    def build(
        self, model: nn.Module, objective: str | Objective, seed: int, eps_scale: float = 1.0
    ) -> Attack:
        if self.kind == "pgd-custom":
            return PGD(
                model,
                eps=eps_scale * self.eps255 / 255,
                steps=self.steps,
                objective=objective,
                seed=seed,
            )
        if self.kind == "fgsm-custom":
            return FGSM(model, eps=eps_scale * self.eps255 / 255, objective=objective)
        attack = paper_attack(self.kind, model, objective=objective, seed=seed)
        attack.eps *= eps_scale
        return attack


def _pgd_row(eps255: float, steps: int) -> AttackRow:
    return AttackRow(f"pgd{steps}@{eps255:g}/255", "pgd-custom", eps255, steps)


#: Named sets of rows a study file can ask for (``attacks = ["table1", "table2"]``).
ROW_SETS: dict[str, tuple[AttackRow, ...]] = {
    "table1": tuple(AttackRow(name, name) for name in ("fgsm", "bim", "pgd", "upgd")),
    "table2": tuple(_pgd_row(e, s) for e in (8, 16) for s in (10, 50)),
    "fgsm-8/255": (AttackRow("fgsm@8/255", "fgsm-custom", 8),),
    "pgd-few-steps": (_pgd_row(8, 5),),
}


def expand_rows(names: tuple[str, ...], pgd_eps255: tuple[float, ...]) -> tuple[AttackRow, ...]:
    """The rows of the named sets, plus PGD-40 at each ε of ``pgd_eps255`` (set ``"pgd-eps"``)."""
    rows: list[AttackRow] = []
    for name in names:
        if name == "pgd-eps":
            rows += [_pgd_row(e, 40) for e in pgd_eps255]
        else:
            rows += ROW_SETS[name]
    unique = {row.name: row for row in rows}
    return tuple(unique.values())


class _TrainModeBatchNorm(nn.Module):
    """The wrapped model with every BatchNorm in training mode (batch statistics) whatever the
    wrapper's mode; a deep copy, so the judged model's running statistics never change."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = copy.deepcopy(model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.train()
        return self.model(x)


class _Probabilities(nn.Module):
    """softmax(model(x)): handed to an attack that expects logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=1)


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def input_std(model: nn.Module) -> float:
    """The smallest per-channel σ of the model's :class:`Normalize` layer (1 if it has none).

    ε in normalised units is ε·σ in pixels: exact for one channel; for several channels the
    smallest σ (the channel where the normalised budget is tightest), an approximation."""
    for m in model.modules():
        if isinstance(m, Normalize):
            return float(m.std.min())
    return 1.0


@dataclass(frozen=True)
class Variant:
    """An evaluation choice: which checkpoint, which model the attack sees, objective, ε scale."""

    name: str
    checkpoint: str = "best"  # "best" or "last"
    objective: str = "ce"  # "ce", "train-loss", "margin" or "dlr"
    wrap: Callable[[nn.Module], nn.Module] | None = None
    scale_eps: bool = False
    needs_batchnorm: bool = False


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("standard"),
        Variant("train-loss", objective="train-loss"),
        Variant("bn-train", wrap=_TrainModeBatchNorm, needs_batchnorm=True),
        Variant("eps-normalised", scale_eps=True),
        Variant("probs-as-logits", wrap=_Probabilities),
        Variant("last-epoch", checkpoint="last"),
        Variant("margin", objective="margin"),
        Variant("dlr", objective="dlr"),
    )
}

#: The variants whose per-sample worst case a report shows as ``worst-case``: the same model
#: and ε under each objective; a sample counts as robust only if every attack fails.
WORST_CASE_OF: tuple[str, ...] = ("standard", "margin", "dlr")


def attack_model(variant: Variant, model: nn.Module) -> tuple[nn.Module, float] | None:
    """(the model the attack sees, ε scale) for ``variant``; None when it does not apply."""
    if variant.needs_batchnorm and not has_batchnorm(model):
        return None
    seen = variant.wrap(model) if variant.wrap is not None else model
    return seen, input_std(model) if variant.scale_eps else 1.0
