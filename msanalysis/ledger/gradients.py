"""Rows on the losses and their gradients: eqs. 4, 5, 8 and Figure 2's stationary points."""

from __future__ import annotations

from functools import cache

import sympy as sp

from .. import symbolic as S
from ..paper import PRINTED_GRADIENTS, Y
from .compare import (
    PAPER_ETA,
    PAPER_FOCAL,
    PAPER_SETTING,
    describe_points,
    eta_set,
    fmt,
    same,
    same_stationary_points,
)
from .rule import Claim, Printed, check

PART = "gradients"
FOCAL = {S.ALPHA: PAPER_FOCAL["alpha"], S.GAMMA: PAPER_FOCAL["gamma"]}


@check(
    "eq. 4",
    corrected=lambda: {"eq. 4": S.loss("ms-focal")},
    wrong=lambda p: {"eq. 4": S.ETA * S.XI},
)
def eq4_focal_factor(printed: Printed) -> Claim:
    loss = printed["eq. 4"]
    derived = S.loss("ms-focal")
    literal = loss.subs(Y, 1)  # y = 1 is the label of the true class
    exact = same(literal, derived)
    as_xi = loss.subs(Y, S.XI)  # the reading eq. 5 differentiates: y is a typo for ξ
    consequence = same(as_xi, derived)
    return Claim(
        id="eq4-focal-factor",
        part=PART,
        source="eq. 4",
        paper=f"ℓ = {fmt(loss)}",
        derived=f"ℓ = {fmt(derived)} (focal factor (1-ξ)^γ)",
        exact=exact,
        consequence=consequence,
        consequence_tested="the loss that eq. 5 differentiates: eq. 4 with y read as ξ",
        reading="y is the label; the true class has y = 1",
        evidence=f"with y = 1 and γ = {FOCAL[S.GAMMA]} the printed loss is "
        f"{fmt(sp.simplify(literal.subs(FOCAL)))}, the derived one "
        f"{fmt(derived.subs(FOCAL))}; with y replaced by ξ "
        f"the difference is {fmt(sp.simplify(as_xi - derived))}.",
    )


def _gradient_claim(printed: Printed, loss_name: str, claim_id: str) -> Claim:
    eq, _ = PRINTED_GRADIENTS[loss_name]
    expr = printed[eq]
    derived = S.grad_logit(loss_name)
    exact = same(expr, derived)
    cmp = same_stationary_points(expr.subs(FOCAL), derived.subs(FOCAL), include=[PAPER_ETA])
    at_paper = {k: v for k, v in PAPER_SETTING.items()}
    roots_p = S.roots_in_unit_interval(expr.subs(at_paper))
    roots_d = S.roots_in_unit_interval(derived.subs(at_paper))
    how = (
        "the ratio printed/derived is positive on (0, 1) for every η"
        if cmp.method == "symbolic η"
        else f"compared on η ∈ {{{', '.join(map(str, cmp.grid))}}} (both sides of every η where "
        "a zero can enter or leave (0, 1), ξ → 0⁺ and ξ → 1⁻ both examined)"
    )
    difference = f"; they differ {cmp.first_difference}" if cmp.first_difference else ""
    return Claim(
        id=claim_id,
        part=PART,
        source=eq,
        paper=f"∂ℓ/∂o = {fmt(expr)}",
        derived=f"∂ℓ/∂o = {fmt(derived)}",
        exact=exact,
        consequence=cmp.same,
        consequence_tested="number, location and kind of every stationary point in (0, 1), "
        "for every η",
        evidence=f"printed − derived = {fmt(sp.factor(expr - derived))}. At η = {PAPER_ETA}"
        f" (α = {FOCAL[S.ALPHA]}, γ = {FOCAL[S.GAMMA]}) the printed gradient vanishes in "
        f"(0, 1) at {describe_points(roots_p)}, the derived one at "
        f"{describe_points(roots_d)}; {how}{difference}.",
    )


@check("eq. 5", corrected=lambda: {"eq. 5": S.grad_logit("ms-focal")})
def eq5_gradient(printed: Printed) -> Claim:
    return _gradient_claim(printed, "ms-focal", "eq5-gradient")


@check("eq. 8", corrected=lambda: {"eq. 8": S.grad_logit("ms")})
def eq8_gradient(printed: Printed) -> Claim:
    return _gradient_claim(printed, "ms", "eq8-gradient")


@cache
def _finite_stationary_counts() -> dict[str, tuple[int, sp.Expr]]:
    """CE and focal: (number of zeros of ∂ℓ/∂o in (0, 1), proven; its limit at ξ → 1⁻)."""
    t = sp.Symbol("t", positive=True)  # ξ = 1/(1+t) covers (0, 1) exactly once
    facts = {}
    for name in ("ce", "focal"):
        g = S.grad_logit(name)
        negative = sp.factor(g.subs(S.XI, 1 / (1 + t))).is_negative
        if negative is not True:  # pragma: no cover - the sign must be proven
            raise ArithmeticError(f"{name}: cannot prove ∂ℓ/∂o < 0 on (0, 1)")
        facts[name] = (0, S.asymptotic_gradient(name))
    return facts


