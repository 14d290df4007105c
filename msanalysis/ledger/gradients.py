"""Rows on the losses and their gradients: eqs. 1, 2, 4, 5, 8, Figure 2's stationary points, the
reweighting identity dℓ/do = w(ξ)·(p - e_y), and how many stationary points the family has."""

from __future__ import annotations

from functools import cache

import sympy as sp

from .. import symbolic as S
from ..losses import LOSSES, get_loss, stationary_term
from ..paper import LOGITS, PRINTED_GRADIENTS, S_INDEX, K, Y
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
        f"{fmt(literal.subs(FOCAL))}, the derived one "
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


@check(
    "eq. 5",
    corrected=lambda: {"eq. 5": S.grad_logit("ms-focal")},
    wrong=lambda p: {"eq. 5": S.grad_logit("focal")},
)
def eq5_gradient(printed: Printed) -> Claim:
    return _gradient_claim(printed, "ms-focal", "eq5-gradient")


@check(
    "eq. 8",
    corrected=lambda: {"eq. 8": S.grad_logit("ms")},
    wrong=lambda p: {"eq. 8": S.grad_logit("ce")},
)
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
        "Figure 2 MS condition": _minimum_set("ms"),
    },
    wrong=lambda p: {"Figure 2 MS condition": sp.Interval.open(2 * PAPER_ETA, sp.oo)},
)
def fig2_ms_two_stationary(printed: Printed) -> Claim:
    count, condition = printed["Figure 2 MS finite stationary"], printed["Figure 2 MS condition"]
    derived_set = _minimum_set("ms")
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
    derived_set = _minimum_set("ms-focal")
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


# ---- eq. 1's softmax and eq. 2's labels


CLASSES = 3
"""K for the symbolic checks of eq. 1: the smallest K with a class that is neither s nor j."""


_EXP = [sp.Symbol(f"a{i}", positive=True) for i in range(1, CLASSES + 1)]  # a_k = e^{o_k}


def _softmax_classes(eq1: sp.Expr) -> list[sp.Expr]:
    """Eq. 1's ξ for each class s = 1..K at K = CLASSES, with o_k = log a_k (a_k > 0).

    In the a_k the exponentials cancel, so every check is on rational expressions, and
    ∂/∂o_k = a_k·∂/∂a_k (the chain rule through o_k = log a_k) holds for any eq. 1.
    """
    logs = {LOGITS[i]: sp.log(a) for i, a in enumerate(_EXP, start=1)}
    return [eq1.subs({K: CLASSES, S_INDEX: s}).doit().subs(logs) for s in range(1, CLASSES + 1)]


def _d(expr: sp.Expr, k: int) -> sp.Expr:
    """∂expr/∂o_k."""
    return _EXP[k] * sp.diff(expr, _EXP[k])


def _jacobian_is_softmax(probs: list[sp.Expr]) -> bool:
    """∂ξ_i/∂o_j = p_i(δ_ij - p_j) with p the true softmax of the same logits."""
    soft = [a / sum(_EXP) for a in _EXP]
    n = len(_EXP)
    return all(
        S.cancel(_d(probs[i], j) - soft[i] * (int(i == j) - soft[j])) == 0
        for i in range(n)
        for j in range(n)
    )


def _own_slope_depends_on_xi_only(xi: sp.Expr) -> bool:
    """D = ∂ξ/∂o_s is a function of ξ alone iff ∇D ∥ ∇ξ. ∂ξ/∂o_s ≠ 0, so the minors with
    column s, ∂ξ/∂o_s·∂D/∂o_k - ∂ξ/∂o_k·∂D/∂o_s, all 0, make every 2×2 minor 0."""
    slope = _d(xi, 0)
    grad_xi = [_d(xi, k) for k in range(CLASSES)]
    grad_slope = [_d(slope, k) for k in range(CLASSES)]
    if S.cancel(grad_xi[0]) == 0:
        return False
    return all(
        S.cancel(grad_xi[0] * grad_slope[k] - grad_xi[k] * grad_slope[0]) == 0
        for k in range(1, CLASSES)
    )


