"""Rows on Section 5's remarks: spectral decoupling, and the vector reading of eqs. 4 and 7."""

from __future__ import annotations

from functools import cache

import sympy as sp

from .. import symbolic as S
from .compare import PAPER_ETA, fmt
from .rule import Claim, Printed, check

PART = "section5"
CLASS_COUNTS = (2, 3, 10)


@cache
def _sd_facts() -> dict[str, sp.Expr]:
    ms_term = sp.limit(S.loss("ms") - S.loss("ce"), S.XI, 1, "-")
    sd_term = sp.limit(S.loss("spectral-decoupling") - S.loss("ce"), S.XI, 1, "-")
    z = S.logit(S.XI)
    needed = sp.simplify((sp.diff(S.loss("ms"), S.XI) + 1 / S.XI) / sp.diff(z**2 / 2, S.XI))
    samples = [needed.subs(S.XI, x) for x in (sp.Rational(3, 4), sp.Rational(9, 10))]
    return {
        "ms_term": ms_term,
        "sd_term": sd_term,
        "needed": needed,
        "constant": sp.Integer(int(S.is_zero(samples[0] - samples[1]))),
        "sd_limit": sp.limit(S.grad_xi("spectral-decoupling"), S.XI, 1, "-"),
    }


@check("Section 5 equivalent to SD", corrected=lambda: {"Section 5 equivalent to SD": sp.false})
def spectral_decoupling_equivalence(printed: Printed) -> Claim:
    stated = bool(printed["Section 5 equivalent to SD"])
    f = _sd_facts()
    equivalent = bool(f["constant"]) and f["ms_term"] == f["sd_term"]
    # What the remark is used for: SD, like MS, has a threshold on its coefficient.
    sd_threshold_free = f["sd_limit"] == sp.oo
    return Claim(
        id="sec5-spectral-decoupling",
        part=PART,
        source="Section 5",
        paper="MS loss "
        + ("is" if stated else "is not")
        + " equivalent to spectral decoupling (Pezeshki et al. 2021)",
        derived=f"as ξ → 1 the MS term tends to {fmt(f['ms_term'])}, the SD penalty to "
        f"{fmt(f['sd_term'])}; SD has a finite stationary point for every λ > 0 (dℓ/dξ → "
        f"{fmt(f['sd_limit'])} at 1⁻), MS only for η > {S.eta_threshold('ms')}",
        exact=stated == equivalent,
        consequence=stated == (not sd_threshold_free),
        consequence_tested="the next sentence: the coefficient needs a selection rule, as MS's",
        evidence=f"matching the gradients would need λ = {fmt(f['needed'])}, constant in ξ: "
        f"{bool(f['constant'])}.",
    )


def _vector_threshold(reading: str, k: int) -> sp.Expr:
    rest = (1 - S.XI) / (k - 1)  # the other K-1 classes share 1 - ξ equally
    if reading == "all-ones minus p":
        term = S.XI**2 + (1 - S.XI) ** 2 + (k - 1) * (rest**2 + (1 - rest) ** 2)
    else:  # one-hot minus p: |p|² + |e_y - p|²
        term = S.XI**2 + (k - 1) * rest**2 + (1 - S.XI) ** 2 + (k - 1) * rest**2
    g = sp.diff(-sp.log(S.XI) + S.ETA * term, S.XI)
    return sp.solve(sp.limit(g, S.XI, 1, "-"), S.ETA)[0]


@cache
def vector_thresholds() -> dict[str, dict[int, sp.Expr]]:
    """η thresholds of eq. 7 under both vector readings of |1 - ξ|², for K = 2, 3, 10."""
    return {
        reading: {k: _vector_threshold(reading, k) for k in CLASS_COUNTS}
        for reading in ("all-ones minus p", "one-hot minus p")
    }


def _vector_claim(printed: Printed, reading: str) -> Claim:
    stated = printed["Theorem 3"]
    thresholds = vector_thresholds()[reading]
    depends = len(set(thresholds.values())) > 1
    # The rule's use: the paper's η, chosen above the stated bound, has a finite point.
    consequence = all((PAPER_ETA > stated) == (PAPER_ETA > t) for t in thresholds.values())
    return Claim(
        id=f"eq7-vector-{reading.split()[0]}",
        part=PART,
        source="eqs. 4 and 7 (K classes), Theorem 3",
        paper=f"|ξ|² + |1-ξ|² with Theorem 3's η > {stated}",
        derived=", ".join(f"K={k}: η > {t}" for k, t in thresholds.items())
        + (" (depends on K)" if depends else " (the same for every K)"),
        exact=all(t == stated for t in thresholds.values()),
        consequence=consequence,
        consequence_tested=f"a finite stationary point at the paper's η = {PAPER_ETA}",
        reading=f"ξ read as the probability vector p and 1 - ξ as {reading} (msanalysis "
        "implements the true-class reading, row thm3-eq7)",
        evidence="the other classes share 1 - ξ equally (the configuration a softmax reaches "
        "when they are symmetric); thresholds from lim dℓ/dξ at ξ → 1⁻.",
    )


@check(
    "Theorem 3",
    corrected=lambda: {"Theorem 3": vector_thresholds()["all-ones minus p"][CLASS_COUNTS[0]]},
)
def vector_reading_all_ones(printed: Printed) -> Claim:
    return _vector_claim(printed, "all-ones minus p")


@check("Theorem 3", wrong=lambda p: {"Theorem 3": 2 * PAPER_ETA})
def vector_reading_one_hot(printed: Printed) -> Claim:
    return _vector_claim(printed, "one-hot minus p")
