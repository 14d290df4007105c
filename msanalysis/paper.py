"""What the paper prints, transcribed as sympy expressions.

These are quotations of the paper's equations (the reviewed manuscript: "Multi-stationary
point losses for robust model", ICLR 2023 submission, OpenReview id LKXAKOxu-T; renamed
"Stationary Point Losses for Robust Model", arXiv 2302.09575), written in the symbols of
:mod:`msanalysis.symbolic`, typos included: they are what the claims ledger checks, never what
the package computes with. Each entry names its equation number. Obvious transcription choices
are noted where the printed form is ambiguous.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import sympy as sp

from .symbolic import ALPHA, ETA, GAMMA, GAMMA_NEG, XI

__all__ = [
    "Y",
    "G",
    "P",
    "P_T",
    "X",
    "K",
    "LOGITS",
    "S_INDEX",
    "PRINTED",
    "FRACTIONS",
    "DELETED",
    "PRINTED_GRADIENTS",
    "quoted_tables",
]

Y = sp.Symbol("y", nonnegative=True)  # the label of eqs. 2 and 4
G = GAMMA_NEG  # eq. 18's γ: the positive-class probability at x = -1
P = sp.Symbol("p", positive=True)  # eq. 6's p, the probability of class y = 1
P_T = sp.Symbol("p_t", positive=True)  # eq. 6's p_t, for statements written in it
X = sp.Symbol("x", real=True, nonzero=True)  # eq. 32's input xᵀ, one dimension
K = sp.Symbol("K", integer=True, positive=True)  # the number of classes (Notation, eq. 1)
LOGITS = sp.IndexedBase("o", real=True)  # the logits o_k of eq. 1
S_INDEX = sp.Symbol("s", integer=True, positive=True)  # eq. 1's class index s
_K_INDEX = sp.Symbol("k", integer=True, positive=True)

_ROOT4 = sp.sqrt(ETA * (4 + ETA))


def quoted_tables() -> dict[str, Any]:
    """The paper's Tables 1 and 2 as printed (``msanalysis/data/paper_tables.json``).

    Quoted data, never our results: the tables commands print them beside ours, labelled as the
    paper's, and the ledger checks the paper's text against them. Torch-free, so the ledger can
    read the paper's numbers without the training stack. A fresh copy on each call: callers
    may not change what another caller reads.

    Returns:
      ``{"table1": {...}, "table2": {...}}``, each with its ``dataset`` and ``accuracy`` as
      model -> loss -> attack -> percent.

    Examples:
      >>> quoted_tables()["table1"]["accuracy"]["resnet18"]["ce"]["fgsm"] > 0
      True
    """
    text = resources.files("msanalysis").joinpath("data/paper_tables.json").read_text()
    return json.loads(text)


PRINTED: dict[str, sp.Expr] = {
    # eq. 1: ξ = e^{o_s} / Σ_{k=1}^{K} e^{o_k}, s = 1, ..., K (the Jacobian is not printed).
    "eq. 1": sp.exp(LOGITS[S_INDEX]) / sp.Sum(sp.exp(LOGITS[_K_INDEX]), (_K_INDEX, 1, K)),
    # Notation (Section 3.2): "y ∈ {1, 2, ..., K} are corresponding targets", as (first, last).
    "labels": (sp.Integer(1), K),
    # eq. 2 (and eq. 9): L = -y log ξ - (1 - y) log(1 - ξ).
    "eq. 2": -Y * sp.log(XI) - (1 - Y) * sp.log(1 - XI),
    # eq. 4 with the printed focal factor (1 - y)^γ.
    "eq. 4": -ALPHA * (1 - Y) ** GAMMA * sp.log(XI) + ETA * (XI**2 + (1 - XI) ** 2),
    # eq. 5: the printed gradient of eq. 4 with respect to the (true) logit.
    "eq. 5": -ALPHA * (1 - XI) ** GAMMA * (GAMMA * XI * sp.log(XI) - 1 + XI)
    + ETA * (2 * XI * (1 - XI) - 2 * (1 - XI) ** 2),
    # eq. 8: the printed gradient of eq. 7 ("CE'(ξ)"; the text calls it the gradient of CE loss).
    "eq. 8": XI - 1 + ETA * (2 * XI * (1 - XI) - 2 * (1 - XI) ** 2),
    # eq. 6: p_t = p if y = 1, 1 - p otherwise.
    "eq. 6": sp.Piecewise((P, sp.Eq(Y, 1)), (1 - P, True)),
    # eq. 7, the norms of a scalar read as absolute values: -log ξ + η(ξ² + (1 - ξ)²).
    "eq. 7": -sp.log(XI) + ETA * (XI**2 + (1 - XI) ** 2),
    # The introduction: "a family of new losses, called multi-stationary point (MS) loss, which
    # has two stationary points" (the asymptotic one and a finite one).
    "MS family stationary points": sp.Integer(2),
    # Section 5: "But it is not always convergence for any stationary-point coefficient."
    "Section 5 not always convergent": sp.true,
    # eqs. 21 and 23 print the same result for ∂L1/∂w and ∂L1/∂b.
    "eq. 21": -2 * (1 - XI) * (-1 + 2 * ETA * XI**2 - 2 * ETA * XI * (1 - XI)),
    "eq. 22": 2 * G * (1 + 2 * ETA * G * (1 - G) - 2 * ETA * (1 - G) ** 2),
    "eq. 23": -2 * (1 - XI) * (-1 + 2 * ETA * XI**2 - 2 * ETA * XI * (1 - XI)),
    "eq. 24": -2 * G * (1 + 2 * ETA * G * (1 - G) - 2 * ETA * (1 - G) ** 2),
    # eqs. 27-30 as printed (eqs. 28 and 29 as a - n/d: see FRACTIONS).
    "eq. 27": (_ROOT4 + ETA) / (4 * ETA),
    "eq. 28": ETA - _ROOT4 / (4 * ETA),
    "eq. 29": 3 * ETA - _ROOT4 / (4 * ETA),
    "eq. 30": (_ROOT4 + 3 * ETA) / (4 * ETA),
    # The end of Theorem 2's proof: b = 0.5, so the boundary contains x = 0.
    "Theorem 2 b": sp.Rational(1, 2),
    "Theorem 2 boundary": sp.Integer(0),
    # eq. 32: "the derivation of weight" of eq. 31, as printed (xᵀ one-dimensional).
    "eq. 32": -(1 - XI) * 2 * X + 2 * ETA * 2 * X * (1 - XI) + 2 * ETA * (1 - XI) ** 2 * 2 * X,
    # eq. 33: the stationarity condition of eq. 31 as printed (common factor 2x dropped).
    "eq. 33": -(1 - XI) + 2 * ETA * (1 - XI) - 2 * ETA * (1 - XI) ** 2,
    "eq. 34": (1 - XI) * (-1 + 2 * ETA * XI),
    "eq. 35": 1 / (2 * ETA),
    # Theorem 3 (Section 5 about eq. 7, and the appendix about eq. 31): η > 0.5.
    "Theorem 3": sp.Rational(1, 2),
    # eq. 3: θ ← θ + α ∇L; the sign of the step.
    "eq. 3 sign": sp.Integer(1),
    # eq. 11: w ← w + α/p, with p = σ(2(wx + b) - 1) for a positive sample.
    "eq. 11": sp.Symbol("alpha_lr", positive=True)
    / (
        1
        + sp.exp(
            -(
                2
                * (
                    sp.Symbol("w", real=True) * sp.Symbol("x", positive=True)
                    + sp.Symbol("b", real=True)
                )
                - 1
            )
        )
    ),
    # eqs. 12-16: increasing w lowers a positive sample's CE loss (the sign of dL/dw).
    "eq. 16 sign": sp.Integer(-1),
    # Figure 2 / Section 3.3: CE and focal loss have only the asymptotic stationary point
    # (the number of finite ones), MS loss has two (finite ones: 1), for the η of its text
    # (no condition is stated: every η > 0).
    "Figure 2 CE finite stationary": sp.Integer(0),
    "Figure 2 MS finite stationary": sp.Integer(1),
    "Figure 2 MS condition": sp.Interval.open(0, sp.oo),
    # Section 3.3/eq. 4: MS-focal has a second, finite stationary point (no condition stated).
    "eq. 4 MS-focal condition": sp.Interval.open(0, sp.oo),
    # Theorem 1: CE has no finite stationary point ("the loss can always be lowered").
    "Theorem 1 finite stationary": sp.false,
    # Theorem 1: a lower loss needs another boundary ("there is another boundary with a lower
    # loss"), and Section 3.2: CE does not converge to the robust (max-margin) boundary.
    "Theorem 1 lower loss moves the boundary": sp.true,
    "Section 3.2 CE reaches max margin": sp.false,
    # Theorem 2: "incorporating eq. 27 and eq. 28 we get b = 0.5".
    "Theorem 2 b from": ("eq. 27", "eq. 28"),
    # Theorem 2: MS "always" makes the model converge to the robust boundary.
    "Theorem 2 always max margin": sp.true,
    # Section 5: MS loss is equivalent to spectral decoupling (Pezeshki et al. 2021).
    "Section 5 equivalent to SD": sp.true,
    # The roots eqs. 27-30 mark "(del)": rejected as outside (0, 1).
    "deleted roots": frozenset({"eq. 28"}),
    # Table 2 as printed (quoted in msanalysis/data/paper_tables.json): accuracy by method.
    "Table 2": quoted_tables()["table2"]["accuracy"],
    # Section 4.2: MS improves every network under every attack by at least 20 points.
    "Section 4.2 least gain": sp.Integer(20),
    # Section 3.2 after Theorem 1: CE keeps optimising at the robust boundary and the network
    # then deviates from it.
    "Section 3.2 CE leaves the centred boundary": sp.true,
    # Section 3.2: CE has more than one optimal boundary, and so (the conclusion drawn from it)
    # it will not lead the model to better parameters once a near-boundary is learned.
    "Section 3.2 CE several optimal boundaries": sp.true,
    "Section 3.2 CE will not find better parameters": sp.true,
    # Sections 3.1 and 3.3 (Figure 1): MS's boundary is parallel to the line segments.
    "Section 3.3 MS boundary parallel": sp.true,
    # Section 4.3 (Figure 4): CE's boundary lies far from the larger class (it leans towards
    # the minority class); MS's boundary is closer to the middle than CE's.
    "Section 4.3 CE leans to minority": sp.true,
    "Section 4.3 MS nearer the middle": sp.true,
    # Section 4.3's conclusion from Figure 4: MS reduces the effect of the class imbalance.
    "Section 4.3 MS reduces the imbalance effect": sp.true,
    # Abstract, Section 1 and Section 6: MS gives robustness "without losing much accuracy".
    "Abstract accuracy kept": sp.true,
    # Section 4.2: MS has the highest adversarial accuracy in Table 2; the baselines' numbers
    # follow their original papers (the sources Section 4.2 cites for each row).
    "Section 4.2 MS highest in Table 2": sp.true,
    "Table 2 sources": {
        "ms": "this paper",
        "mmc": "Pang et al. (2019a)",
        "sce": "He et al. (2016)",
        "center-loss": "Wen et al. (2016)",
        "l-dm": "Wan et al. (2018)",
    },
}

# Eqs. 28-29 print a + n/d with the fraction bar under n alone; (a, n, d) lets a check read
# them with the bar under the whole numerator, (a + n)/d, as eqs. 27 and 30 have it.
FRACTIONS: dict[str, tuple[sp.Expr, sp.Expr, sp.Expr]] = {
    "eq. 28": (ETA, -_ROOT4, 4 * ETA),
    "eq. 29": (3 * ETA, -_ROOT4, 4 * ETA),
}

# Roots the paper marks "(del)": rejected as outside (0, 1).
DELETED = PRINTED["deleted roots"]

# The printed gradients with respect to the true-class logit, by the loss they belong to.
PRINTED_GRADIENTS: dict[str, tuple[str, sp.Expr]] = {
    "ms-focal": ("eq. 5", PRINTED["eq. 5"]),
    "ms": ("eq. 8", PRINTED["eq. 8"]),
}
