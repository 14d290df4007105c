"""The claims ledger: each claim of the paper, what it prints, what sympy derives, a verdict.

A verdict is never typed in. Each check computes two booleans and :func:`judge` maps them:

* ``exact``: the printed statement equals the derived one (expressions compared with
  ``simplify(printed - derived) == 0``, equations up to a non-zero constant factor, thresholds
  and roots as exact sympy numbers);
* ``consequence``: when it is not exact, whether what the paper draws from it still holds after
  the correction (same stationary points and η threshold, same sign of a loss change, ...).

``HOLDS`` if exact; ``HOLDS_WITH_CORRECTION`` if not exact but the consequence holds (a typo,
a sign, a missing factor); ``FAILS`` otherwise. The ``evidence`` field says how it was decided.

Conventions: ξ is the true-class probability, the paper's η = 3/2 (Figure 5) is used wherever a
claim needs a number, with α = 1 and γ = 2 for the focal losses (Figure 2).
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache

import sympy as sp

from . import symbolic as S
from .paper import DELETED, FRACTIONS, PRINTED, PRINTED_GRADIENTS, G, Y, quoted_tables

__all__ = ["Verdict", "Claim", "judge", "CHECKS", "ledger", "summary_markdown"]

PAPER_ETA = sp.Rational(3, 2)  # Figure 5
FOCAL = {"alpha": 1, "gamma": 2}  # Figure 2


class Verdict(str, enum.Enum):
    HOLDS = "HOLDS"
    HOLDS_WITH_CORRECTION = "HOLDS_WITH_CORRECTION"
    FAILS = "FAILS"


def judge(*, exact: bool, consequence: bool) -> Verdict:
    """The verdict from the two computed facts (see the module docstring)."""
    if exact:
        return Verdict.HOLDS
    return Verdict.HOLDS_WITH_CORRECTION if consequence else Verdict.FAILS


@dataclass(frozen=True)
class Claim:
    """One row of the ledger; its verdict is computed from ``exact`` and ``consequence``."""

    id: str
    source: str
    paper: str
    derived: str
    exact: bool
    consequence: bool
    evidence: str
    seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("exact", "consequence"):  # sympy booleans -> plain bools, for JSON
            object.__setattr__(self, name, bool(getattr(self, name)))

    @property
    def verdict(self) -> Verdict:
        return judge(exact=self.exact, consequence=self.consequence)

    def as_dict(self) -> dict:
        return {**asdict(self), "verdict": self.verdict.value}


CHECKS: list[Callable[[], Claim]] = []


def check(fn: Callable[[], Claim]) -> Callable[[], Claim]:
    """Register a check; the ledger runs them in the order they are defined."""
    CHECKS.append(fn)
    return fn


# ----------------------------------------------------------------------------- helpers


def fmt(expr: sp.Expr) -> str:
    return sp.sstr(expr)


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    return S.is_zero(a - b)


def _proportional(a: sp.Expr, b: sp.Expr) -> bool:
    """a = c·b for a non-zero constant c: the equations a = 0 and b = 0 are the same."""
    ratio = sp.cancel(a / b)
    if not ratio.is_number:
        ratio = sp.simplify(ratio)
    return bool(ratio.is_number and ratio != 0)


def _sign_over_exponentials(expr: sp.Expr) -> int:
    """The sign of an expression that is rational in exponentials, for all real arguments.

    Every exp(...) is replaced by an independent positive symbol (which only widens the set of
    values), so a sign sympy can prove for the replacement holds for the original.
    Returns 1, -1, or 0 when no sign can be proven.
    """
    replaced = expr.subs({e: sp.Dummy(positive=True) for e in expr.atoms(sp.exp)})
    replaced = sp.simplify(replaced)
    return 1 if replaced.is_positive else -1 if replaced.is_negative else 0


def _roots_summary(expr: sp.Expr) -> tuple[tuple[str, ...], list]:
    """Kinds of the zeros of an expression of ξ in (0, 1), and the zeros."""
    points = S.roots_in_unit_interval(expr)
    return tuple(p.kind for p in points), points


def _describe_roots(points) -> str:
    return ", ".join(f"{sp.N(p.xi, 6)} ({p.kind})" for p in points) or "none"


def _gradient_threshold(expr: sp.Expr) -> sp.Expr:
    """η above which a logit gradient (1 - ξ)·h(ξ) has a finite zero: where h(1⁻) crosses 0."""
    h = sp.cancel(expr / (1 - S.XI))
    at_one = sp.limit(h, S.XI, 1, "-")
    roots = [r for r in sp.solve(at_one, S.ETA) if r.is_number and r >= 0]
    return roots[0] if roots else sp.Integer(0)


# ------------------------------------------------------------------- losses and gradients


@check
def eq4_focal_factor() -> Claim:
    printed = PRINTED["eq. 4"]
    derived = S.loss("ms-focal")
    literal = printed.subs(Y, 1)  # y = 1 is the label of the true class
    exact = _same(literal, derived)
    literal_left = sp.simplify(
        literal - S.loss("ms-focal", alpha=S.ALPHA, gamma=S.GAMMA) + S.loss("focal")
    )
    threshold = S.eta_threshold("ms-focal", **FOCAL)
    points = S.stationary_points("ms-focal", eta=PAPER_ETA, **FOCAL)
    consequence = bool(points) and all(p.kind == "minimum" for p in points)
    return Claim(
        "eq4-focal-factor",
        "eq. 4",
        f"ℓ = {fmt(printed)}",
        f"ℓ = {fmt(derived)} (focal factor (1-ξ)^γ)",
        exact,
        consequence,
        f"With the true-class label y = 1 the printed (1-y)^γ is 0 for γ > 0, leaving "
        f"ℓ = {fmt(sp.simplify(literal.subs(S.GAMMA, 2)))} at γ = 2; the focal part is lost "
        f"(printed minus focal-reading = {fmt(literal_left)}). With (1-ξ)^γ, as eq. 5 itself "
        f"uses, MS-focal has a finite stationary point for η > {threshold} (γ = 2): at η = 3/2, "
        f"ξ* = {_describe_roots(points)}.",
    )


def _gradient_claim(loss_name: str, claim_id: str) -> Claim:
    eq, printed = PRINTED_GRADIENTS[loss_name]
    derived = S.grad_logit(loss_name)
    exact = _same(printed, derived)
    values = {S.ETA: PAPER_ETA, S.ALPHA: 1, S.GAMMA: 2}
    kinds_p, roots_p = _roots_summary(printed.subs(values))
    kinds_d, roots_d = _roots_summary(derived.subs(values))
    focal = {S.ALPHA: 1, S.GAMMA: 2}
    thr_p, thr_d = (_gradient_threshold(e.subs(focal)) for e in (printed, derived))
    consequence = kinds_p == kinds_d and thr_p == thr_d
    return Claim(
        claim_id,
        eq,
        f"∂ℓ/∂o = {fmt(printed)}",
        f"∂ℓ/∂o = {fmt(derived)}",
        exact,
        consequence,
        f"printed − derived = {fmt(sp.factor(sp.simplify(printed - derived)))}. "
        f"At η = 3/2 (α = 1, γ = 2) the printed gradient vanishes in (0, 1) at "
        f"{_describe_roots(roots_p)}, the derived one at {_describe_roots(roots_d)}; "
        f"η threshold (α = 1, γ = 2) printed {thr_p}, derived {thr_d}.",
    )


@check
def eq5_gradient() -> Claim:
    return _gradient_claim("ms-focal", "eq5-gradient")


@check
def eq8_gradient() -> Claim:
    return _gradient_claim("ms", "eq8-gradient")


@check
def fig2_single_asymptotic() -> Claim:
    """CE and focal loss: the logit gradient never vanishes in (0, 1), only as ξ → 1."""
    t = sp.Symbol("t", positive=True)  # ξ = 1/(1+t) covers (0, 1) exactly once
    facts = {}
    for name in ("ce", "focal"):
        g = S.grad_logit(name)
        negative = sp.simplify(g.subs(S.XI, 1 / (1 + t))).is_negative
        facts[name] = (bool(negative), S.asymptotic_gradient(name))
    exact = all(neg and lim == 0 for neg, lim in facts.values())
    return Claim(
        "fig2-ce-focal-asymptotic",
        "Section 3.3, Figure 2",
        "CE and focal loss have only one, asymptotic, stationary point",
        "∂ℓ/∂o < 0 for all ξ in (0, 1) and → 0 as ξ → 1⁻, for CE and focal (any α > 0, γ ≥ 0)",
        exact,
        exact,
        "; ".join(
            f"{n}: ∂ℓ/∂o = {fmt(S.grad_logit(n))}, negative on (0,1) proven with ξ = 1/(1+t), "
            f"t > 0: {neg}; limit at ξ → 1⁻: {lim}"
            for n, (neg, lim) in facts.items()
        ),
    )


@check
def fig2_ms_two_stationary() -> Claim:
    points = S.stationary_points("ms", eta=PAPER_ETA)
    limit = S.asymptotic_gradient("ms", eta=PAPER_ETA)
    threshold = S.eta_threshold("ms")
    exact = len(points) == 1 and points[0].kind == "minimum" and limit == 0
    return Claim(
        "fig2-ms-two-stationary",
        "Section 3.3, Figure 2",
        "MS loss (eq. 7) has two stationary points",
        f"at η = 3/2: a finite minimum at ξ* = {fmt(points[0].xi) if points else 'none'} and the "
        f"asymptotic one (gradient → {limit} as ξ → 1⁻); only for η > {threshold}",
        exact,
        exact,
        f"roots of dℓ/dξ in (0,1) by exact polynomial root isolation; d²ℓ/dξ² > 0 there. "
        f"Below η = {threshold} the finite root leaves (0, 1) (Theorem 3 row).",
    )


@check
def ms_focal_threshold() -> Claim:
    thresholds = {
        g: S.eta_threshold("ms-focal", alpha=1, gamma=g) for g in (0, sp.Rational(1, 2), 1, 2, 3)
    }
    points = S.stationary_points("ms-focal", eta=PAPER_ETA, **FOCAL)
    exact = len(points) == 1 and points[0].kind == "minimum"
    return Claim(
        "ms-focal-stationary",
        "eq. 4, Figure 2",
        "MS-focal has a second, finite stationary point",
        "η threshold by γ (α = 1): " + ", ".join(f"γ={g}: η > {t}" for g, t in thresholds.items()),
        exact,
        exact,
        f"lim_(ξ→1⁻) dℓ/dξ is 2η - α for γ = 0 and 2η for γ > 0, so any η > 0 gives a root when "
        f"γ > 0; at η = 3/2, γ = 2: ξ* = {_describe_roots(points)}, certified by the sign change "
        f"on {points[0].bracket if points else None}.",
    )


# --------------------------------------------------------------------------- Theorem 1


def _ce_system():
    return S.two_point_system("ce", paper_parametrisation=True)


@check
def theorem1_no_finite_stationary() -> Claim:
    system = _ce_system()
    sign_w = _sign_over_exponentials(system.grad_w)
    exact = sign_w == -1
    return Claim(
        "thm1-no-finite-stationary",
        "Theorem 1, eqs. 9-16",
        "CE keeps lowering the loss: no learned configuration is final",
        f"∂L/∂w = {fmt(system.grad_w)} < 0 for every finite (w, b): no finite stationary point",
        exact,
        exact,
        "points x = ±1 with the paper's σ(2(wx+b)-1); sign proven by replacing each exponential "
        f"with a positive symbol (sign {sign_w}).",
    )


@check
def eq3_update_sign() -> Claim:
    system = _ce_system()
    grad = sp.Matrix([system.grad_w, system.grad_b])
    step, a = sp.Symbol("s"), sp.Symbol("a", positive=True)
    moved = system.loss.subs({S.W: S.W + step * a * grad[0], S.B: S.B + step * a * grad[1]})
    if not S.is_zero(
        sp.diff(moved, a).subs(a, 0) - step * (grad.T * grad)[0]
    ):  # pragma: no cover - a failed identity, reported as an error
        raise ArithmeticError("dL/dα at α = 0 is not s·|∇L|²")
    printed = PRINTED["eq. 3 sign"]
    exact = printed == -1  # descent needs dL/dα = s|∇L|² < 0, i.e. s = -1
    return Claim(
        "eq3-update-sign",
        "eq. 3 (and eq. 10)",
        "θ ← θ + α∇L",
        "θ ← θ − α∇L (dL/dα at α = 0 is s·|∇L|² for the step θ + sα∇L)",
        exact,
        True,
        "derived on the two-point CE problem: the printed + sign gives dL/dα = +|∇L|² > 0, an "
        "ascent step; with − the loss decreases, which is what the proof uses. The update also "
        "names the input x where the parameters θ are meant.",
    )


@check
def eq11_step() -> Claim:
    x, a = sp.Symbol("x", positive=True), sp.Symbol("alpha_lr", positive=True)
    p = S.sigmoid(2 * (S.W * x + S.B) - 1)
    loss = -sp.log(p)
    gd_step = sp.simplify(-a * sp.diff(loss, S.W))
    printed = a / p
    exact = _same(printed, gd_step)
    # Eq. 14's argument needs the exponent 1 - 2(wx + b) to drop: Δexponent = -2xΔw < 0.
    drop = _sign_over_exponentials(-2 * x * gd_step)
    return Claim(
        "eq11-step",
        "eq. 11",
        "w ← w + α/p",
        f"w ← w + {fmt(gd_step)} (gradient descent on -log p, p = σ(2(wx+b)-1))",
        exact,
        drop == -1,
        f"printed − derived = {fmt(sp.simplify(printed - gd_step))} ≠ 0 (α/p is the step in p, "
        f"-α dL/dp, not in w). With the derived step the exponent of eq. 13 changes by "
        f"{fmt(sp.simplify(-2 * x * gd_step))}, of sign {drop}, so eqs. 14-16 follow.",
    )


@check
def eq12_16_loss_decreases() -> Claim:
    x = sp.Symbol("x", positive=True)
    loss = -sp.log(S.sigmoid(2 * (S.W * x + S.B) - 1))
    slope = _sign_over_exponentials(sp.diff(loss, S.W))
    exact = slope == -1
    return Claim(
        "eq12-16-inequality",
        "eqs. 12-16",
        "increasing w lowers the CE loss of a positive sample x > 0",
        f"dL/dw = {fmt(sp.simplify(sp.diff(loss, S.W)))} < 0 for x > 0",
        exact,
        exact,
        "L is strictly decreasing in w, so eq. 16 (η > ξ) holds for any step Δw > 0.",
    )


@check
def theorem1_boundary() -> Claim:
    system = _ce_system()
    c = sp.Symbol("c", positive=True)
    # Scaling the logit s = 2(wx+b)-1 by c: w -> c w, b -> (c(2b - 1) + 1)/2.
    scaled = {S.W: c * S.W, S.B: (c * (2 * S.B - 1) + 1) / 2}
    same_boundary = _same(system.boundary.subs(scaled, simultaneous=True), system.boundary)
    at_half = sp.simplify(system.boundary.subs(S.B, sp.Rational(1, 2)))
    d_loss_dc = sp.diff(system.loss.subs(scaled, simultaneous=True), c).subs(c, 1)
    # At the max-margin boundary (b = 1/2) with both points right (w > 0): loss falls with c.
    w_pos = sp.Symbol("w", positive=True)
    falls = _sign_over_exponentials(d_loss_dc.subs({S.B: sp.Rational(1, 2), S.W: w_pos})) == -1
    exact = not (same_boundary and falls)
    return Claim(
        "thm1-boundary",
        "Theorem 1",
        "for any boundary CE has learned there is another boundary with a lower loss, so CE does "
        "not converge to the robust boundary",
        f"a lower loss is reached with the SAME boundary: scaling the logit keeps the boundary "
        f"{fmt(system.boundary)}; with b = 1/2 it is x = {at_half}, the max-margin boundary",
        exact,
        exact,
        f"boundary invariant under logit scaling: {same_boundary}; dL/dc at c = 1, b = 1/2 "
        f"negative: {falls}. The proof (eqs. 11-16) only shows CE has no finite minimiser; "
        "its loss falls along w → ∞ with the boundary fixed. Gradient descent on separable "
        "data converges in direction to the max-margin separator (Soudry et al. 2018), which "
        "for x = ±1 is x = 0: the robust boundary of Theorem 2.",
    )


# --------------------------------------------------------------------------- Theorem 2


@cache
def _theorem2_parts() -> dict[str, sp.Expr]:
    """∂L1/∂w, ∂L2/∂w, ∂L1/∂b, ∂L2/∂b (eqs. 21-24) in the paper's ξ (x = 1) and γ (x = -1).

    Each is sympy's derivative of the explicit one-sample loss in (w, b), rewritten in the
    sample's positive-class probability p = σ(z) through e^{-z} = (1 - p)/p.
    """
    parts = {}
    for (x, label, p), eqs in (
        ((1, 1, S.XI), ("eq. 21", "eq. 23")),
        ((-1, 0, G), ("eq. 22", "eq. 24")),
    ):
        sample = S.linear_system("ms", ((x, label),), paper_parametrisation=True)
        z = S.score(x, paper_parametrisation=True)
        in_p = {sp.exp(-z): (1 - p) / p, sp.exp(z): p / (1 - p)}
        for eq, variable in zip(eqs, (S.W, S.B), strict=True):
            part = sp.factor(sp.diff(sample.loss, variable).subs(in_p))
            if part.free_symbols - {p, S.ETA}:  # pragma: no cover - the rewrite must be complete
                raise ArithmeticError(f"{eq}: derivative not expressible in {p}: {part}")
            parts[eq] = part
    return dict(sorted(parts.items(), key=lambda item: int(item[0].split()[-1])))


def _gradient_part_claim(eq: str) -> Claim:
    derived = sp.factor(_theorem2_parts()[eq])
    printed = PRINTED[eq]
    exact = _same(printed, derived)
    consequence = _proportional(printed, derived)
    variable = "w" if eq in ("eq. 21", "eq. 22") else "b"
    sample = "L1 (x = 1)" if eq in ("eq. 21", "eq. 23") else "L2 (x = -1)"
    return Claim(
        f"{eq.replace('. ', '')}-gradient",
        f"appendix {eq}",
        f"∂{sample}/∂{variable} = {fmt(printed)}",
        f"∂{sample}/∂{variable} = {fmt(derived)}",
        exact,
        consequence,
        f"printed / derived = {fmt(sp.cancel(printed / derived))}; derived by differentiating "
        "the explicit one-sample loss in (w, b) and writing e^(-z) = (1-p)/p. A constant "
        "factor leaves the stationarity equations (25-26) unchanged.",
    )


@check
def eq21_gradient() -> Claim:
    return _gradient_part_claim("eq. 21")


@check
def eq22_gradient() -> Claim:
    return _gradient_part_claim("eq. 22")


@check
def eq23_gradient() -> Claim:
    return _gradient_part_claim("eq. 23")


@check
def eq24_gradient() -> Claim:
    return _gradient_part_claim("eq. 24")


@cache
def _theorem2_solutions():
    parts = _theorem2_parts()
    d_w, d_b = parts["eq. 21"] + parts["eq. 22"], parts["eq. 23"] + parts["eq. 24"]
    xi_roots = tuple(sp.solve(sp.factor(d_w + d_b) / (1 - S.XI), S.XI))  # (25)+(26): L1 part
    gamma_roots = tuple(sp.solve(sp.factor(d_w - d_b) / G, G))  # (25)-(26): L2 part
    return d_w, d_b, xi_roots, gamma_roots


@check
def eq25_26_system() -> Claim:
    d_w, d_b, _, _ = _theorem2_solutions()
    printed_w = PRINTED["eq. 21"] + PRINTED["eq. 22"]
    printed_b = PRINTED["eq. 23"] + PRINTED["eq. 24"]
    exact = _proportional(printed_w, d_w) and _proportional(printed_b, d_b)
    return Claim(
        "eq25-26-system",
        "appendix eqs. 25-26",
        f"{fmt(printed_w)} = 0 and {fmt(printed_b)} = 0",
        f"{fmt(sp.factor(d_w))} = 0 and {fmt(sp.factor(d_b))} = 0",
        exact,
        exact,
        "each printed equation is the derived one times a non-zero constant (the sign errors "
        "of eqs. 21-24 cancel), so the system and its solutions are the same.",
    )


def _bracketed(eq: str) -> sp.Expr | None:
    """Eqs. 28-29 read with the fraction bar under the whole numerator: (a + n)/d."""
    if eq not in FRACTIONS:
        return None
    a, n, d = FRACTIONS[eq]
    return (a + n) / d


def _root_claim(eq: str, roots: tuple, variable: str) -> Claim:
    printed = PRINTED[eq]
    match = [r for r in roots if _same(printed, r)]
    exact = bool(match)
    reread = _bracketed(eq)
    bracketed = [r for r in roots if reread is not None and _same(reread, r)]
    intended = (match or bracketed or [None])[0]
    admissible = sp.solve([intended > 0, intended < 1], S.ETA) if intended is not None else None
    # The paper deletes a root as outside (0, 1): right iff the corrected root never lies there.
    consequence = intended is not None and (admissible == sp.false) == (eq in DELETED)
    if exact:
        match = "Equal to a derived root."
    elif bracketed:
        match = "Equal to a derived root once the fraction bar spans the whole numerator: "
        match += f"{fmt(reread)}."
    else:
        match = "Matches no derived root."
    return Claim(
        f"{eq.replace('. ', '')}-root",
        f"appendix {eq}",
        f"{variable} = {fmt(printed)}",
        f"{variable} = {fmt(intended) if intended is not None else 'no derived root matches'}",
        exact,
        consequence,
        f"roots of the derived system for {variable}: {', '.join(fmt(r) for r in roots)}. "
        f"{match} "
        f"In (0, 1) for: {admissible}; the paper {'deletes' if eq in DELETED else 'keeps'} it.",
    )


@check
def eq27_root() -> Claim:
    return _root_claim("eq. 27", _theorem2_solutions()[2], "ξ")


@check
def eq28_root() -> Claim:
    return _root_claim("eq. 28", _theorem2_solutions()[2], "ξ")


@check
def eq29_root() -> Claim:
    return _root_claim("eq. 29", _theorem2_solutions()[3], "γ")


@check
def eq30_root() -> Claim:
    return _root_claim("eq. 30", _theorem2_solutions()[3], "γ")


@cache
def _theorem2_point(eta: sp.Expr = S.ETA):
    """The admissible stationary point (w*, b*) of Theorem 2, exact, and its Hessian."""
    _, _, xi_roots, gamma_roots = _theorem2_solutions()
    xi1 = max(xi_roots, key=lambda r: r.subs(S.ETA, 1))
    gamma1 = min(gamma_roots, key=lambda r: r.subs(S.ETA, 1))
    if not _same(gamma1, 1 - xi1):  # pragma: no cover
        raise ArithmeticError("γ1 is not 1 - ξ1")
    w, b = sp.symbols("w b", real=True)
    solution = sp.solve(
        [2 * (w + b) - 1 - S.logit(xi1), 2 * (b - w) - 1 - S.logit(1 - xi1)], [w, b], dict=True
    )[0]
    return xi1.subs(S.ETA, eta), solution[w].subs(S.ETA, eta), sp.simplify(solution[b])


@check
def theorem2_boundary() -> Claim:
    xi1, w_star, b_star = _theorem2_point()
    system = S.two_point_system("ms", eta=PAPER_ETA)
    boundary = sp.simplify(system.boundary.subs({S.W: w_star, S.B: b_star}))
    exact = b_star == PRINTED["Theorem 2 b"] and boundary == PRINTED["Theorem 2 boundary"]
    at = {S.W: w_star.subs(S.ETA, PAPER_ETA), S.B: b_star}
    residual = [sp.N(e.subs(at), 50) for e in (system.grad_w, system.grad_b)]
    hessian = sp.hessian(system.loss, (S.W, S.B)).subs(at).evalf(50)
    minors = [sp.N(hessian[0, 0], 20), sp.N(hessian.det(), 20)]
    return Claim(
        "thm2-boundary",
        "Theorem 2, appendix eqs. 27-30",
        "b = 0.5, so the boundary passes through x = 0, the centre of the data",
        f"b* = {b_star}, w* = {fmt(w_star)}, boundary x = {boundary}",
        exact,
        exact,
        f"(w*, b*) from ξ = ξ1, γ = 1 − ξ1 through the logit; at η = 3/2 the gradient there is "
        f"{[sp.N(r, 3) for r in residual]} at 50 digits and the Hessian's leading minors are "
        f"{minors} (positive: a strict local "
        f"minimum). w* is finite only while ξ1 < 1, i.e. η > {S.eta_threshold('ms')}.",
    )


@check
def theorem2_general() -> Claim:
    threshold = S.eta_threshold("ms")
    below = S.stationary_points("ms", eta=threshold / 2)
    points = ((1, 1), (3, 1), (-1, 0))  # max-margin boundary: x = 0, midway between -1 and 1
    system = S.linear_system("ms", points, eta=PAPER_ETA)
    w_b = sp.nsolve([system.grad_w, system.grad_b], [S.W, S.B], [0.5, 0.0], prec=40)
    residual = max(
        abs(sp.N(e.subs({S.W: w_b[0], S.B: w_b[1]}), 40)) for e in (system.grad_w, system.grad_b)
    )
    boundary = sp.N(system.boundary.subs({S.W: w_b[0], S.B: w_b[1]}), 15)
    hessian = sp.hessian(system.loss, (S.W, S.B)).subs({S.W: w_b[0], S.B: w_b[1]})
    is_min = sp.N(hessian[0, 0]) > 0 and sp.N(hessian.det()) > 0
    centred = abs(boundary) < sp.Rational(1, 10**10)
    exact = centred and not below
    return Claim(
        "thm2-general",
        "Theorem 2",
        "MS loss always makes the model converge to the robust (max-margin) boundary",
        f"not for η ≤ {threshold} (no finite stationary point: roots in (0,1) at η = "
        f"{threshold / 2}: {len(below)}); and on positives at 1, 3 and a negative at -1 the MS "
        f"minimum puts the boundary at x = {boundary}, not at the max-margin x = 0",
        exact,
        exact,
        f"plain model σ(wx+b), η = 3/2: (w, b) = ({sp.N(w_b[0], 12)}, {sp.N(w_b[1], 12)}) by "
        f"40-digit Newton, |∇L| = {sp.N(residual, 3)}, Hessian positive definite: {is_min}. "
        "Theorem 2's proof covers only the symmetric two-point set, where symmetry alone "
        "puts any stationary point at the centre.",
    )


# --------------------------------------------------------------------------- Theorem 3


@check
def theorem3_section5() -> Claim:
    threshold = S.eta_threshold("ms")
    exact = threshold == PRINTED["Theorem 3"]
    root = max(S.stationary_closed_form("ms"), key=lambda r: r.subs(S.ETA, 1))
    return Claim(
        "thm3-eq7",
        "Theorem 3 (Section 5), eq. 7",
        "two-stationary-point CE (eq. 7) has its finite stationary point iff η > "
        f"{PRINTED['Theorem 3']}",
        f"ξ* = {fmt(root)} lies in (0, 1) iff η > {threshold}",
        exact,
        exact,
        f"dℓ/dξ → -∞ at 0⁺ and → {fmt(sp.limit(S.grad_xi('ms'), S.XI, 1, '-'))} at 1⁻; "
        f"ξ*(η) = 1 exactly at η = {threshold}. What 'learns a robust model' adds is not "
        "derived (see thm2-general).",
    )


@check
def theorem3_appendix() -> Claim:
    threshold = S.eta_threshold("centred-ce")
    exact = threshold == PRINTED["Theorem 3"]
    between = S.stationary_points("centred-ce", eta=(PRINTED["Theorem 3"] + threshold) / 2)
    return Claim(
        "thm3-eq31",
        "Theorem 3 (appendix), eqs. 31-36",
        f"the regularised CE of eq. 31 needs η > {PRINTED['Theorem 3']}",
        f"eq. 31 has a finite stationary point iff η > {threshold}",
        exact,
        bool(between),
        f"η(ξ - 1/2)² = (η/2)(ξ² + (1-ξ)²) - η/4, so eq. 31 is eq. 7 with η halved and its "
        f"threshold doubles; at η = {(PRINTED['Theorem 3'] + threshold) / 2} it has "
        f"{len(between)} stationary points in (0, 1).",
    )


@check
def eq33_34_stationarity() -> Claim:
    derived = S.grad_logit("centred-ce")
    printed = PRINTED["eq. 34"]
    exact = _proportional(printed, derived)
    values = {S.ETA: PAPER_ETA}
    kinds_p, roots_p = _roots_summary(printed.subs(values))
    kinds_d, roots_d = _roots_summary(derived.subs(values))
    same_roots = len(roots_p) == len(roots_d) and all(
        abs(sp.N(a.xi - b.xi, 30)) < 1e-25 for a, b in zip(roots_p, roots_d, strict=True)
    )
    return Claim(
        "eq33-34-stationarity",
        "appendix eqs. 33-34",
        f"{fmt(printed)} = 0",
        f"{fmt(sp.factor(derived))} = 0",
        exact,
        same_roots,
        f"also eq. 33 as printed: {fmt(PRINTED['eq. 33'])}. At η = 3/2 the printed equation "
        f"has its root at {_describe_roots(roots_p)}, the derived at {_describe_roots(roots_d)}: "
        "the derivative of η(ξ - 1/2)² through the softmax carries a factor ξ(1-ξ) that the "
        "proof drops in part.",
    )


@check
def eq35_root() -> Claim:
    printed = PRINTED["eq. 35"]
    roots = S.stationary_closed_form("centred-ce")
    root = max(roots, key=lambda r: r.subs(S.ETA, 1))
    exact = _same(printed, root)
    printed_threshold = sp.solve(printed - 1, S.ETA)[0]
    return Claim(
        "eq35-36-root",
        "appendix eqs. 35-36",
        f"ξ = {fmt(printed)}, hence e^(1+2(wᵀx+b)) = 2η - 1 > 0 and η > {printed_threshold}",
        f"ξ* = {fmt(root)}, in (0, 1) iff η > {S.eta_threshold('centred-ce')}",
        exact,
        printed_threshold == S.eta_threshold("centred-ce"),
        f"printed − derived at η = 3/2: {sp.N((printed - root).subs(S.ETA, PAPER_ETA), 6)}. "
        "Eq. 35 also writes ξ = σ(-(1 + 2(wᵀx + b))), the opposite sign convention of eq. 17.",
    )


# ----------------------------------------------------------------------- Section 5 claims


@check
def spectral_decoupling_equivalence() -> Claim:
    ms_term = sp.limit(S.loss("ms") - S.loss("ce"), S.XI, 1, "-")
    sd_term = sp.limit(S.loss("spectral-decoupling") - S.loss("ce"), S.XI, 1, "-")
    sd_threshold = sp.limit(S.grad_xi("spectral-decoupling"), S.XI, 1, "-")
    # Same gradients in ξ would need λ = η(4ξ - 2)/(z dz/dξ) to be a constant.
    z = S.logit(S.XI)
    needed = sp.simplify((sp.diff(S.loss("ms"), S.XI) + 1 / S.XI) / sp.diff(z**2 / 2, S.XI))
    samples = {
        sp.Rational(3, 4): needed.subs(S.XI, sp.Rational(3, 4)),
        sp.Rational(9, 10): needed.subs(S.XI, sp.Rational(9, 10)),
    }
    constant = S.is_zero(samples[sp.Rational(3, 4)] - samples[sp.Rational(9, 10)])
    exact = constant and ms_term == sd_term
    return Claim(
        "sec5-spectral-decoupling",
        "Section 5",
        "MS loss is equivalent to spectral decoupling (Pezeshki et al. 2021)",
        f"they differ: as ξ → 1 the MS term tends to {ms_term}, the SD penalty to {sd_term}; SD "
        f"has a finite stationary point for every λ > 0 (dℓ/dξ → {sd_threshold} at 1⁻), MS only "
        f"for η > {S.eta_threshold('ms')}",
        exact,
        exact,
        f"matching the gradients would need λ = {fmt(needed)}, which is not constant "
        f"(at ξ = 3/4: {fmt(samples[sp.Rational(3, 4)])}; at ξ = 9/10: "
        f"{fmt(samples[sp.Rational(9, 10)])}). Both add a finite stationary point to CE; they "
        "are not the same loss.",
    )


@check
def vector_reading() -> Claim:
    thresholds = {}
    for k in (2, 3, 10):
        # |p|² + |1 - p|² over all K classes, the other K-1 classes sharing 1 - ξ equally.
        rest = (1 - S.XI) / (k - 1)
        term = S.XI**2 + (1 - S.XI) ** 2 + (k - 1) * (rest**2 + (1 - rest) ** 2)
        g = sp.diff(-sp.log(S.XI) + S.ETA * term, S.XI)
        thresholds[k] = sp.solve(sp.limit(g, S.XI, 1, "-"), S.ETA)[0]
    exact = all(t == PRINTED["Theorem 3"] for t in thresholds.values())
    return Claim(
        "eq7-vector-reading",
        "eqs. 4 and 7 (K classes), Theorem 3",
        "|ξ|² + |1-ξ|²: read by msanalysis as the true-class probability; Theorem 3's η > 0.5",
        "under the other reading (the whole probability vector) the threshold depends on K: "
        + ", ".join(f"K={k}: η > {t}" for k, t in thresholds.items()),
        exact,
        exact,
        "vector reading Σ_k p_k² + (1-p_k)² evaluated with the other classes sharing 1 - ξ "
        "equally (the configuration a softmax reaches when they are symmetric); msanalysis "
        "implements the true-class reading, for which Theorem 3's threshold is exact (thm3-eq7).",
    )


# ------------------------------------------------- gradient-descent evidence (issue 4)
# Simulations from msanalysis.simulate / msanalysis.sweep: what gradient descent actually does.
# 5,000 steps reach |∇L| < 1e-9 on the converging runs (the simulate command runs longer).

GD_STEPS = 5000


@check
def gd_theorem2_symmetric() -> Claim:
    from .simulate import simulate

    run = simulate(
        "paper-4pt", "ms", {"eta": float(PAPER_ETA)}, parametrisation="odd", steps=GD_STEPS
    )
    exact = bool(run.converged and run.matches_symbolic and run.boundary_gap < 1e-8)
    return Claim(
        "gd-thm2-symmetric",
        "Theorem 2 (gradient descent)",
        "on the symmetric points, MS (η = 3/2) converges to the boundary at the centre",
        f"GD converged: {run.converged}; end point equals sympy's stationary point to 1e-8: "
        f"{run.matches_symbolic}; boundary {run.boundary:.3g} vs max margin "
        f"{run.max_margin_boundary:.3g}",
        exact,
        exact,
        f"{run.steps} full-batch steps, lr {run.lr:.4g}, model σ(2(wx+b)-1); (w, b) = "
        f"({run.w[0]:.10f}, {run.b:.10f}), |∇L| = {run.grad_norm:.2e}, ξ at the samples "
        f"{run.xi_final[0]:.12f} (ξ* = {run.xi_star:.12f}).",
    )


@check
def gd_theorem2_general() -> Claim:
    from .simulate import simulate

    runs = {
        "asymmetric, η = 3/2": simulate(
            "asymmetric", "ms", {"eta": float(PAPER_ETA)}, steps=GD_STEPS
        ),
        "paper points, η = 0.45": simulate(
            "paper-4pt", "ms", {"eta": 0.45}, parametrisation="odd", steps=GD_STEPS
        ),
    }
    centred = [
        r.converged and r.boundary_gap is not None and r.boundary_gap < 1e-6 for r in runs.values()
    ]
    exact = all(centred)
    return Claim(
        "gd-thm2-general",
        "Theorem 2 (gradient descent)",
        "MS loss always makes gradient descent converge to the robust (max-margin) boundary",
        "; ".join(
            f"{label}: converged {r.converged}, boundary gap to max margin {r.boundary_gap:.4g}"
            + ("" if r.converged else f", |w| still growing (slope vs log t {r.w_log_slope:.2f})")
            for label, r in runs.items()
        ),
        exact,
        exact,
        "data sets of msanalysis.simulate: positives at 1 and 3 with a negative at -1 (max-margin "
        "boundary 0); Theorem 2's own two points with η below the threshold 1/2.",
    )


@check
def gd_theorem1_implicit_bias() -> Claim:
    from .simulate import simulate

    run = simulate("segments", "ce", {}, steps=GD_STEPS)
    angle = run.trajectory["angle_deg"]
    tenth = len(angle) // 10
    approaching = bool(not run.converged and run.w_log_slope > 0 and angle[-1] < angle[tenth])
    return Claim(
        "gd-thm1-implicit-bias",
        "Theorem 1, Section 3.2 (gradient descent)",
        "CE does not converge to the robust boundary",
        "on Figure 1's segments (gap 1.8) GD on CE never stops (|w| grows ≈ "
        f"{run.w_log_slope:.2f}·log t) "
        f"and its direction approaches the max-margin one: angle {angle[tenth]:.2f}° at step "
        f"{int(run.trajectory['step'][tenth])}, {angle[-1]:.2f}° at step {run.steps}",
        not approaching,
        not approaching,
        "2-D linear model σ(w·x + b), hard-margin SVM (scipy) as the reference; the decrease of "
        "the angle like 1/log t is the implicit bias of Soudry et al. 2018: CE's boundary moves "
        "towards the max-margin boundary, slowly.",
    )


def _sweep_claim(name: str, claim_id: str, source: str) -> Claim:
    from .sweep import sweep_eta

    step = 0.005
    result = sweep_eta(name, n_eta=401, eta_step=step, steps=2000)
    printed = float(PRINTED["Theorem 3"])
    exact = bool(result.agrees and abs(result.threshold_empirical - printed) <= step)
    return Claim(
        claim_id,
        source,
        f"a finite stationary point for η > {PRINTED['Theorem 3']}",
        f"gradient descent reaches a finite point for η > {result.threshold_empirical:g} "
        f"(grid step {step}); sympy's threshold is {result.threshold_symbolic}",
        exact,
        exact,
        f"vectorised 1-D GD over {len(result.etas)} values of η and several starts "
        f"(msanalysis.sweep, certified by order preservation); agrees with sympy to the grid: "
        f"{result.agrees}.",
    )


@check
def gd_theorem3_eq7() -> Claim:
    return _sweep_claim("ms", "gd-thm3-eq7", "Theorem 3 (Section 5), eq. 7 (gradient descent)")


@check
def gd_theorem3_eq31() -> Claim:
    return _sweep_claim(
        "centred-ce", "gd-thm3-eq31", "Theorem 3 (appendix), eq. 31 (gradient descent)"
    )


# ------------------------------------------------------------ the paper's own tables


@check
def table1_text() -> Claim:
    """Section 4.2's summary of Table 1, checked against Table 1's own numbers (quoted data)."""
    accuracy = quoted_tables()["table1"]["accuracy"]
    gains = {
        (model, attack): accuracy[model]["ms"][attack] - accuracy[model]["ce"][attack]
        for model in accuracy
        for attack in accuracy[model]["ce"]
    }
    (worst_model, worst_attack), worst = min(gains.items(), key=lambda item: item[1])
    below = sorted(f"{m} {a} (+{g:.2f})" for (m, a), g in gains.items() if g < 20)
    exact = worst >= 20
    return Claim(
        "table1-text",
        "Section 4.2, Table 1",
        "MS improves the accuracy of every network under every attack by at least 20 points",
        f"the paper's own Table 1 has {len(below)} of {len(gains)} cells below +20: "
        + ", ".join(below),
        exact,
        exact,
        f"MS − CE per cell of Table 1 as printed (msanalysis/data/paper_tables.json); smallest "
        f"gain {worst:.2f} points ({worst_model}, {worst_attack}). These are the paper's numbers, "
        "not a reproduction (that needs the CIFAR-10 GPU runs).",
    )


# ----------------------------------------------------------------------------- running


def run_check(fn: Callable[[], Claim]) -> Claim:
    start = time.perf_counter()
    row = fn()
    return Claim(**{**row.__dict__, "seconds": round(time.perf_counter() - start, 3)})


def ledger() -> list[Claim]:
    """Run every check, in order. Errors propagate (the CLI reports them per row)."""
    return [run_check(fn) for fn in CHECKS]


def counts(rows: list[Claim]) -> dict[str, int]:
    return {v.value: sum(r.verdict is v for r in rows) for v in Verdict}


def summary_markdown(rows: list[Claim]) -> str:
    """The README's ledger summary: counts per verdict and the rows that fail."""
    c = counts(rows)
    lines = [
        "| verdict | claims |",
        "|---|---|",
        *(f"| {v} | {n} |" for v, n in c.items()),
        "",
        "Claims that fail:",
        "",
        *(
            f"- **{r.id}** ({r.source}): the paper says {r.paper}; msanalysis derives {r.derived}."
            for r in rows
            if r.verdict is Verdict.FAILS
        ),
    ]
    return "\n".join(lines)


def to_json(rows: list[Claim]) -> str:
    return json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2)
