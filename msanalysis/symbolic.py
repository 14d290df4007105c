"""The loss family as sympy expressions, and what sympy derives from them.

Everything here is exact: expressions of the true-class probability ξ (``XI``) and of logits,
built once from :mod:`msanalysis.losses` and cached, hyper-parameters either sympy symbols or
exact Rationals. Numbers given as floats are converted with ``nsimplify`` (1.5 -> 3/2).

Main entry points:

* :func:`loss` - a loss as an expression of ξ;
* :func:`grad_xi`, :func:`grad_logit` - dℓ/dξ and dℓ/do for the true logit and another logit;
* :func:`stationary_points` - roots of dℓ/dξ in (0, 1), closed form or certified numeric,
  each with its kind (minimum or maximum);
* :func:`eta_threshold` - the exact η above which a finite stationary point exists;
* :func:`two_point_system` - Theorem 2's one-dimensional problem (appendix eqs. 17-20);
* :func:`theorem2_gradient_parts`, :func:`theorem2_roots`, :func:`theorem2_point` - its
  derivation (eqs. 21-30), used by the ledger, ``proofs/`` and the tests.

>>> from msanalysis import symbolic
>>> symbolic.eta_threshold("ms")
1/2
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from itertools import combinations, pairwise
from numbers import Real
from typing import Any, Literal

import mpmath
import numpy as np
import sympy as sp
from sympy.calculus.util import continuous_domain

from .losses import TrueClass, get_loss

__all__ = [
    "XI",
    "Z",
    "ETA",
    "ALPHA",
    "GAMMA",
    "LAM",
    "P_OTHER",
    "SYMBOLS",
    "true_class",
    "loss",
    "grad_xi",
    "grad_logit",
    "softmax_jacobian",
    "sample_weight",
    "convex_in_xi",
    "end_limit",
    "limit_at_infinity",
    "finite_minimum_etas",
    "StationaryPoint",
    "polynomial_roots",
    "roots_in_unit_interval",
    "stationary_points",
    "stationary_closed_form",
    "eta_threshold",
    "etas_in_unit_interval",
    "signs_over_etas",
    "asymptotic_gradient",
    "is_zero",
    "cancel",
    "sample_value",
    "sigmoid",
    "logit",
    "LinearSystem",
    "linear_system",
    "score",
    "two_point_system",
    "GAMMA_NEG",
    "theorem2_gradient_parts",
    "Theorem2Roots",
    "theorem2_roots",
    "Theorem2Point",
    "theorem2_point",
    "augmented_max_margin",
    "gradient_root",
    "evaluate",
    "OFF_CENTRE_POINTS",
]

XI = sp.Symbol("xi", positive=True)  # ξ, the true-class probability, in (0, 1)
Z = sp.Symbol("z", real=True)  # a binary logit, σ(z) = ξ
P_OTHER = sp.Symbol("p_j", positive=True)  # the softmax probability of another class j
ETA = sp.Symbol("eta", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
GAMMA = sp.Symbol("gamma", nonnegative=True)
LAM = sp.Symbol("lambda", positive=True)
SYMBOLS: dict[str, sp.Symbol] = {"eta": ETA, "alpha": ALPHA, "gamma": GAMMA, "lam": LAM}


class SymbolicArgumentError(ValueError):
    """A symbolic function got an argument it cannot use (wrong type, out of range)."""


def _exact(name: str, value: Any) -> sp.Expr:
    """A hyper-parameter as an exact sympy value (floats via their shortest rational)."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, (Real, Fraction, str)):
        raise SymbolicArgumentError(f"{name}={value!r}: expected a number or a sympy expression")
    try:
        exact = (
            sp.nsimplify(value, rational=True) if isinstance(value, float) else sp.sympify(value)
        )
    except (sp.SympifyError, TypeError) as err:
        raise SymbolicArgumentError(f"{name}={value!r} is not a number") from err
    if not exact.is_number:  # a string such as "abc" would otherwise become a new symbol
        raise SymbolicArgumentError(
            f"{name}={value!r} is not a number (pass a sympy symbol to keep it symbolic)"
        )
    return exact


def _params(name: str, params: dict[str, Any]) -> tuple[tuple[str, sp.Expr], ...]:
    """Validated, exact, hashable hyper-parameters; missing ones become their symbols."""
    spec = get_loss(name)
    full = {p.name: SYMBOLS[p.name] for p in spec.params}
    unknown = set(params) - set(full)
    if unknown:
        spec.validate(params)  # raises with the list of valid names
    full.update({k: _exact(k, v) for k, v in params.items()})
    numeric = {k: float(v) for k, v in full.items() if v.is_number}
    spec.validate({**{k: v for k, v in full.items()}, **numeric})
    return tuple(sorted(full.items()))


def true_class(xi: sp.Expr = XI) -> TrueClass[sp.Expr]:
    """The TrueClass view of a symbolic probability: (ξ, log ξ, 1 - ξ, log(1 - ξ)).

    Examples:
      >>> true_class()
      TrueClass(p=xi, log_p=log(xi), q=1 - xi, log_q=log(1 - xi))
    """
    return TrueClass(p=xi, log_p=sp.log(xi), q=1 - xi, log_q=sp.log(1 - xi))


def loss(name: str, **params: Any) -> sp.Expr:
    """The loss ``name`` of :mod:`msanalysis.losses` as an expression of ξ.

    Hyper-parameters not given stay symbols (η, α, γ, λ).

    Examples:
      >>> loss("ms")
      eta*(xi**2 + (1 - xi)**2) - log(xi)
      >>> loss("ms", eta=1.5)  # floats become exact rationals
      3*xi**2/2 + 3*(1 - xi)**2/2 - log(xi)
    """
    return get_loss(name).fn(true_class(), **dict(_params(name, params)))


@cache
def _grad_xi(name: str, params: tuple[tuple[str, sp.Expr], ...]) -> sp.Expr:
    fixed = {SYMBOLS[k]: v for k, v in params if v != SYMBOLS[k]}
    if fixed:
        # Fixing a hyper-parameter commutes with d/dξ: the derivative with every one a symbol,
        # built once, takes the numbers. sympy's diff is mostly assumption queries on the new
        # expression: 8-25 ms a loss here, against 1-6 ms for the substitution.
        symbolic = _grad_xi(name, tuple((k, SYMBOLS[k]) for k, _ in params))
        return sp.expand(symbolic.subs(fixed), power_exp=False)
    expr = get_loss(name).fn(true_class(), **dict(params))
    # Every loss is a sum of terms, so the derivative is expanded into one term per monomial
    # (power_exp=False leaves powers such as (1 - ξ)^γ whole). ``simplify`` would try every
    # rewrite it knows for a form no caller needs (and was most of this module's time).
    return sp.expand(sp.diff(expr, XI), power_exp=False)


def grad_xi(name: str, **params: Any) -> sp.Expr:
    """dℓ/dξ, expanded into a sum of terms.

    Examples:
      >>> grad_xi("ce")
      -1/xi
      >>> grad_xi("ms", eta=1.5)
      6*xi - 3 - 1/xi
    """
    return _grad_xi(name, _params(name, params))


