"""Rows on Theorem 3: the η threshold of eq. 7 (Section 5) and of eq. 31 (appendix 31-36)."""

from __future__ import annotations

import sympy as sp

from .. import symbolic as S
from ..paper import PRINTED, X
from .compare import PAPER_ETA, describe_points, fmt, proportional, same, same_stationary_points
from .rule import Claim, Printed, check

PART = "theorem3"


def _positive_root(name: str) -> sp.Expr:
    return max(S.stationary_closed_form(name), key=lambda r: r.subs(S.ETA, 1))


@check("Theorem 3", wrong=lambda p: {"Theorem 3": sp.Integer(5)})
def theorem3_section5(printed: Printed) -> Claim:
    stated = printed["Theorem 3"]
    threshold = S.eta_threshold("ms")
    root = _positive_root("ms")
    # What the paper uses it for: at its own η the loss has its finite minimum.
    consequence = (PAPER_ETA > stated) == bool(S.stationary_points("ms", eta=PAPER_ETA))
    return Claim(
        id="thm3-eq7",
        part=PART,
        source="Theorem 3 (Section 5), eq. 7",
        paper=f"two-stationary-point CE (eq. 7) has its finite stationary point iff η > {stated}",
        derived=f"ξ* = {fmt(root)} lies in (0, 1) iff η > {threshold}",
        exact=stated == threshold,
        consequence=consequence,
        consequence_tested=f"a finite stationary point at the paper's η = {PAPER_ETA}",
        evidence=f"dℓ/dξ → -∞ at 0⁺ and → {fmt(sp.limit(S.grad_xi('ms'), S.XI, 1, '-'))} at "
        f"1⁻; ξ*(η) = {sp.simplify(root.subs(S.ETA, threshold))} at η = {threshold}.",
    )


@check(
    "Theorem 3",
    corrected=lambda: {"Theorem 3": S.eta_threshold("centred-ce")},
    wrong=lambda p: {"Theorem 3": 2 * PAPER_ETA},
)
def theorem3_appendix(printed: Printed) -> Claim:
    stated = printed["Theorem 3"]
    threshold = S.eta_threshold("centred-ce")
    probe = (stated + threshold) / 2 if stated != threshold else threshold * 2
    between = S.stationary_points("centred-ce", eta=probe)
    # What the statement is used for: η just above the printed bound gives a finite point.
    consequence = bool(between) == (probe > stated)
    return Claim(
        id="thm3-eq31",
        part=PART,
        source="Theorem 3 (appendix), eqs. 31-36",
        paper=f"the regularised CE of eq. 31 needs η > {stated}",
        derived=f"eq. 31 has a finite stationary point iff η > {threshold}",
        exact=stated == threshold,
        consequence=consequence,
        consequence_tested="a finite stationary point for every η above the stated bound",
        evidence=f"η(ξ - 1/2)² = (η/2)(ξ² + (1-ξ)²) - η/4, so eq. 31 is eq. 7 with η halved "
        f"and its threshold doubles; at η = {probe} it has {len(between)} stationary points in "
        "(0, 1).",
    )


@check(
    "eq. 34",
    "eq. 33",
    corrected=lambda: {"eq. 34": S.grad_logit("centred-ce")},
    wrong=lambda p: {"eq. 34": S.grad_logit("ce")},
)
def eq33_34_stationarity(printed: Printed) -> Claim:
    derived = S.grad_logit("centred-ce")
    stated = printed["eq. 34"]
    cmp = same_stationary_points(stated, derived, include=[PAPER_ETA])
    return Claim(
        id="eq33-34-stationarity",
        part=PART,
        source="appendix eqs. 33-34",
        paper=f"{fmt(stated)} = 0",
        derived=f"{fmt(sp.factor(derived))} = 0",
        exact=proportional(stated, derived),
        consequence=cmp.same,
        consequence_tested="number, location and kind of every stationary point in (0, 1), "
        "for every η",
        evidence=f"eq. 33 as printed: {fmt(printed['eq. 33'])}; method: {cmp.method}"
        + (f"; they differ {cmp.first_difference}" if cmp.first_difference else "")
        + ". The derivative of η(ξ - 1/2)² through the softmax carries a factor ξ(1-ξ) "
        "that the proof drops in part.",
    )


