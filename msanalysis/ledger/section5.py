"""Rows on Section 5's remarks: spectral decoupling, the vector reading of eqs. 4 and 7, eq. 6's
p_t, and "not always convergent"."""

from __future__ import annotations

from functools import cache

import sympy as sp

from .. import symbolic as S
from ..paper import P_T, PRINTED, P, Y
from .compare import PAPER_ETA, eta_set, fmt, same
from .rule import Claim, Printed, check

PART = "section5"
CLASS_COUNTS = (2, 3, 10)


@cache
def _sd_facts() -> dict[str, sp.Expr]:
    # end_limit: the limits at ξ → 1⁻ from the leading term (cheaper than a full limit).
    ms_term = S.end_limit(S.loss("ms") - S.loss("ce"), 1)
    sd_term = S.end_limit(S.loss("spectral-decoupling") - S.loss("ce"), 1)
    z = S.logit(S.XI)
    # λ with λ·d(z²/2)/dξ = λ·z·dz/dξ equal to MS's extra gradient: (MS's part / dz/dξ) is
    # rational in ξ, so ``factor`` reduces it exactly; dividing by z then gives the form
    # ``simplify`` gave for the whole quotient.
    ratio = sp.factor((sp.diff(S.loss("ms"), S.XI) + 1 / S.XI) / sp.diff(z, S.XI))
    needed = ratio / z if ratio.is_rational_function(S.XI) else sp.simplify(ratio / z)
    samples = [needed.subs(S.XI, x) for x in (sp.Rational(3, 4), sp.Rational(9, 10))]
    return {
        "ms_term": ms_term,
        "sd_term": sd_term,
        "needed": needed,
        "constant": sp.Integer(int(S.is_zero(samples[0] - samples[1]))),
        "sd_limit": S.end_limit(S.grad_xi("spectral-decoupling"), 1),
    }


@check(
    "Section 5 equivalent to SD",
    corrected=lambda: {"Section 5 equivalent to SD": sp.false},
    wrong=lambda p: {"Section 5 equivalent to SD": sp.true},  # the only wrong value: the paper's
)
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
    # Expanded first: the derivative of a polynomial in ξ, without sympy's sign queries on
    # each power of (1 - ξ)/(K - 1) (most of this row's time).
    g = sp.diff(-sp.log(S.XI) + S.ETA * sp.expand(term), S.XI)
    return sp.solve(S.end_limit(g, 1), S.ETA)[0]


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
    wrong=lambda p: {"Theorem 3": 2 * PAPER_ETA},
)
def vector_reading_all_ones(printed: Printed) -> Claim:
    return _vector_claim(printed, "all-ones minus p")


@check("Theorem 3", wrong=lambda p: {"Theorem 3": 2 * PAPER_ETA})
def vector_reading_one_hot(printed: Printed) -> Claim:
    return _vector_claim(printed, "one-hot minus p")


# ---- eq. 6's p_t and eq. 7's ξ

_LABELS = (1, 0)  # eq. 6's two cases: y = 1 and "otherwise" (the binary label of eq. 2)


def _eq7_at(eq7: sp.Expr, pt: sp.Expr, xi: sp.Expr) -> sp.Expr:
    """eq. 7 with its p_t (if written in p_t) set to eq. 6's case and its ξ set to ``xi``."""
    return eq7.subs(P_T, pt).subs(S.XI, xi)


def _cases(expr: sp.Piecewise) -> str:
    """'p if y = 1, 1-p otherwise' for eq. 6's Piecewise."""
    return ", ".join(
        f"{fmt(e)} " + ("otherwise" if c == sp.true else f"if {fmt(c.lhs)} = {fmt(c.rhs)}")
        for e, c in expr.args
    )