@cache
def softmax_jacobian() -> tuple[sp.Expr, sp.Expr]:
    """∂ξ/∂o_true and ∂ξ/∂o_j for a softmax over any number of classes, derived.

    The softmax is written with the true logit ``o``, one other logit ``o_j`` and a positive
    remainder ``R`` standing for the exponentials of all remaining classes, so the result holds
    for every K >= 2 (K = 2 is R -> 0). The derivatives are differentiated by sympy and then
    expressed in ξ and p_j; the function checks that the expression in ξ, p_j is an identity.

    Returns:
      (∂ξ/∂o_true, ∂ξ/∂o_j) as expressions of ``XI`` and ``P_OTHER``.

    Examples:
      >>> softmax_jacobian()
      (xi*(1 - xi), -p_j*xi)
    """
    o, oj = sp.symbols("o o_j", real=True)
    rest = sp.Symbol("R", nonnegative=True)
    denom = sp.exp(o) + sp.exp(oj) + rest
    xi, pj = sp.exp(o) / denom, sp.exp(oj) / denom
    d_true, d_other = sp.diff(xi, o), sp.diff(xi, oj)
    # Everything is rational in e^o, e^{o_j} and R, so ``cancel`` decides each step: the
    # candidate closed forms come from dividing by ξ, and each is then verified.
    true_form = cancel(d_true / xi)  # -> (R + e^{o_j}) / (R + e^o + e^{o_j}) = 1 - ξ
    other_form = cancel(d_other / (xi * pj))  # -> -1
    in_xi_true = cancel(true_form.subs(rest, sp.exp(o) / XI - sp.exp(o) - sp.exp(oj)))
    result_true = XI * in_xi_true
    result_other = other_form * XI * P_OTHER
    check_true = cancel(d_true - result_true.subs(XI, xi))
    check_other = cancel(d_other - result_other.subs({XI: xi, P_OTHER: pj}))
    if check_true != 0 or check_other != 0:  # pragma: no cover - would mean sympy disagrees
        raise ArithmeticError("softmax Jacobian did not reduce to an expression of ξ, p_j")
    return result_true, result_other


@cache
def _grad_logit(name: str, params: tuple, which: str) -> sp.Expr:
    d_true, d_other = softmax_jacobian()
    factor = d_true if which == "true" else d_other
    # A product of rational functions of ξ (with log ξ and (1 - ξ)^γ as further generators):
    # factor brings it over one denominator and shows the common factors.
    return sp.factor(_grad_xi(name, params) * factor)


def grad_logit(name: str, which: Literal["true", "other"] = "true", **params: Any) -> sp.Expr:
    """dℓ/do for the true-class logit (``which='true'``) or another logit (``'other'``).

    The chain rule dℓ/dξ · ∂ξ/∂o with the derived softmax Jacobian; the binary (sigmoid) case is
    the K-class one with K = 2 (see :func:`binary_logit_gradient_check`).

    Examples:
      >>> grad_logit("ce")
      xi - 1
      >>> grad_logit("ms")
      -(xi - 1)*(4*eta*xi**2 - 2*eta*xi - 1)
      >>> grad_logit("ce", "other")  # another class's logit: its probability p_j
      p_j
    """
    if which not in ("true", "other"):
        raise SymbolicArgumentError(f"which={which!r}: expected 'true' or 'other'")
    return _grad_logit(name, _params(name, params), which)


def sample_weight(name: str, **params: Any) -> sp.Expr:
    """w(ξ) = -ξ·dℓ/dξ: the factor by which a loss reweights cross-entropy's logit gradient.

    Every loss here is a function of ξ alone, so with the softmax Jacobian
    ∂ξ/∂o = ξ(e_y - p) its gradient is dℓ/do = ξ ℓ'(ξ)(e_y - p) = w(ξ)·(p - e_y), and
    p - e_y is cross-entropy's gradient: w = 1 for CE. Where w < 0, gradient descent on ℓ
    lowers ξ, and an attack ascending ℓ raises it.

    Examples:
      >>> sample_weight("ce")
      1
      >>> sample_weight("ms")
      -2*eta*xi*(2*xi - 1) + 1
    """
    terms = sp.Add.make_args(loss(name, **params))  # term by term keeps each factor readable
    return sp.Add(*(sp.factor(sp.factor_terms(cancel(-XI * sp.diff(t, XI)))) for t in terms))


def sample_value(expr: sp.Expr, point: int) -> sp.Expr:
    """``expr`` at sample point 0 or 1, to 50 digits: the i-th free symbol (sorted by name) set
    to (3 + 2i + point)/(17 + 4i), a rational in (0, 1), the domain every symbol here shares.

    ``evalf(subs=...)`` evaluates without building the substituted expression first.

    >>> sample_value(XI + ETA, 0)  # eta = 3/17, xi = 5/21
    0.41456582633053221288515406162464985994397759103641
    """
    symbols = sorted(expr.free_symbols, key=str)
    at = {s: sp.Rational(3 + 2 * i + point, 17 + 4 * i) for i, s in enumerate(symbols)}
    return expr.evalf(50, subs=at)


_CANCEL_SKIPS_SIGNSIMP = "_signsimp" in inspect.signature(sp.cancel).parameters


def cancel(expr: sp.Expr) -> sp.Expr:
    """``sympy.cancel`` (p/q in lowest terms) without the ``signsimp`` pass it opens with.

    sympy's cancel first rewrites the whole expression with the sign of every sub-sum pulled
    out (``signsimp``), then cancels polynomials. Skipping that pass removed 3.7% of the Python
    calls of ``msanalysis verify`` (bench/RESULTS.md) and changed none of its output; both
    forms are exact rewrites of ``expr``. sympy skips it through cancel's keyword ``_signsimp``
    (underscored, so checked for here): where a sympy lacks it, this is plain ``cancel``.

    >>> cancel((XI**2 - 1) / (XI - 1))
    xi + 1
    """
    if _CANCEL_SKIPS_SIGNSIMP:
        return sp.cancel(expr, _signsimp=False)
    return sp.cancel(expr)


def is_zero(expr: sp.Expr) -> bool:
    """Whether an expression is identically zero, decided exactly.

    A non-zero value at a sample point (every free symbol set to a rational in (0, 1),
    evaluated to 50 digits) proves it is not zero; otherwise ``cancel``, then ``simplify``
    must reduce it to 0. The sample points lie in the domain every symbol here shares
    (ξ, η, α, γ, λ all admit values in (0, 1)).

    Examples:
      >>> is_zero(sigmoid(Z) + sigmoid(-Z) - 1)
      True
      >>> is_zero(XI - sp.Rational(1, 2))
      False
    """
    for point in (0, 1):
        value = sample_value(expr, point)
        if value.is_number and value.is_finite and abs(value) > sp.Float(10) ** -30:
            return False
    return cancel(expr) == 0 or sp.simplify(expr) == 0


def sigmoid(z: sp.Expr) -> sp.Expr:
    """σ(z) = 1 / (1 + e^{-z}).

    Examples:
      >>> sigmoid(0), sigmoid(Z)
      (1/2, 1/(1 + exp(-z)))
    """
    return 1 / (1 + sp.exp(-z))


def logit(p: sp.Expr) -> sp.Expr:
    """σ^{-1}(p) = log p - log(1 - p).

    Examples:
      >>> logit(sp.Rational(1, 2))
      0
      >>> sp.simplify(sigmoid(logit(XI)))
      xi
    """
    return sp.log(p) - sp.log(1 - p)


def binary_logit_gradient_check(name: str, **params: Any) -> sp.Expr:
    """d/dz ℓ(σ(z)) minus :func:`grad_logit` at ξ = σ(z); simplifies to 0 when they agree.

    Examples:
      >>> binary_logit_gradient_check("ms")
      0
    """
    direct = sp.diff(get_loss(name).fn(true_class(sigmoid(Z)), **dict(_params(name, params))), Z)
    return sp.simplify(direct - grad_logit(name, **params).subs(XI, sigmoid(Z)))