def _implied_factors(eq: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """The ∂ξ/∂o a printed gradient applies to -log ξ (its η-free part) and to the η term."""
    base, eta_part = eq.subs(S.ETA, 0), sp.diff(eq, S.ETA)
    term = S.loss("ms") - S.loss("ce")  # η(ξ² + (1-ξ)²), from the registry
    return (
        sp.factor(base / sp.diff(S.loss("ce"), S.XI)),
        sp.factor(eta_part / sp.diff(term / S.ETA, S.XI)),
    )


@check("eq. 1", "eq. 8", wrong=lambda p: {"eq. 1": _eq1_without_exponentials()})
def eq1_softmax_jacobian(printed: Printed) -> Claim:
    probs = _softmax_classes(printed["eq. 1"])
    exact = _jacobian_is_softmax(probs)
    consequence = _own_slope_depends_on_xi_only(probs[0])
    ce_factor, eta_factor = _implied_factors(printed["eq. 8"])
    true_factor = S.softmax_jacobian()[0]
    return Claim(
        id="eq1-softmax-jacobian",
        part=PART,
        source="eq. 1 (Jacobian not printed; used by eqs. 5 and 8)",
        paper=f"ξ = {fmt(printed['eq. 1'])}, s = 1, ..., K; its Jacobian is not printed",
        derived=f"∂p_i/∂o_j = p_i(δ_ij - p_j) (K = {CLASSES}, symbolic logits): "
        f"{'holds' if exact else 'does not hold'} for the printed eq. 1",
        exact=exact,
        consequence=consequence,
        consequence_tested="∂ξ/∂o_s is a function of ξ alone, so eqs. 5 and 8 can write "
        "∂ℓ/∂o as a function of ξ",
        reading="ξ is the probability of the class s the loss is about (the true class)",
        evidence=f"every entry of the {CLASSES}×{CLASSES} Jacobian of the printed eq. 1 minus "
        "p_i(δ_ij - p_j) cancels to "
        + ("0" if exact else "a non-zero expression")
        + "; ∇(∂ξ/∂o_s) is "
        + ("" if consequence else "not ")
        + f"parallel to ∇ξ (the 2×2 minors cancel). The derived ∂ξ/∂o_s = {fmt(true_factor)}; "
        f"eq. 8 as printed applies {fmt(ce_factor)} to -log ξ and {fmt(eta_factor)} to the η "
        "term" + (" (the same)" if same(ce_factor, eta_factor) else " (not the same factor)") + ".",
    )


def _eq1_without_exponentials() -> sp.Expr:
    """A deliberately wrong eq. 1: the logits normalised without exponentials."""
    index = sp.Symbol("k", integer=True, positive=True)
    return LOGITS[S_INDEX] / sp.Sum(LOGITS[index], (index, 1, K))


def _label_range(labels: tuple[sp.Expr, sp.Expr]) -> range:
    first, last = (sp.sympify(v).subs(K, CLASSES) for v in labels)
    return range(int(first), int(last) + 1)


def _binary_ce() -> tuple[sp.Expr, sp.Expr]:
    """CE of the outcome with probability ξ and of the one with 1 - ξ (the registry's CE)."""
    ce = S.loss("ce")
    return ce, ce.subs(S.XI, 1 - S.XI)


def _is_ce(value: sp.Expr, outcomes: tuple[sp.Expr, sp.Expr]) -> bool:
    return any(same(value, c) for c in outcomes)


@check(
    "eq. 2",
    "labels",
    corrected=lambda: {"labels": (sp.Integer(0), sp.Integer(1))},
    wrong=lambda p: {"eq. 2": -Y * sp.log(1 - S.XI) - (1 - Y) * sp.log(S.XI)},
)
def eq2_labels(printed: Printed) -> Claim:
    loss, labels = printed["eq. 2"], _label_range(printed["labels"])
    outcomes = _binary_ce()
    per_label = {y: sp.expand(loss.subs(Y, y)) for y in labels}
    not_ce = [y for y, v in per_label.items() if not _is_ce(v, outcomes)]
    consistent = [y for y in range(CLASSES + 1) if _is_ce(loss.subs(Y, y), outcomes)]
    exact = not not_ce
    # What the paper uses eq. 2 for: -log of the true class's probability (Theorem 1's proof
    # writes L(p) = -log p), with y the indicator of the class ξ belongs to.
    consequence = same(loss.subs(Y, 1), outcomes[0]) and same(loss.subs(Y, 0), outcomes[1])
    lows = {y: S.end_limit(per_label[y], 1) for y in not_ce}
    first, last = printed["labels"]
    return Claim(
        id="eq2-labels",
        part=PART,
        source="eq. 2 (eq. 9), Notation of Section 3.2",
        paper=f"L = {fmt(loss)} with y ∈ {{{first}, ..., {last}}}",
        derived=f"a cross-entropy exactly for y ∈ {{{', '.join(map(str, consistent))}}} of "
        f"0, ..., {CLASSES} (y the indicator of ξ's class); "
        + (
            f"with K = {CLASSES}, y = {', '.join(map(str, not_ce))} give no cross-entropy"
            if not_ce
            else "every printed label gives one"
        ),
        exact=exact,
        consequence=consequence,
        consequence_tested="-log of the true class's probability at y = 1 (the CE that "
        "Theorem 1's proof and eq. 6 use), -log(1-ξ) at y = 0",
        reading=f"K = {CLASSES}; ξ the probability of the class y = 1 refers to",
        evidence="; ".join(
            f"y = {y}: L = {fmt(v)}" + (f", → {fmt(lows[y])} as ξ → 1⁻" if y in lows else "")
            for y, v in per_label.items()
        )
        + f"; at y = 1: {fmt(loss.subs(Y, 1))}, at y = 0: {fmt(loss.subs(Y, 0))}.",
    )


def _settings(params: dict[str, float]) -> str:
    """'α = 1, γ = 2' for registry defaults (symbols as the ledger prints them)."""
    return ", ".join(f"{fmt(S.SYMBOLS[k])} = {sp.nsimplify(v)}" for k, v in params.items())


# ---- the reweighting identity: dℓ/do = ξ ℓ'(ξ)(e_y - p), CE's gradient times w(ξ) = -ξ ℓ'(ξ)


def _identity_residuals() -> list[sp.Expr]:
    """dℓ/do_j - ξ ℓ'(ξ)(δ_yj - p_j) for a generic ℓ of ξ, K = CLASSES logits, y = 1.

    The softmax is written here (not read from the paper) with a_k = e^{o_k}, ∂/∂o_j =
    a_j·∂/∂a_j; ℓ is an undefined function, so the result holds for every loss of ξ alone.
    """
    probs = [a / sum(_EXP) for a in _EXP]
    ell, slope = sp.Function("ell"), sp.Dummy("slope")
    residuals = []
    for j in range(CLASSES):
        d = _d(ell(probs[0]), j)
        d = d.subs({a: slope for a in d.atoms(sp.Subs)})  # ℓ'(ξ) as one symbol
        residuals.append(S.cancel(d - probs[0] * (int(j == 0) - probs[j]) * slope))
    return residuals


@cache
def _minimum_set(name: str) -> sp.Set:
    """The η > 0 for which a loss with η has exactly one finite stationary point, a minimum."""
    return eta_set(S.grad_xi(name, **_paper_params(name)), ("minimum",))


def _paper_params(name: str) -> dict[str, sp.Expr]:
    """The paper's α, γ for the losses that take them (η stays symbolic)."""
    return {k: v for k, v in PAPER_FOCAL.items() if k in get_loss(name).defaults()}


def _sign_change(name: str, w: sp.Expr) -> str:
    """Where w of a registry loss changes sign in (0, 1), derived (η symbolic)."""
    if not w.has(S.XI):
        return f"never (w = {w})"
    if name in _finite_stationary_counts():  # dℓ/do = -(1-ξ)w < 0 proven on (0, 1)
        return "never: w > 0 on (0, 1), proven for every α > 0, γ ≥ 0"
    params = {k: v for k, v in get_loss(name).defaults().items() if k != "eta"}
    loss = S.loss(name, **params)
    where = S.finite_minimum_etas(loss)
    how = "ℓ proven convex in ξ"
    if where is None:  # pragma: no cover - every registry loss is proven convex today
        where, how = _minimum_set(name), "zeros counted on an η grid"
    at = f", {_settings(params)}" if params else ""
    every = where == sp.Interval.open(0, sp.oo)
    if not loss.has(S.ETA):
        return ("once, + to -" if every else "never") + f" ({how}{at})"
    if every:
        return f"once, + to -, for every η > 0 ({how}{at})"
    return f"once, + to -, for η ∈ {fmt(where)}, else never ({how}{at})"


@cache
def sample_weights() -> dict[str, tuple[sp.Expr, str]]:
    """Each registry loss: w(ξ) = -ξ ℓ'(ξ), and where it changes sign in (0, 1)."""
    weights = {name: S.sample_weight(name) for name in LOSSES}
    return {name: (w, _sign_change(name, w)) for name, w in weights.items()}


@cache
def derived_minimum_set(name: str) -> sp.Set:
    """The η for which w of a loss with η changes sign (a finite minimum), at the paper's α, γ."""
    found = S.finite_minimum_etas(S.loss(name, **_paper_params(name)))
    return _minimum_set(name) if found is None else found


def _weight_of_printed(printed: Printed, name: str) -> sp.Expr:
    """The w a printed gradient implies: eq. 5 or 8 divided by CE's gradient ξ - 1."""
    eq, _ = PRINTED_GRADIENTS[name]
    free = printed[eq].subs(S.ETA, 0)  # the η-free part and the η part, each factored
    parts = (free, sp.expand(printed[eq] - free))
    return sp.Add(*(sp.factor(S.cancel(t / S.grad_logit("ce"))) for t in parts))


def _training_meaning(weights: dict[str, tuple[sp.Expr, str]]) -> str:
    """What w's sign above MS's ξ* means, with the numbers at the paper's η."""
    point = S.stationary_points("ms", eta=PAPER_ETA)[0].xi
    above = weights["ms"][0].subs({S.ETA: PAPER_ETA, S.XI: (point + 1) / 2})
    where = f"MS at η = {PAPER_ETA}: ξ* = {sp.N(point, 6)}, w = {sp.N(above, 4)} halfway to 1"
    if not above.is_negative:
        return f"{where}: w does not change sign there"
    return (
        f"{where}: where w < 0, descent on ℓ lowers ξ, pushing the sample back from ξ = 1 "
        "towards ξ*, and an attack that ascends ℓ raises ξ, away from misclassification"
    )


@check(
    "eq. 5",
    "eq. 8",
    corrected=lambda: {eq: S.grad_logit(name) for name, (eq, _) in PRINTED_GRADIENTS.items()},
    wrong=lambda p: {"eq. 8": S.grad_logit("ce")},
)
def reweighting_identity(printed: Printed) -> Claim:
    residuals = _identity_residuals()
    holds = all(r == 0 for r in residuals)
    weights = sample_weights()
    implied = {n: _weight_of_printed(printed, n) for n in PRINTED_GRADIENTS}
    exact = all(same(implied[n], weights[n][0]) for n in PRINTED_GRADIENTS)
    printed_sets = {
        n: eta_set(printed[eq].subs(FOCAL), ("minimum",))
        for n, (eq, _) in PRINTED_GRADIENTS.items()
    }
    consequence = all(printed_sets[n] == derived_minimum_set(n) for n in PRINTED_GRADIENTS)
    return Claim(
        id="reweighting-sign-change",
        part=PART,
        source="eqs. 5 and 8 read through the reweighting identity (derived here, not printed)",
        paper="the identity is not stated; eqs. 5 and 8 print the gradients of eqs. 4 and 7, "
        "whose zeros in (0, 1) are the zeros of w",
        derived="dℓ/do = ξ·ℓ'(ξ)·(e_y - p) = w(ξ)·(p - e_y), CE's gradient times "
        f"w(ξ) = -ξ·ℓ'(ξ) ({'holds' if holds else 'does not hold'} for every ℓ of ξ); w "
        "changes sign from + to - for η ∈ "
        + ", ".join(
            f"{fmt(derived_minimum_set(n))} ({n}; printed {eq}: {fmt(printed_sets[n])})"
            for n, (eq, _) in PRINTED_GRADIENTS.items()
        ),
        exact=exact,
        consequence=consequence,
        consequence_tested="the η for which w changes sign in (0, 1) from + to - (a finite "
        "minimum), read from the printed gradients",
        reading=f"each printed gradient read as CE's ξ - 1 times a weight; α = "
        f"{FOCAL[S.ALPHA]}, γ = {FOCAL[S.GAMMA]} for eq. 5",
        evidence=f"for an undefined ℓ(ξ) and K = {CLASSES} symbolic logits, dℓ/do_j - "
        "ξℓ'(ξ)(δ_yj - p_j) cancels to "
        + ", ".join(fmt(r) for r in residuals)
        + ". Every registry loss: "
        + "; ".join(f"{n}: w = {fmt(w)}, sign change {where}" for n, (w, where) in weights.items())
        + ". The printed gradients imply w = "
        + ", ".join(f"{fmt(w)} ({PRINTED_GRADIENTS[n][0]})" for n, w in implied.items())
        + f". {_training_meaning(weights)}.",
    )


# ---- "multi" against "two": how many stationary points a member of the family can have


@cache
def family_counts() -> dict[str, dict[str, object]]:
    """Each registry loss without η plus η(ξ² + (1-ξ)²), at its registry defaults.

    For each: the η for which it has its one finite minimum
    (:func:`msanalysis.symbolic.finite_minimum_etas`), and whether it keeps the asymptotic
    stationary point (∂ℓ/∂o → 0 as ξ → 1⁻).
    """
    term = stationary_term(S.true_class(), eta=S.ETA)
    facts: dict[str, dict[str, object]] = {}
    for name, spec in LOSSES.items():
        if "eta" in spec.defaults():
            continue
        member = S.loss(name, **spec.defaults()) + term
        logit_end = S.end_limit(sp.diff(member, S.XI) * S.XI * (1 - S.XI), 1)
        found = S.finite_minimum_etas(member)
        facts[name] = {
            "convex": found is not None,
            "one_minimum_for": sp.EmptySet if found is None else found,
            "asymptotic": int(logit_end == 0),
            "logit_end": logit_end,
            "params": spec.defaults(),
        }
    return facts


def _member(name: str, f: dict[str, object]) -> str:
    where = f["one_minimum_for"]
    finite = (
        "one finite minimum for every η > 0"
        if where == sp.Interval.open(0, sp.oo)
        else f"one finite minimum for η ∈ {fmt(where)}, none otherwise"
    )
    return (
        f"{name} + η-term: {finite}, "
        + ("plus the" if f["asymptotic"] else "no")
        + " asymptotic one"
    )


@check(
    "MS family stationary points",
    wrong=lambda p: {"MS family stationary points": p["MS family stationary points"] + 1},
)
def family_stationary_count(printed: Printed) -> Claim:
    stated = printed["MS family stationary points"]
    facts = family_counts()
    proven = all(f["convex"] for f in facts.values())
    most = max(int(f["one_minimum_for"] != sp.EmptySet) + f["asymptotic"] for f in facts.values())
    exact = proven and most == stated
    # What the theorems use: where a member has a finite point it is one, a minimum (a convex
    # member's dℓ/dξ rises, so it has one zero, a minimum, wherever it has any).
    finite = {1 for f in facts.values() if f["one_minimum_for"] != sp.EmptySet}
    consequence = proven and finite == {stated - 1}
    return Claim(
        id="family-stationary-count",
        part=PART,
        source="Introduction, Sections 3.3 and 5 (the name 'multi-stationary point')",
        paper=f"the MS family ('multi-stationary point' loss) has {stated} stationary points",
        derived=f"at most {most}, never more: "
        + "; ".join(_member(n, f) for n, f in facts.items()),
        exact=exact,
        consequence=consequence,
        consequence_tested="a member with a finite stationary point has exactly one, a minimum "
        "(the one point where gradient descent can stop)",
        reading="'two' as the most a member has ('multi' would mean more); each registry loss "
        "without η plus η(ξ² + (1-ξ)²), at its registry defaults, for every η > 0",
        evidence="; ".join(
            f"{n} ({_settings(f['params']) or 'no parameters'}): ℓ'' ≥ 4η > 0 "
            + ("proven" if f["convex"] else "not proven")
            + f" on (0, 1), ∂ℓ/∂o → {fmt(f['logit_end'])} as ξ → 1⁻"
            for n, f in facts.items()
        )
        + ".",
    )