@check(
    "Figure 2 CE finite stationary",
    corrected=lambda: {"Figure 2 CE finite stationary": sp.Integer(0)},
    wrong=lambda p: {"Figure 2 CE finite stationary": sp.Integer(2)},
)
def fig2_single_asymptotic(printed: Printed) -> Claim:
    stated = printed["Figure 2 CE finite stationary"]
    facts = _finite_stationary_counts()
    exact = all(stated == count and limit == 0 for count, limit in facts.values())
    # What Section 3.3 uses: CE's loss keeps falling as ξ → 1 (no finite point stops it).
    consequence = all((stated == 0) == (count == 0) for count, _ in facts.values())
    return Claim(
        id="fig2-ce-focal-asymptotic",
        part=PART,
        source="Section 3.3, Figure 2",
        paper=f"CE and focal loss have {stated} finite stationary points, only the asymptotic one",
        derived="; ".join(
            f"{n}: {count} zeros of ∂ℓ/∂o in (0, 1), limit {limit} as ξ → 1⁻"
            for n, (count, limit) in facts.items()
        ),
        exact=exact,
        consequence=consequence,
        consequence_tested="whether any finite stationary point stops gradient descent",
        evidence="; ".join(
            f"{n}: ∂ℓ/∂o = {fmt(S.grad_logit(n))}, negative for every ξ = 1/(1+t), t > 0 "
            f"(sympy proves the sign for any α > 0, γ ≥ 0)"
            for n in facts
        ),
    )


@check(
    "Figure 2 MS finite stationary",
    "Figure 2 MS condition",
    corrected=lambda: {
        "Figure 2 MS finite stationary": sp.Integer(1),
        "Figure 2 MS condition": eta_set(S.grad_xi("ms"), ("minimum",)),
    },
    wrong=lambda p: {"Figure 2 MS condition": sp.Interval.open(2 * PAPER_ETA, sp.oo)},
)
def fig2_ms_two_stationary(printed: Printed) -> Claim:
    count, condition = printed["Figure 2 MS finite stationary"], printed["Figure 2 MS condition"]
    derived_set = eta_set(S.grad_xi("ms"), ("minimum",))
    exact = count == 1 and condition == derived_set
    consequence = (PAPER_ETA in condition) == (PAPER_ETA in derived_set)
    points = S.stationary_points("ms", eta=PAPER_ETA)
    return Claim(
        id="fig2-ms-two-stationary",
        part=PART,
        source="Section 3.3, Figure 2",
        paper=f"MS loss (eq. 7) has {count + 1} stationary points ({count} finite) for η ∈ "
        f"{fmt(condition)}",
        derived=f"one finite minimum and the asymptotic point exactly for η ∈ {fmt(derived_set)};"
        " otherwise only the asymptotic one",
        exact=exact,
        consequence=consequence,
        consequence_tested=f"two stationary points at the paper's η = {PAPER_ETA}",
        reading="a statement about the whole family (every η the text allows)",
        evidence=f"the zeros of dℓ/dξ = {fmt(S.grad_xi('ms'))} in (0, 1) can change only where "
        "one crosses ξ = 0 or 1 or two merge; one η per interval decides the set. At "
        f"η = {PAPER_ETA}: {describe_points(points)}; the asymptotic limit of ∂ℓ/∂o is "
        f"{S.asymptotic_gradient('ms', eta=PAPER_ETA)}.",
    )


@check(
    "eq. 4 MS-focal condition",
    wrong=lambda p: {"eq. 4 MS-focal condition": sp.Interval.open(2 * PAPER_ETA, sp.oo)},
)
def ms_focal_stationary(printed: Printed) -> Claim:
    condition = printed["eq. 4 MS-focal condition"]
    g = S.grad_xi("ms-focal", **PAPER_FOCAL)
    derived_set = eta_set(g, ("minimum",))
    thresholds = {
        gamma: S.eta_threshold("ms-focal", alpha=PAPER_FOCAL["alpha"], gamma=gamma)
        for gamma in (0, sp.Rational(1, 2), 1, PAPER_FOCAL["gamma"])
    }
    points = S.stationary_points("ms-focal", eta=PAPER_ETA, **PAPER_FOCAL)
    return Claim(
        id="ms-focal-stationary",
        part=PART,
        source="eq. 4, Figure 2",
        paper=f"MS-focal has a second, finite stationary point for η ∈ {fmt(condition)}",
        derived=f"at α = {PAPER_FOCAL['alpha']}, γ = {PAPER_FOCAL['gamma']}: one finite minimum "
        f"exactly for η ∈ {fmt(derived_set)}",
        exact=condition == derived_set,
        consequence=(PAPER_ETA in condition) == (PAPER_ETA in derived_set),
        consequence_tested=f"a finite stationary point at the paper's η = {PAPER_ETA}",
        evidence="η threshold by γ (α = 1): "
        + ", ".join(f"γ = {g_}: η > {t}" for g_, t in thresholds.items())
        + f"; at η = {PAPER_ETA}: ξ* = {describe_points(points)}, certified by the sign change "
        f"on {points[0].bracket if points else None}.",
    )