@dataclass(frozen=True)
class StationaryPoint:
    """A root ξ* of dℓ/dξ in (0, 1).

    Attributes:
      xi: the root, exact when ``exact`` else a 30-digit Float.
      kind: 'minimum', 'maximum' or 'inflection': for an exact root the sign of d²ℓ/dξ² there,
        for a numeric one the direction of the certified sign change of dℓ/dξ.
      exact: True for a closed form, False for a certified numeric root.
      bracket: for numeric roots, rationals (a, b) with dℓ/dξ(a), dℓ/dξ(b) of opposite signs,
        evaluated exactly: the certificate that a root lies in between.

    Examples:
      >>> point = stationary_points("ms", eta=1.5)[0]
      >>> point.kind, point.exact
      ('minimum', True)
    """

    xi: sp.Expr
    kind: str
    exact: bool
    bracket: tuple[sp.Rational, sp.Rational] | None = None


def _kind(second: sp.Expr) -> str:
    value = sp.N(second, 30)
    if value > 0:
        return "minimum"
    if value < 0:
        return "maximum"
    return "inflection"


def _sign(value: Any) -> int:
    return int(bool(value > 0)) - int(bool(value < 0))


def polynomial_roots(expr: sp.Expr, symbol: sp.Symbol) -> tuple[sp.Expr, ...]:
    """Every root in ``symbol`` of the numerator of ``expr``, each once, by sympy's closed forms.

    ``sympy.roots`` on the numerator polynomial (coefficients may be symbolic): the same roots
    ``solve`` gives, without its assumption checks and simplification (several times the
    cost). Where the numerator is not a polynomial in ``symbol``, or ``roots`` finds fewer roots
    than its degree, ``solve`` is used. Roots are not filtered by sign: a caller sees the ones
    outside the domain too.

    Examples:
      >>> polynomial_roots(4 * ETA * XI**2 - 2 * ETA * XI - 1, XI)
      (1/4 - sqrt(eta + 4)/(4*sqrt(eta)), 1/4 + sqrt(eta + 4)/(4*sqrt(eta)))
    """
    num = sp.fraction(sp.together(expr))[0]
    if num.is_polynomial(symbol):
        poly = sp.Poly(num, symbol)
        found = sp.roots(poly, symbol)
        if sum(found.values()) == poly.degree():
            return tuple(found)
    return tuple(sp.solve(num, symbol))


def solutions(expr: sp.Expr, symbol: sp.Symbol) -> list[sp.Expr]:
    """The solutions of expr = 0 in ``symbol`` that ``sympy.solve`` gives, checked exactly.

    ``solve``'s own check imports ``sympy.physics.units`` on first use (0.3 s, a twentieth of a
    cold ``msanalysis verify``). Here the candidates (the numerator's roots by
    :func:`polynomial_roots` where it is a polynomial, else ``solve`` with ``check=False``,
    which may include roots that squaring a square root brings in) are each kept where
    substituting it gives exactly 0 (a root of the denominator gives ∞ or NaN instead) and it
    meets the symbol's sign assumption; a candidate sympy cannot decide either way sends the
    whole equation to the checked ``solve``.

    Examples:
      >>> solutions(sp.Rational(1, 4) - sp.sqrt(ETA + 4) / (4 * sp.sqrt(ETA)) - 1, ETA)
      []
      >>> solutions(sp.Rational(1, 4) + sp.sqrt(ETA + 4) / (4 * sp.sqrt(ETA)) - 1, ETA)
      [1/2]
    """
    num = sp.fraction(sp.together(expr))[0]
    if num.is_polynomial(symbol):
        candidates = polynomial_roots(expr, symbol)
    else:
        candidates = sp.solve(expr, symbol, check=False)
    kept = []
    for root in candidates:
        zero = expr.subs(symbol, root).is_zero
        admissible = True if not symbol.is_positive else root.is_positive
        if zero is None or admissible is None:
            return sp.solve(expr, symbol)
        if zero and admissible:
            kept.append(root)
    return kept


def _slope_at_root(expr: sp.Expr, num: sp.Poly, den: sp.Expr, root: sp.Expr) -> sp.Expr:
    """d(num/den)/dξ at an exact root of ``num``: num'(r)/den(r), since num(r) = 0.

    Differentiating the polynomial is far cheaper than differentiating ``expr``; where den(r)
    also vanishes the quotient rule does not reduce and ``expr`` is differentiated instead.
    """
    at_root = den.subs(XI, root)
    if at_root == 0:
        return sp.diff(expr, XI).subs(XI, root)
    return num.diff(XI).as_expr().subs(XI, root) / at_root


def roots_in_unit_interval(expr: sp.Expr, *, grid: int = 400) -> list[StationaryPoint]:
    """All zeros in (0, 1) of an expression of ξ with numeric coefficients.

    ``kind`` reads the expression as a derivative (of the loss in ξ, or in the logit, which
    has the same sign): rising through zero is a 'minimum' of the loss. An exact root takes it
    from the sign of the slope there; a numeric root is a certified sign change, whose
    direction (- to + is a minimum) decides it without differentiating.

    Rational expressions are solved exactly: the numerator polynomial's real roots in (0, 1).
    Otherwise the sign is scanned on ``grid`` rational points (50 digits) and each sign change
    is re-checked exactly at its rational ends and refined with ``nsolve``; the bracket is the
    certificate that a root lies there. A zero that touches without a sign change is missed.

    Examples:
      >>> roots_in_unit_interval(XI**2 - sp.Rational(1, 4))
      [StationaryPoint(xi=1/2, kind='minimum', exact=True, bracket=None)]
    """
    return list(_roots_in_unit_interval(sp.sympify(expr), grid))


SCAN_DOUBT = 1e-10
"""A float64 value of the scan is trusted only beyond this fraction of its terms' magnitudes."""


def _scan_signs(expr: sp.Expr, grid: int) -> list[int]:
    """The signs of ``expr`` at ξ = i/grid, i = 1 .. grid-1: float64 (vectorised), else 50 digits.

    Each top-level term is a product, power or log of values that float64 gives to a few ulp
    (the nodes are in (0, 1), away from 0 and 1 by 1/grid), so the error of the float sum is
    about 1e-14 of the sum of the terms' magnitudes; where the sum is not beyond SCAN_DOUBT
    (1e-10, a margin of 10^4) of it, or is not finite, that node is evaluated at 50 digits with
    mpmath instead, as the whole scan was before (docstring_limit=0: lambdify's docstring
    would print the expression, unread).
    """
    x = np.arange(1, grid) / grid
    terms = to_numpy(XI, list(sp.Add.make_args(expr)))
    with np.errstate(all="ignore"):
        values = np.array([np.broadcast_to(np.asarray(v, dtype=float), x.shape) for v in terms(x)])
        total, scale = values.sum(axis=0), np.abs(values).sum(axis=0)
        doubtful = ~(np.abs(total) > SCAN_DOUBT * scale)  # also NaN and inf
    signs = [int(v) for v in np.sign(np.where(doubtful, 0, total))]
    if doubtful.any():
        fast = sp.lambdify(XI, expr, "mpmath", docstring_limit=0)
        with mpmath.workdps(50):
            for i in np.flatnonzero(doubtful):
                signs[i] = _sign(fast(mpmath.mpf(int(i) + 1) / grid))
    return signs


