"""What the paper prints, transcribed: its equations as sympy expressions, typos included.

Nothing here is derived. Each entry copies one printed equation of the paper symbol for
symbol, in the symbols of :mod:`msanalysis.symbolic` (ξ = ``XI``, η = ``ETA``, α = ``ALPHA``,
γ = ``GAMMA``), so that other modules can compare the printed form with what sympy derives
from the single loss definitions of :mod:`msanalysis.losses` (the figures draw both; the claims
ledger tests them). An entry must never be "fixed" to agree with the derivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .symbolic import ALPHA, ETA, GAMMA, XI

__all__ = ["PrintedEquation", "PRINTED_GRADIENTS"]


@dataclass(frozen=True)
class PrintedEquation:
    """One equation as the paper prints it.

    Attributes:
      number: the paper's equation number.
      lhs: the left-hand side as printed.
      expr: the right-hand side, transcribed, as a sympy expression.
      loss: the name in :data:`msanalysis.losses.LOSSES` of the loss the equation is about.
      meaning: what the paper says the expression is, e.g. the derivative with respect to
        the true-class logit o (both eqs. 5 and 8 are derivatives with respect to the logit,
        eq. 5 by its left-hand side, eq. 8 because its CE part, ξ - 1, is dCE/do).
    """

    number: int
    lhs: str
    expr: sp.Expr
    loss: str
    meaning: str


# Printed gradients with respect to the true-class logit, keyed by equation number.
PRINTED_GRADIENTS: dict[int, PrintedEquation] = {
    5: PrintedEquation(
        number=5,
        lhs="FL'(o_k)",
        expr=-ALPHA * (1 - XI) ** GAMMA * (GAMMA * XI * sp.log(XI) - 1 + XI)
        + ETA * (2 * XI * (1 - XI) - 2 * (1 - XI) ** 2),
        loss="ms-focal",
        meaning="gradient of the MS-focal loss (eq. 4) with respect to the true-class logit",
    ),
    8: PrintedEquation(
        number=8,
        lhs="CE'(xi)",
        expr=XI - 1 + ETA * (2 * XI * (1 - XI) - 2 * (1 - XI) ** 2),
        loss="ms",
        meaning="gradient of two-stationary-point CE (eq. 7) with respect to the true-class logit",
    ),
}