@check(
    "eq. 35",
    corrected=lambda: {"eq. 35": _positive_root("centred-ce")},
    wrong=lambda p: {"eq. 35": 1 / (4 * S.ETA)},
)
def eq35_root(printed: Printed) -> Claim:
    stated = printed["eq. 35"]
    root = _positive_root("centred-ce")
    printed_threshold = S.solutions(stated - 1, S.ETA)
    threshold = S.eta_threshold("centred-ce")
    at_paper = S.grad_xi("centred-ce", eta=PAPER_ETA).subs(S.XI, stated.subs(S.ETA, PAPER_ETA))
    return Claim(
        id="eq35-36-root",
        part=PART,
        source="appendix eqs. 35-36",
        paper=f"ξ = {fmt(stated)}, hence η > {', '.join(map(fmt, printed_threshold))}",
        derived=f"ξ* = {fmt(root)}, in (0, 1) iff η > {threshold}",
        exact=same(stated, root),
        consequence=printed_threshold == [threshold],
        consequence_tested="the η threshold (where ξ reaches 1)",
        evidence=f"substituted back at η = {PAPER_ETA}: dℓ/dξ at the printed ξ is "
        f"{sp.N(at_paper, 6)} (not 0); printed − derived there: "
        f"{sp.N((stated - root).subs(S.ETA, PAPER_ETA), 6)}; derived roots at η = {PAPER_ETA}: "
        f"{describe_points(S.stationary_points('centred-ce', eta=PAPER_ETA))}. Eq. 35 also writes "
        "ξ = σ(-(1 + 2(wᵀx + b))), the opposite sign convention of eq. 17.",
    )


def _x_factor(expr: sp.Expr) -> sp.Expr:
    """The factor of ``expr`` that depends on x alone (eq. 32's 2xᵀ), found by factoring."""
    factor, _ = sp.factor(expr).as_independent(S.XI, S.ETA, as_Add=False)
    return factor


def _eq31_weight_derivative() -> sp.Expr:
    """d/dw of eq. 31 with eq. 35's ξ = σ(-(1 + 2(wx + b))): dξ/dw = -2x ξ(1-ξ)."""
    return sp.factor(S.grad_xi("centred-ce") * (-2 * X * S.XI * (1 - S.XI)))


@check(
    "eq. 32",
    "eq. 33",
    corrected=lambda: {"eq. 33": S.cancel(PRINTED["eq. 32"] / _x_factor(PRINTED["eq. 32"]))},
    wrong=lambda p: {"eq. 33": S.grad_logit("ce")},
)
def eq32_33_division(printed: Printed) -> Claim:
    eq32, eq33 = printed["eq. 32"], printed["eq. 33"]
    dropped = _x_factor(eq32)  # x ≠ 0: the division eq. 33 makes
    ratio = S.cancel(eq32 / eq33)
    exact = not ratio.has(S.XI, S.ETA)  # eq. 33 is eq. 32 divided by a factor of x alone
    reduced = S.cancel(eq32 / dropped)
    cmp = same_stationary_points(eq33, reduced, include=[PAPER_ETA])
    derivative = _eq31_weight_derivative()
    follows = {  # up to a factor free of ξ and η (a sign convention of ξ, or 2x)
        name: not S.cancel(expr / derivative).has(S.XI, S.ETA)
        for name, expr in (("eq. 32", eq32), ("eq. 33", eq33))
    }
    return Claim(
        id="eq32-33-division",
        part=PART,
        source="appendix eqs. 32-33",
        paper=f"eq. 32: L' = {fmt(eq32)}; eq. 33: L' = {fmt(eq33)} = 0",
        derived=f"eq. 32 divided by {fmt(dropped)} (x ≠ 0) is {fmt(sp.factor(reduced))}"
        + (", which is eq. 33" if exact else f", not eq. 33 (eq. 32 / eq. 33 = {fmt(ratio)})"),
        exact=exact,
        consequence=cmp.same,
        consequence_tested="the stationary points eq. 34 takes from eq. 33: number, location and "
        "kind in (0, 1), for every η",
        reading="eq. 33 as the step after eq. 32 (dividing by the common factor, x ≠ 0)",
        evidence=f"eq. 32 / {fmt(dropped)} - eq. 33 = {fmt(sp.factor(reduced - eq33))}; "
        f"method: {cmp.method}"
        + (
            f"; they differ {cmp.first_difference} (printed: eq. 33, derived: eq. 32 / "
            f"{fmt(dropped)})"
            if cmp.first_difference
            else ""
        )
        + f". The derivative of eq. 31 with eq. 35's ξ is dL/dw = {fmt(derivative)}; "
        + ", ".join(
            f"{n} {'is' if ok else 'is not'} proportional to it" for n, ok in follows.items()
        )
        + ".",
    )