@cache
def _roots_in_unit_interval(expr: sp.Expr, grid: int) -> tuple[StationaryPoint, ...]:
    """The work of :func:`roots_in_unit_interval`, cached: rows ask for the same expression."""
    free = expr.free_symbols - {XI}
    if free:
        raise SymbolicArgumentError(
            f"needs numeric hyper-parameters; {sorted(map(str, free))} are free"
        )
    num, den = sp.fraction(sp.together(expr))
    if num.is_polynomial(XI):
        poly = sp.Poly(num, XI)
        roots = [r for r in poly.real_roots() if 0 < r < 1]
        return tuple(
            StationaryPoint(r, _kind(_slope_at_root(expr, poly, den, r)), True) for r in roots
        )
    points = []
    nodes = [sp.Rational(i, grid) for i in range(1, grid)]
    signs = _scan_signs(expr, grid)  # the brackets are re-checked exactly below
    for (a, sa), (b, sb) in pairwise(zip(nodes, signs, strict=True)):
        if (
            sa * sb < 0
            and _sign(sp.N(expr.subs(XI, a), 50)) * _sign(sp.N(expr.subs(XI, b), 50)) < 0
        ):
            root = sp.nsolve(expr, XI, (a, b), solver="bisect", prec=30)
            kind = "minimum" if sa < 0 else "maximum"  # the sign change itself is the kind
            points.append(StationaryPoint(root, kind, False, (a, b)))
    return tuple(points)


def stationary_points(name: str, *, grid: int = 400, **params: Any) -> list[StationaryPoint]:
    """All roots of dℓ/dξ in (0, 1) for numeric hyper-parameters, with their kind.

    See :func:`roots_in_unit_interval` for how roots are found and certified.

    Raises:
      SymbolicArgumentError: if a hyper-parameter is left symbolic.

    Examples:
      >>> stationary_points("ms", eta=1.5)
      [StationaryPoint(xi=1/4 + sqrt(33)/12, kind='minimum', exact=True, bracket=None)]
      >>> stationary_points("ce")  # CE has no finite stationary point
      []
    """
    return roots_in_unit_interval(grad_xi(name, **params), grid=grid)


@cache
def _closed_form(name: str) -> tuple[sp.Expr, ...]:
    num, _ = sp.fraction(sp.together(grad_xi(name)))
    return polynomial_roots(num, XI)


def stationary_closed_form(name: str) -> tuple[sp.Expr, ...]:
    """Every solution of dℓ/dξ = 0 as an expression of the symbolic hyper-parameters.

    Includes roots outside (0, 1) (such as a negative one), so a caller can see which the paper
    deleted; :func:`eta_threshold` says when the admissible one lies in (0, 1).

    Examples:
      >>> stationary_closed_form("ms")
      (1/4 - sqrt(eta + 4)/(4*sqrt(eta)), 1/4 + sqrt(eta + 4)/(4*sqrt(eta)))
    """
    return _closed_form(name)


def asymptotic_gradient(name: str, **params: Any) -> sp.Expr:
    """lim_{ξ→1⁻} dℓ/do_true: zero means the loss has the asymptotic stationary point o → ∞.

    Examples:
      >>> asymptotic_gradient("ce")
      0
    """
    g = grad_logit(name, **params)
    # The gradient is factored: when every factor has a finite limit, the limit of the product
    # is the product of the limits (cheap one-factor limits instead of one Gruntz expansion of
    # the whole product, which for the focal factor (1 - ξ)^γ with symbolic γ is slow).
    limits = [sp.limit(f, XI, 1, "-") for f in sp.Mul.make_args(g)]
    if all(value.is_finite for value in limits):
        return sp.Mul(*limits)
    return sp.limit(g, XI, 1, "-")


def eta_threshold(name: str, **params: Any) -> sp.Expr:
    """The exact η_c such that dℓ/dξ has a root in (0, 1) for every η > η_c.

    dℓ/dξ → -∞ as ξ → 0⁺ for every loss with a -log ξ part, so by the intermediate value
    theorem a root exists whenever lim_{ξ→1⁻} dℓ/dξ > 0. That limit is affine in η; η_c is
    where it crosses zero (0 if it is positive for every η > 0). For the losses with a
    quadratic numerator (eq. 7, eq. 31) the root is also unique, and below η_c it lies at
    ξ >= 1 (:func:`stationary_points` shows it).

    Args:
      name: a loss with an η parameter.
      **params: its other hyper-parameters (γ for MS-focal must be numeric).

    Returns:
      η_c as an exact sympy number.

    Examples:
      >>> eta_threshold("ms"), eta_threshold("centred-ce")  # eq. 7; the appendix's eq. 31
      (1/2, 1)
      >>> eta_threshold("ms-focal", gamma=2)  # a finite stationary point for every η > 0
      0
    """
    spec = get_loss(name)
    if "eta" not in {p.name for p in spec.params}:
        raise SymbolicArgumentError(f"loss {name!r} has no η parameter")
    if "eta" in params:
        raise SymbolicArgumentError("eta_threshold solves for η; do not pass it")
    g = grad_xi(name, **params)
    try:
        at_zero, at_one = end_limit(g, 0), sp.expand(end_limit(g, 1))
    except NotImplementedError as err:  # sympy cannot take the limit with these symbols
        free = sorted(map(str, g.free_symbols - {XI, ETA}))
        raise SymbolicArgumentError(
            f"cannot take the limits of dℓ/dξ for {name!r} with symbolic {free}; pass numbers"
        ) from err
    if at_zero != -sp.oo:
        raise ArithmeticError(f"dℓ/dξ of {name!r} does not tend to -∞ at ξ → 0⁺: {at_zero}")
    roots = (
        [r for r in polynomial_roots(at_one, ETA) if r.is_nonnegative] if at_one.has(ETA) else []
    )
    if roots:
        (root,) = roots
        return root
    positive = sp.sympify(at_one.subs(ETA, 1) > 0)
    if positive == sp.true:
        return sp.Integer(0)
    if positive == sp.false:
        raise ArithmeticError(f"lim dℓ/dξ at ξ → 1⁻ is {at_one}: no η gives a root")
    raise SymbolicArgumentError(
        f"the threshold depends on the sign of {at_one}; pass numeric parameters"
    )


def etas_in_unit_interval(expr: sp.Expr) -> sp.Set:
    """The η > 0 for which ``expr`` (a function of η alone, such as a root) lies in (0, 1).

    ``expr`` must be continuous on η > 0 (checked with ``continuous_domain``): then it can
    enter or leave (0, 1) only where it equals 0 or 1, so those η cut (0, ∞) into intervals on
    each of which one exact probe decides; the cuts themselves are excluded (there it is 0 or
    1). This replaces ``solveset`` of the two inequalities, which gives the same set at several
    times the cost.

    Raises:
      SymbolicArgumentError: if ``expr`` has another free symbol or is not continuous on η > 0.

    Examples:
      >>> etas_in_unit_interval(sp.Rational(1, 4) + sp.sqrt(ETA + 4) / (4 * sp.sqrt(ETA)))
      Interval.open(1/2, oo)
      >>> etas_in_unit_interval(sp.Rational(1, 4) - sp.sqrt(ETA + 4) / (4 * sp.sqrt(ETA)))
      EmptySet
    """
    positive = sp.Interval.open(0, sp.oo)
    if expr.free_symbols - {ETA}:
        raise SymbolicArgumentError(f"{expr} depends on more than η")
    if continuous_domain(expr, ETA, positive) != positive:
        raise SymbolicArgumentError(f"{expr} is not continuous for every η > 0")
    cuts = sorted({r for c in (0, 1) for r in solutions(expr - c, ETA) if r.is_positive}, key=float)
    ends = [sp.Integer(0), *cuts, sp.oo]
    result: sp.Set = sp.EmptySet
    for low, high in pairwise(ends):
        value = expr.subs(ETA, (low + high) / 2 if high != sp.oo else low + 1)
        if bool(value > 0) and bool(value < 1):
            result = result | sp.Interval.open(low, high)
    return result


