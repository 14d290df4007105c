"""Adversarial attacks on images in [0, 1]: ``atk(images, labels) -> adv_images``.

One class per module, torchattacks' semantics and defaults (tests compare against it):
:class:`FGSM`, :class:`BIM`, :class:`PGD`, :class:`UPGD`, and :class:`APGD` (Croce & Hein
2020) for the masking audit. Each takes an explicit ``objective`` (see
:mod:`msanalysis.attacks.objectives`). :data:`PAPER_ATTACKS` holds the settings of the
paper's Section 4.2, and :func:`paper_attack` builds one of them.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..registry import lookup
from .apgd import APGD
from .base import EPS, STEP, Attack, project
from .bim import BIM
from .fgsm import FGSM
from .objectives import OBJECTIVES, Objective, family_objective, resolve_objective
from .pgd import PGD
from .upgd import UPGD

__all__ = [
    "Attack",
    "FGSM",
    "BIM",
    "PGD",
    "UPGD",
    "APGD",
    "project",
    "Objective",
    "OBJECTIVES",
    "family_objective",
    "resolve_objective",
    "PAPER_ATTACKS",
    "EPS",
    "STEP",
    "paper_attack",
]

#: The attacks of Table 1 with the settings Section 4.2 states (FGSM eps 0.007; BIM eps 8/255;
#: PGD eps 8/255, 40 steps; UPGD eps 8/255, alpha 2/255, 40 steps). What the paper leaves out
#: (BIM's and PGD's alpha and BIM's steps) takes torchattacks' defaults.
PAPER_ATTACKS: dict[str, tuple[type[Attack], dict[str, Any]]] = {
    "fgsm": (FGSM, {"eps": 0.007}),
    "bim": (BIM, {"eps": EPS}),
    "pgd": (PGD, {"eps": EPS, "steps": 40}),
    "upgd": (UPGD, {"eps": EPS, "alpha": STEP, "steps": 40}),
}


def paper_attack(
    name: str, model: nn.Module, *, objective: str | Objective = "ce", seed: int | None = 0
) -> Attack:
    """The attack ``name`` of :data:`PAPER_ATTACKS` on ``model``."""
    cls, settings = lookup(PAPER_ATTACKS, name, kind="attack")
    if cls in (PGD, UPGD):
        settings = {**settings, "seed": seed}
    return cls(model, objective=objective, **settings)