@check(
    "eq. 6",
    "eq. 7",
    "eq. 2",
    corrected=lambda: {"eq. 7": PRINTED["eq. 7"].subs(S.XI, P_T)},
    wrong=lambda p: {"eq. 7": -sp.log(S.XI) + S.ETA * S.XI**2},
)
def eq6_eq7_pt(printed: Printed) -> Claim:
    eq6, eq7, eq2 = printed["eq. 6"], printed["eq. 7"], printed["eq. 2"]
    pt = {y: eq6.subs(Y, y) for y in _LABELS}
    derived = {y: S.loss("ms").subs(S.XI, pt[y]) for y in _LABELS}  # eq. 7 at the true class
    # As printed: eq. 7's ξ is a probability eq. 6 names: p (p_t is defined and not used).
    literal = {y: _eq7_at(eq7, pt[y], P) for y in _LABELS}
    exact = all(same(literal[y], derived[y]) for y in _LABELS)
    # The use: with ξ read as p_t, eq. 7 is eq. 2's CE plus a penalty that is the same for both
    # labels, so one η (one threshold) serves both classes.
    penalty = {
        y: sp.expand(_eq7_at(eq7, pt[y], pt[y]) - eq2.subs({S.XI: P, Y: y})) for y in _LABELS
    }
    consequence = same(penalty[1], penalty[0]) and not penalty[1].has(sp.log)
    term = S.loss("ms") - S.loss("ce")
    symmetric = same(term, term.subs(S.XI, 1 - S.XI))
    return Claim(
        id="eq6-eq7-pt",
        part=PART,
        source="eqs. 6 and 7 (Section 5)",
        paper=f"p_t = {_cases(eq6)}; then L = {fmt(eq7)}",
        derived="eq. 7 is the CE of eq. 6 plus the term only with ξ = p_t: "
        + "; ".join(f"y = {y}: L = {fmt(derived[y])}" for y in _LABELS),
        exact=exact,
        consequence=consequence,
        consequence_tested="eq. 7 with ξ = p_t is eq. 2's CE plus one penalty for both labels",
        reading="eq. 7's ξ read literally as eq. 6's p (the probability of y = 1), against "
        "ξ = p_t (the true-class probability, which msanalysis implements)",
        evidence="; ".join(f"y = {y}: printed in p gives {fmt(literal[y])}" for y in _LABELS)
        + "; with ξ = p_t the penalty over eq. 2 is "
        + ", ".join(f"{fmt(penalty[y])} (y = {y})" for y in _LABELS)
        + f"; η(ξ² + (1-ξ)²) is {'' if symmetric else 'not '}symmetric under ξ ↔ 1-ξ, so only "
        "the -log part depends on which class ξ is.",
    )


# ---- Section 5: "not always convergence for any stationary-point coefficient"


@check(
    "Section 5 not always convergent",
    wrong=lambda p: {"Section 5 not always convergent": sp.false},
)
def section5_not_always_convergent(printed: Printed) -> Claim:
    stated = bool(printed["Section 5 not always convergent"])
    without = eta_set(S.grad_xi("ms"), ())  # η with no finite stationary point in (0, 1)
    exact = stated == (without != sp.EmptySet)
    # The use: a selection rule is needed because some η leaves dℓ/dξ < 0 up to ξ → 1⁻ (the
    # loss keeps falling: gradient descent has no finite point to stop at).
    end = S.end_limit(S.grad_xi("ms"), 1)
    falling = S.positive_etas(-end)
    consequence = stated == (falling != sp.EmptySet)
    with_point = sp.Interval.open(0, sp.oo) - without
    return Claim(
        id="sec5-not-always-convergent",
        part=PART,
        source="Section 5, before Theorem 3",
        paper="MS (eq. 7) is "
        + ("not always convergent" if stated else "convergent")
        + " for every stationary-point coefficient η",
        derived=f"no finite stationary point for η ∈ {fmt(without)}; one finite minimum for "
        f"η ∈ {fmt(with_point)}",
        exact=exact,
        consequence=consequence,
        consequence_tested="η needs a selection rule: for some η > 0 the loss falls up to ξ → 1",
        reading="'not always convergent for any η' as 'not for every η' (what the selection rule "
        "that follows needs); read as 'for no η' it is false: there is a finite minimum for "
        f"every η in {fmt(with_point)}",
        evidence=f"dℓ/dξ → {fmt(end)} as ξ → 1⁻, negative for η ∈ {fmt(falling)}; the zeros of "
        f"dℓ/dξ = {fmt(S.grad_xi('ms'))} in (0, 1) change only at a critical η, one η per "
        "interval decides the set.",
    )