def signs_over_etas(expr: sp.Expr) -> tuple[tuple[sp.Interval, int], ...]:
    """The sign of ``expr`` (a function of η alone) on each interval of η > 0 between its zeros.

    Same method as :func:`etas_in_unit_interval`: ``expr`` must be continuous on η > 0, so it
    changes sign only at a zero; one exact probe per interval gives the sign there.

    Returns:
      ((interval, sign), ...) in order, sign in {-1, 0, 1}; the zeros themselves are left out.

    Examples:
      >>> signs_over_etas(sp.Rational(1, 4) - sp.sqrt(ETA + 4) / (4 * sp.sqrt(ETA)))
      ((Interval.open(0, oo), -1),)
      >>> signs_over_etas(2 * ETA - 1)
      ((Interval.open(0, 1/2), -1), (Interval.open(1/2, oo), 1))
    """
    positive = sp.Interval.open(0, sp.oo)
    if expr.free_symbols - {ETA}:
        raise SymbolicArgumentError(f"{expr} depends on more than η")
    if continuous_domain(expr, ETA, positive) != positive:
        raise SymbolicArgumentError(f"{expr} is not continuous for every η > 0")
    cuts = sorted({r for r in sp.solve(expr, ETA) if r.is_positive}, key=float)
    ends = [sp.Integer(0), *cuts, sp.oo]
    out = []
    for low, high in pairwise(ends):
        value = expr.subs(ETA, (low + high) / 2 if high != sp.oo else low + 1)
        out.append((sp.Interval.open(low, high), int(sp.sign(sp.nsimplify(value)))))
    return tuple(out)


@dataclass(frozen=True)
class LinearSystem:
    """A loss of the family on labelled points of the line, with the 1-D model σ(s(x)).

    Attributes:
      loss: L(w, b), the sum of the samples' losses.
      grad_w, grad_b: ∂L/∂w and ∂L/∂b.
      probs: the model's positive-class probability at each point, in the order given.
      boundary: the x where that probability is 1/2, as a function of (w, b).

    Examples:
      >>> system = linear_system("ce", ((1, 1), (-1, 0)))
      >>> system.boundary
      -b/w
    """

    loss: sp.Expr
    grad_w: sp.Expr
    grad_b: sp.Expr
    probs: tuple[sp.Expr, ...]
    boundary: sp.Expr


W, B = sp.symbols("w b", real=True)
_X = sp.Symbol("x", real=True)


def score(x: sp.Expr, *, paper_parametrisation: bool) -> sp.Expr:
    """The model's logit: 2(wx + b) - 1 (the paper's eqs. 12, 17-18) or plain wx + b.

    Examples:
      >>> score(2, paper_parametrisation=True), score(2, paper_parametrisation=False)
      (2*b + 4*w - 1, b + 2*w)
    """
    return 2 * (W * x + B) - 1 if paper_parametrisation else W * x + B


@cache
def _linear_system(
    name: str, params: tuple, points: tuple[tuple[Any, int], ...], paper_parametrisation: bool
) -> LinearSystem:
    bound = get_loss(name).fn
    total, probs = sp.Integer(0), []
    for x, label in points:
        s = score(sp.sympify(x), paper_parametrisation=paper_parametrisation)
        probs.append(sigmoid(s))
        # A sample's true-class probability: σ(s) for label 1, 1 - σ(s) = σ(-s) for label 0.
        total += bound(true_class(sigmoid(s if label == 1 else -s)), **dict(params))
    # The score is linear in x: solve_linear isolates x without ``solve``'s general machinery.
    _, root = sp.solve_linear(score(_X, paper_parametrisation=paper_parametrisation), symbols=[_X])
    boundary = sp.together(root)
    return LinearSystem(total, sp.diff(total, W), sp.diff(total, B), tuple(probs), boundary)


def linear_system(
    name: str,
    points: tuple[tuple[Any, int], ...],
    *,
    paper_parametrisation: bool = False,
    **params: Any,
) -> LinearSystem:
    """Loss ``name`` summed over labelled points (x, label in {0, 1}) of a 1-D linear model.

    Examples:
      >>> system = linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=1.5)
      >>> system.boundary, len(system.probs)
      (-b/w, 3)
    """
    if not points or any(label not in (0, 1) for _, label in points):
        raise SymbolicArgumentError("points must be a non-empty tuple of (x, label in {0, 1})")
    return _linear_system(name, _params(name, params), tuple(points), paper_parametrisation)


PAPER_POINTS = ((1, 1), (-1, 0))  # Theorem 2: a positive at x = 1, a negative at x = -1


def two_point_system(
    name: str = "ms", *, paper_parametrisation: bool = True, **params: Any
) -> LinearSystem:
    """The appendix's Theorem 2 setting (eqs. 17-20) for any loss of the family.

    With ``paper_parametrisation`` the positive-class probability is σ(2(wx + b) - 1), as in
    eqs. 17-18; otherwise the plain σ(wx + b). ``probs`` is (ξ, γ) of eqs. 17-18.

    Examples:
      >>> two_point_system("ms").boundary  # eqs. 17-18: 2(wx + b) - 1 = 0
      (1 - 2*b)/(2*w)
    """
    return linear_system(name, PAPER_POINTS, paper_parametrisation=paper_parametrisation, **params)


GAMMA_NEG = sp.Symbol("gamma_-", positive=True)
"""Eq. 18's γ: the positive-class probability the model gives the negative at x = -1."""

_THEOREM2_EQS = (((1, 1, XI), ("eq. 21", "eq. 23")), ((-1, 0, GAMMA_NEG), ("eq. 22", "eq. 24")))


@cache
def theorem2_gradient_parts() -> dict[str, sp.Expr]:
    """∂L1/∂w, ∂L2/∂w, ∂L1/∂b, ∂L2/∂b (appendix eqs. 21-24) of the MS loss, derived.

    Each is sympy's derivative of the explicit one-sample loss in (w, b) with the paper's model
    σ(2(wx + b) - 1), rewritten in that sample's positive-class probability (ξ at x = 1,
    :data:`GAMMA_NEG` at x = -1) through e^{-z} = (1 - p)/p.

    Returns:
      {"eq. 21": ..., "eq. 22": ..., "eq. 23": ..., "eq. 24": ...}, each factored.
    """
    parts = {}
    for (x, label, p), eqs in _THEOREM2_EQS:
        sample = linear_system("ms", ((x, label),), paper_parametrisation=True)
        z = score(x, paper_parametrisation=True)
        in_p = {sp.exp(-z): (1 - p) / p, sp.exp(z): p / (1 - p)}
        for eq, variable in zip(eqs, (W, B), strict=True):
            part = sp.factor(sp.diff(sample.loss, variable).subs(in_p))
            if part.free_symbols - {p, ETA}:  # pragma: no cover - the rewrite must be complete
                raise ArithmeticError(f"{eq}: derivative not expressible in {p}: {part}")
            parts[eq] = part
    return dict(sorted(parts.items(), key=lambda item: int(item[0].split()[-1])))


@dataclass(frozen=True)
class Theorem2Roots:
    """The stationarity system of Theorem 2 (eqs. 25-26) and how it splits.

    Attributes:
      d_w, d_b: ∂L/∂w and ∂L/∂b in (ξ, γ) (eqs. 25 and 26 set them to 0).
      xi_equation: (d_w + d_b)/2, which involves ξ only (the sample at x = 1).
      gamma_equation: (d_w - d_b)/2, which involves γ only (the sample at x = -1).
      xi_roots, gamma_roots: every solution of each (eqs. 27-28 and 29-30 print them);
        xi_equation is divided by 2(1 - ξ) and gamma_equation by 2γ first, both non-zero on
        (0, 1).
    """

    d_w: sp.Expr
    d_b: sp.Expr
    xi_equation: sp.Expr
    gamma_equation: sp.Expr
    xi_roots: tuple[sp.Expr, ...]
    gamma_roots: tuple[sp.Expr, ...]


@cache
def theorem2_roots() -> Theorem2Roots:
    """Solve Theorem 2's system (eqs. 25-26) for ξ and γ (from :func:`theorem2_gradient_parts`).

    >>> theorem2_roots().xi_roots[1]
    1/4 + sqrt(eta + 4)/(4*sqrt(eta))
    """
    parts = theorem2_gradient_parts()
    d_w, d_b = parts["eq. 21"] + parts["eq. 22"], parts["eq. 23"] + parts["eq. 24"]
    xi_eq, gamma_eq = sp.factor((d_w + d_b) / 2), sp.factor((d_w - d_b) / 2)
    xi_roots = polynomial_roots(cancel(xi_eq / (2 * (1 - XI))), XI)
    gamma_roots = polynomial_roots(cancel(gamma_eq / (2 * GAMMA_NEG)), GAMMA_NEG)
    return Theorem2Roots(sp.factor(d_w), sp.factor(d_b), xi_eq, gamma_eq, xi_roots, gamma_roots)


@dataclass(frozen=True)
class Theorem2Point:
    """The admissible stationary point of Theorem 2, exact in η.

    Attributes:
      xi1, gamma1: the admissible roots (ξ1 in (0, 1) for η > 1/2; γ1 = 1 - ξ1).
      w, b: (w*, b*) through the logit of eqs. 17-18: b* = (logit ξ1 + logit γ1 + 2)/4 needs
        both roots, and is 1/2 exactly because γ1 = 1 - ξ1 makes logit γ1 = -logit ξ1.
    """

    xi1: sp.Expr
    gamma1: sp.Expr
    w: sp.Expr
    b: sp.Expr


@cache
def theorem2_point() -> Theorem2Point:
    """(w*, b*) from ξ1 (eq. 27) and γ1 (eq. 29 once bracketed): which roots b = 1/2 needs.

    >>> theorem2_point().b
    1/2
    """
    roots = theorem2_roots()
    admissible_xi = [r for r in roots.xi_roots if 0 < r.subs(ETA, 1) < 1]
    admissible_gamma = [r for r in roots.gamma_roots if 0 < r.subs(ETA, 1) < 1]
    if len(admissible_xi) != 1 or len(admissible_gamma) != 1:  # pragma: no cover
        raise ArithmeticError("Theorem 2: expected one admissible ξ root and one γ root")
    xi1, gamma1 = admissible_xi[0], admissible_gamma[0]
    # Linear in (w, b): linsolve with each logit as a plain symbol (a tenth of the cost with
    # the radicals inside), then the logits substituted. b* comes out as 1/2 by arithmetic
    # alone, since γ1 is syntactically 1 - ξ1 and the logits cancel.
    l1, l2 = sp.Dummy("l1"), sp.Dummy("l2")
    eqs = [score(1, paper_parametrisation=True) - l1, score(-1, paper_parametrisation=True) - l2]
    ((w_star, b_star),) = sp.linsolve(eqs, [W, B])
    logits = {l1: logit(xi1), l2: logit(gamma1)}
    return Theorem2Point(xi1, gamma1, _log_content_out(w_star.subs(logits)), b_star.subs(logits))


def _log_content_out(expr: sp.Expr) -> sp.Expr:
    """Every log(c·a) with c the positive rational content of its argument written
    log c + log a, exact for any a on the principal branch (c > 0), so that constant factors
    common to ξ1 = (1 + r)/4 and 1 - ξ1 = (3 - r)/4 cancel between logit's two logs.

    >>> _log_content_out(sp.log(XI / 4) - sp.log((1 - XI) / 4))
    log(xi) - log(1 - xi)
    """

    def split(argument: sp.Expr) -> sp.Expr:
        content, rest = argument.as_content_primitive()
        return sp.log(content) + sp.log(rest)

    return expr.replace(sp.log, split)


@dataclass(frozen=True)
class Theorem2Hessian:
    """The Hessian of Theorem 2's MS loss in (w, b) at (w*, b*), exact in η.

    Attributes:
      curvature: ℓ''(z), the loss's second derivative in its true logit z, written in ξ = σ(z).
      logit_gradients: ∇z_n in (w, b) of each sample's true logit (constant: z_n is affine).
      outer: Σ_n ∇z_n ∇z_nᵀ.
      at_point: ℓ''(z_n) at (w*, b*), the same for both samples, since their true-class
        probabilities are ξ1 and 1 - γ1 = ξ1.
      matrix: Σ_n ℓ''(z_n) ∇z_n ∇z_nᵀ, factored.
    """

    curvature: sp.Expr
    logit_gradients: tuple[sp.Matrix, ...]
    outer: sp.Matrix
    at_point: sp.Expr
    matrix: sp.Matrix


@cache
def theorem2_hessian() -> Theorem2Hessian:
    """Second order at Theorem 2's point: each sample's loss is ℓ(σ(z_n)) with z_n affine in
    (w, b), so the Hessian is Σ_n ℓ''(z_n) ∇z_n ∇z_nᵀ, and ℓ''(z) is the derivative of
    :func:`grad_logit` times dξ/dz = ξ(1 - ξ): no second derivative of the summed loss in
    (w, b) is taken (the tests compare the two).

    >>> theorem2_hessian().matrix[0, 1]
    0
    """
    # ℓ''(z) = d/dz (dℓ/dz) with dξ/dz = ξ(1 - ξ): one derivative of a polynomial in ξ.
    curvature = sp.factor(XI * (1 - XI) * sp.diff(grad_logit("ms"), XI))
    point = theorem2_point()
    # The true-class probability of the positive at x = 1 is ξ1, of the negative at x = -1
    # it is 1 - γ1; γ1 is syntactically 1 - ξ1, so both are ξ1.
    probabilities = {point.xi1, 1 - point.gamma1}
    if len(probabilities) != 1:  # pragma: no cover - theorem2_point guarantees γ1 = 1 - ξ1
        raise ArithmeticError(f"Theorem 2: the samples' probabilities differ: {probabilities}")
    at_point = sp.factor(sp.radsimp(cancel(curvature.subs(XI, point.xi1))))
    logits = [score(1, paper_parametrisation=True), -score(-1, paper_parametrisation=True)]
    grads = tuple(sp.Matrix([sp.diff(z_n, W), sp.diff(z_n, B)]) for z_n in logits)
    outer = sum((g * g.T for g in grads), sp.zeros(2, 2))
    matrix = (at_point * outer).applyfunc(sp.factor)
    return Theorem2Hessian(curvature, grads, outer, at_point, matrix)


def gradient_root(
    grads: list[sp.Expr], unknowns: list[sp.Symbol], start: list[Any], *, prec: int = 30
) -> list[sp.Float]:
    """A zero of the gradient ``grads`` near ``start``, to ``prec`` digits.

    Newton's method (mpmath's ``findroot``) on the lambdified symbolic gradient. Unlike
    ``sympy.nsolve`` it does not differentiate ``grads`` once more for the Jacobian: Newton
    takes it by finite differences at the working precision (step √ε), which only steers
    the iteration; the root is the one of ``grads`` itself, and ``findroot`` checks that the
    residual vanishes to the working precision (|grads|² < 2¹⁰ ε).

    Args:
      grads: the partial derivatives, one per unknown.
      unknowns: the symbols to solve for; start: a float or rational per unknown.
      prec: digits of working precision.

    Returns:
      The root as Floats of ``prec`` digits, in the order of ``unknowns``.

    Raises:
      ValueError: if Newton does not converge from ``start`` (as ``nsolve`` does).

    >>> gradient_root([2 * W - 1, B + W], [W, B], [0, 0])
    [0.500000000000000000000000000000, -0.500000000000000000000000000000]
    """
    f = sp.lambdify(unknowns, grads, "mpmath", docstring_limit=0)  # no unread docstring
    with mpmath.workdps(prec):
        root = mpmath.findroot(lambda *v: f(*v), [mpmath.mpf(sp.Rational(x)) for x in start])
        values = root if len(unknowns) > 1 else [root]
        return [sp.Float(v, prec) for v in values]


def evaluate(expr: sp.Basic, at: dict[sp.Symbol, Any], *, prec: int = 30) -> sp.Basic:
    """``expr`` (an expression or a matrix) at the point ``at``, to ``prec`` digits.

    Lambdified to mpmath and evaluated at ``prec`` digits, which for the long second
    derivatives of summed log-sigmoid losses is far cheaper than ``evalf(subs=...)`` walking
    the expression tree; exact values in ``at`` are converted at ``prec`` + 10 digits.

    >>> evaluate(sp.Matrix([[W * B, W + B]]), {W: 2, B: sp.Rational(1, 3)}, prec=15)
    Matrix([[0.666666666666667, 2.33333333333333]])
    """
    symbols = list(at)
    f = sp.lambdify(symbols, expr, "mpmath", docstring_limit=0)  # no unread docstring
    with mpmath.workdps(prec):
        value = f(*(mpmath.mpf(sp.N(at[s], prec + 10)) for s in symbols))
        if isinstance(expr, sp.MatrixBase):
            return sp.Matrix(expr.rows, expr.cols, [sp.Float(v, prec) for v in value])
        return sp.Float(value, prec)


def to_numpy(args: Any, expr: Any) -> Any:
    """``sympy.lambdify(args, expr)`` as a float64 numpy function, cheaply.

    numpy's own namespace is passed instead of the name "numpy": for the name, lambdify's
    first call runs ``from numpy import *``, which imports numpy's test and polynomial
    modules (0.2 s, a tenth of a cold ``msanalysis verify``). The printer is the same
    (lambdify picks it from the module's name), so the code and the floats are too; the
    docstring, which would print the whole expression, is left out (docstring_limit=0).

    >>> to_numpy(XI, sp.log(XI) + sp.sqrt(XI))(np.array([1.0, 4.0])).round(6).tolist()
    [1.0, 3.386294]
    """
    return sp.lambdify(args, expr, [np], docstring_limit=0)


def augmented_max_margin(points: tuple[tuple[Any, int], ...]) -> tuple[sp.Expr, sp.Expr]:
    """The (w, b) of least w² + b² with y (w x + b) >= 1 on labelled 1-D points, exact.

    This is where gradient descent on CE (or any loss with an exponential tail) sends the
    direction of (w, b) on separable data when the bias is a parameter like the weight (the
    implicit bias of Soudry et al. 2018 applied to the augmented input (x, 1)); it differs from
    the hard-margin SVM, which leaves b unpenalised, when the data are off-centre. Solved by
    enumerating the active constraints (each a closed-form least-norm solution) and keeping
    the one that is feasible with non-negative multipliers.

    >>> augmented_max_margin(((1, 1), (-4, 0)))
    (1/2, 1/2)
    """
    rows = [
        sp.Matrix([[(1 if label == 1 else -1) * sp.sympify(x), 1 if label == 1 else -1]])
        for x, label in points
    ]
    for size in (1, 2):
        for active in combinations(range(len(rows)), size):
            a = sp.Matrix.vstack(*(rows[i] for i in active))
            gram = a * a.T
            if gram.det() == 0:
                continue
            multipliers = gram.inv() * sp.ones(size, 1)
            theta = a.T * multipliers
            if all(m >= 0 for m in multipliers) and all((r * theta)[0] >= 1 for r in rows):
                return theta[0], theta[1]
    raise SymbolicArgumentError("the points are not separable by a 1-D threshold")


OFF_CENTRE_POINTS = ((1, 1), (-4, 0))
"""One positive at x = 1 and one negative at x = -4: off-centre data (max-margin boundary
x = -3/2) on which an unpenalised bias changes where CE's gradient descent goes."""


# --------------------------------------------------------------------------------------
# Convexity in ξ and the η of a finite minimum, proven for symbolic η.
# --------------------------------------------------------------------------------------

_HALF = sp.Symbol("s", positive=True)
_HALVES = (1 / (2 + _HALF), (1 + _HALF) / (2 + _HALF))  # ξ in (0, 1/2), ξ in (1/2, 1)
_U = sp.Symbol("u", positive=True)


def _nonnegative(expr: sp.Expr, *, strict: bool = False) -> bool:
    """expr ≥ 0 (> 0 if ``strict``) for every s > 0 and η > 0, proven: a numerator and a
    denominator with non-negative coefficients (a non-zero one is then > 0), else the factors.
    ``together``, not ``cancel``: the signs need no common factor removed, only a fraction."""
    num, den = sp.fraction(sp.together(expr))
    coeffs = sp.Poly(num, _HALF).coeffs() + sp.Poly(den, _HALF).coeffs()
    if all(sp.sympify(c).is_nonnegative for c in coeffs) and (num != 0 or not strict):
        return True
    factored = sp.factor(expr)
    return bool(factored.is_positive if strict else factored.is_nonnegative)


@cache
def _convex_part(expr: sp.Expr) -> bool:
    """ℓ'' > 0 on (0, 1), for ℓ'' = r + a·log ξ + b·log(1-ξ) with r, a, b rational in ξ.

    Below ξ = 1/2, log ξ < log(1-ξ) < 0, so a·log ξ + b·log(1-ξ) = a(log ξ - log(1-ξ)) +
    (a+b)·log(1-ξ) ≥ 0 when a ≤ 0 and a+b ≤ 0; above 1/2 the same with b in place of a; r > 0
    then makes ℓ'' > 0. Each sign is proven on its half (ξ = 1/(2+s), ξ = (1+s)/(2+s), s > 0).
    """
    second = sp.expand(sp.expand_log(sp.diff(expr, XI, 2), force=True))
    l1, l2 = sp.Dummy(), sp.Dummy()
    linear = second.subs({sp.log(XI): l1, sp.log(1 - XI): l2})
    a, b = linear.coeff(l1), linear.coeff(l2)
    rest = sp.expand(linear - a * l1 - b * l2)
    if any(e.has(l1, l2, sp.log) or not e.is_rational_function(XI) for e in (rest, a, b)):
        return False
    return all(
        _nonnegative(rest.subs(XI, x), strict=True)
        and _nonnegative(-c.subs(XI, x))
        and _nonnegative(-(a + b).subs(XI, x))
        for x, c in zip(_HALVES, (a, b), strict=True)
    )


@cache
def convex_in_xi(expr: sp.Expr) -> bool:
    """Whether d²expr/dξ² > 0 on (0, 1) for every η > 0 is proven; False means "not proven".

    The η-free part and the η part are proven separately, so a loss and the same loss plus the
    stationary term share the work. Handles second derivatives that are rational in ξ plus
    rational multiples of log ξ and log(1 - ξ) (every loss of the registry).

    Examples:
      >>> convex_in_xi(loss("ms")), convex_in_xi(-(XI**2))
      (True, False)
    """
    free = expr.subs(ETA, 0)
    rest = sp.expand(expr - free)
    return _convex_part(free) and (rest == 0 or _convex_part(rest))


@cache
def _end_part(expr: sp.Expr, point: int) -> sp.Expr:
    if expr == 0:
        return sp.Integer(0)
    at_end = expr.subs(XI, point)
    if _defined(at_end):  # continuous there: the value is the limit
        return at_end
    near = sp.expand(sp.expand_log(expr.subs(XI, _U if point == 0 else 1 - _U), force=True))
    return _limit_at_zero(near.as_leading_term(_U))


def _defined(value: sp.Expr) -> bool:
    """Whether an elementary expression substituted at a point came out defined there.

    Every subexpression then has a finite value at the point (a log of 0 or a division by 0
    gives zoo, and zoo·0 or zoo - zoo nan, which propagate), so the point lies in the
    expression's domain, where an elementary function is continuous. A power of 0 with a
    symbolic exponent (0**(η - 1)) is undecided and counts as undefined.
    """
    return not value.has(sp.zoo, sp.nan, sp.oo, -sp.oo) and not any(
        p.base == 0 for p in value.atoms(sp.Pow)
    )


def _limit_at_zero(term: sp.Expr) -> sp.Expr:
    """lim term as u → 0⁺, read off directly where term is a sum of c·u^k·log(u)^m (c free of u).

    The term of least k, and among those of most m, dominates. u^k log(u)^m → 0 for k > 0
    (the power wins); for k < 0 or (k = 0, m > 0) it diverges with the sign of c·(-1)^m
    (log u < 0); k = m = 0 leaves c. Any other form, or a c of unknown sign, goes to
    ``sympy.limit``.
    """
    parts = [_power_log_form(t) for t in sp.Add.make_args(sp.expand(term))]
    if None in parts:
        return sp.limit(term, _U, 0, "+")
    k = min(k for _, k, _ in parts)
    m = max(m for _, kk, m in parts if kk == k)
    c = sp.Add(*(c for c, kk, mm in parts if (kk, mm) == (k, m)))
    if k > 0:
        return sp.Integer(0)
    if k == 0 and m == 0:
        return c
    sign = sp.sign(c) * (-1) ** m
    return sign * sp.oo if sign in (1, -1) else sp.limit(term, _U, 0, "+")


def _power_log_form(term: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    """(c, k, m) with term = c·u^k·log(u)^m and c free of u, or None for any other form."""
    c, rest = term.as_independent(_U, as_Add=False)
    powers = rest.as_powers_dict()
    k, m = sp.sympify(powers.pop(_U, 0)), sp.sympify(powers.pop(sp.log(_U), 0))
    if powers or not (k.is_number and k.is_real and m.is_Integer and m >= 0):
        return None
    return c, k, m


def limit_at_infinity(expr: sp.Expr, t: sp.Symbol) -> sp.Expr:
    """lim expr as t → ∞, read off where t enters only through exponentials.

    With v = exp(-t) (v → 0⁺ as t → ∞) every exp(c·t) becomes v^(-c). Where the result is free
    of t and defined at v = 0 (:func:`_defined`), that value is the limit: an elementary
    function is continuous wherever it is defined. Anything else goes to ``sympy.limit`` (a
    Gruntz expansion, about 20 times the cost here).

    >>> t = sp.Symbol("t", positive=True)
    >>> limit_at_infinity(2 * sp.log(1 + sp.exp(-2 * t)), t), limit_at_infinity(t, t)
    (0, oo)
    """
    v = sp.Dummy("v", positive=True)
    in_v = expr.subs(t, -sp.log(v))
    if not in_v.has(sp.log(v)) and not in_v.has(t):
        at_zero = in_v.subs(v, 0)
        if _defined(at_zero):
            return at_zero
    return sp.limit(expr, t, sp.oo)


def end_limit(expr: sp.Expr, point: Literal[0, 1]) -> sp.Expr:
    """lim expr as ξ → 0⁺ (``point=0``) or ξ → 1⁻ (``point=1``), for symbolic η.

    Each part, the η-free and the η part, cached: its value at the end where it is defined
    there (continuity), else its leading term in u = ξ or u = 1 - ξ, cheaper than a direct
    limit through the logs.

    Examples:
      >>> end_limit(grad_xi("ms"), 1), end_limit(grad_xi("ms"), 0)
      (2*eta - 1, -oo)
    """
    free = expr.subs(ETA, 0)
    return _end_part(free, point) + _end_part(sp.expand(expr - free), point)


@cache
def finite_minimum_etas(expr: sp.Expr) -> sp.Set | None:
    """The η > 0 for which a loss ``expr`` (of ξ, maybe η) has a stationary point in (0, 1).

    Where the loss is proven :func:`convex_in_xi`, dℓ/dξ rises, so it has at most one zero in
    (0, 1), a minimum, and has it exactly when dℓ/dξ < 0 at 0⁺ and > 0 at 1⁻: the set is solved
    from the two :func:`end_limit` values, for symbolic η. For an expression without η the
    answer is all of (0, ∞) or the empty set.

    Returns:
      The set of η, or None where convexity is not proven.

    Examples:
      >>> finite_minimum_etas(loss("ms")), finite_minimum_etas(loss("centred-ce"))
      (Interval.open(1/2, oo), Interval.open(1, oo))
    """
    if not convex_in_xi(expr):
        return None
    slope = sp.diff(expr, XI)
    low, high = (end_limit(slope, e) for e in (0, 1))
    return positive_etas(-low) & positive_etas(high)


def positive_etas(expr: sp.Expr) -> sp.Set:
    """{η > 0 : expr > 0}: read off for a constant (±∞ included) or a linear expr in η,
    ``solveset`` otherwise (the same canonical intervals, at a small part of its cost).

    >>> positive_etas(2 * ETA - 1), positive_etas(-sp.oo)
    (Interval.open(1/2, oo), EmptySet)
    """
    positive = sp.Interval.open(0, sp.oo)
    if expr.free_symbols - {ETA}:
        return sp.solveset(expr > 0, ETA, positive)
    if not expr.has(ETA):
        return positive if bool(expr > 0) else sp.EmptySet
    poly = expr.as_poly(ETA)
    if poly is None or poly.degree() != 1 or not all(c.is_number for c in poly.all_coeffs()):
        return sp.solveset(expr > 0, ETA, positive)
    slope, intercept = poly.all_coeffs()
    root = -intercept / slope
    above = sp.Interval.open(root, sp.oo) if slope > 0 else sp.Interval.open(-sp.oo, root)
    return above & positive
