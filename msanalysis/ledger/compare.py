"""How the ledger compares a printed statement with a derived one.

* :func:`fmt` prints every formula one way: sympy's string printer with unicode symbols
  (ξ, η, ∞, √, ·, superscript powers) and no spaces, so a report never breaks inside one.
* :func:`same` (identically equal), :func:`proportional` (equal up to a non-zero constant).
* :func:`same_stationary_points`: the one meaning of "same stationary points" used by every
  row (eqs. 5, 8, 33-34): the same number, location and kind of zeros in (0, 1), for symbolic
  η where sympy can prove it, otherwise on an η grid that straddles every threshold of both
  expressions (:func:`critical_etas`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from .. import symbolic as S
from ..losses import ALPHA, ETA, GAMMA

PAPER_ETA = sp.nsimplify(ETA.default, rational=True)
"""The paper's η (Figure 5), from the loss registry."""
PAPER_FOCAL = {"alpha": sp.nsimplify(ALPHA.default), "gamma": sp.nsimplify(GAMMA.default)}
"""The paper's α and γ for the focal losses (Figure 2), from the loss registry."""
PAPER_SETTING = {S.ETA: PAPER_ETA, S.ALPHA: PAPER_FOCAL["alpha"], S.GAMMA: PAPER_FOCAL["gamma"]}

__all__ = [
    "fmt",
    "same",
    "proportional",
    "sign_over_exponentials",
    "critical_etas",
    "eta_grid",
    "StationaryComparison",
    "same_stationary_points",
    "describe_points",
    "ROOT_TOLERANCE",
    "eta_set",
    "PAPER_ETA",
    "PAPER_FOCAL",
    "PAPER_SETTING",
]

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

ROOT_TOLERANCE = sp.Float("1e-20")
"""Two numeric roots are the same location when closer than this: both are 30-digit bisection
results inside exactly certified brackets (symbolic.roots_in_unit_interval), so 1e-20 leaves
ten digits of margin above their error and is far below any distinct pair found here."""


class _Printer(StrPrinter):
    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return pretty_symbol(expr.name)

    def _print_Infinity(self, expr: sp.Basic) -> str:
        return "∞"

    def _print_NegativeInfinity(self, expr: sp.Basic) -> str:
        return "-∞"

    def _print_EmptySet(self, expr: sp.Set) -> str:
        return "∅"

    def _print_Interval(self, expr: sp.Interval) -> str:
        left = "[" if not expr.left_open else "("
        right = "]" if not expr.right_open else ")"
        return f"{left}{self._print(expr.start)}, {self._print(expr.end)}{right}"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        if exp == sp.S.Half:
            return f"√({self._print(base)})" if not base.is_Atom else f"√{self._print(base)}"
        if exp.is_Integer and exp > 1:
            return self.parenthesize(base, 60) + str(exp).translate(_SUPERSCRIPT)
        return super()._print_Pow(expr, rational)

    def _print_Sum(self, expr: sp.Sum) -> str:
        limits = "".join(
            f"({self._print(i)}={self._print(a)}..{self._print(b)})" for i, a, b in expr.limits
        )
        return f"Σ{limits}{self.parenthesize(expr.function, 60)}"


def fmt(expr: object) -> str:
    """A formula in the ledger's one notation (compact, unicode).

    >>> fmt(S.XI**2 - sp.sqrt(S.ETA) * S.XI)
    '-√η·ξ+ξ²'
    >>> k = sp.Symbol("k")
    >>> fmt(sp.Sum(sp.exp(k), (k, 1, 3)))
    'Σ(k=1..3)exp(k)'
    """
    text = _Printer({"order": None}).doprint(sp.sympify(expr))
    return text.replace("**", "^").replace("*", "·").replace(" ", "")


def same(a: sp.Expr, b: sp.Expr) -> bool:
    """a = b identically (:func:`msanalysis.symbolic.is_zero` of the difference)."""
    return S.is_zero(sp.sympify(a) - sp.sympify(b))


def proportional(a: sp.Expr, b: sp.Expr) -> bool:
    """a = c·b for a non-zero constant c: the equations a = 0 and b = 0 are the same."""
    ratio = S.cancel(sp.sympify(a) / b)
    if not ratio.is_number:
        if _varies(ratio):  # two sample values differ: not a constant, no need to simplify
            return False
        ratio = sp.simplify(ratio)
    return bool(ratio.is_number and ratio != 0)


def _varies(expr: sp.Expr) -> bool:
    """Two rational sample points (every symbol in (0, 1)) where ``expr`` takes different
    finite values, at 50 digits: then it is not a constant. False proves nothing."""
    values = []
    for point in (0, 1):
        value = S.sample_value(expr, point)
        if not (value.is_number and value.is_finite):
            return False
        values.append(value)
    return bool(abs(values[0] - values[1]) > sp.Float(10) ** -30)


def sign_over_exponentials(expr: sp.Expr) -> int:
    """The sign of an expression rational in exponentials, for all real arguments.

    Every exp(...) is replaced by an independent positive symbol (which only widens the set of
    values), so a sign sympy can prove for the replacement holds for the original.
    Returns 1, -1, or 0 when no sign can be proven.
    """
    replaced = expr.subs({e: sp.Dummy(positive=True) for e in expr.atoms(sp.exp)})
    replaced = sp.factor(S.cancel(replaced))
    if replaced.is_positive is None and replaced.is_negative is None:
        replaced = sp.simplify(replaced)
    return 1 if replaced.is_positive else -1 if replaced.is_negative else 0


@cache
def _limit(expr: sp.Expr, end: int, side: str) -> sp.Expr:
    """lim_{ξ → end} of ``expr`` from ``side``, cached: rows ask for the same limits."""
    return sp.limit(expr, S.XI, end, side)


_LOG_XI = sp.log(S.XI)
_MAX_ORDER = 8
"""No expression here vanishes to a higher order at an end (divisions tried at most)."""


def _strip_unit_factors(expr: sp.Expr) -> tuple[sp.Expr, dict[int, sp.Expr]]:
    """Divide out the powers of ξ and (1 - ξ) that vanish at an end for every η.

    Returns the remaining core and its (non-zero) limit at each end, ξ → 0⁺ and ξ → 1⁻.
    Dividing by (1 - ξ) does not change the limit at 0 (the factor tends to 1 there), nor ξ
    the limit at 1. Expressions N/D with N a polynomial in ξ and log ξ, D one in ξ (every
    gradient here but a few) take the orders and limits from leading terms
    (:func:`_leading_at_ends`), exactly; the others divide one factor at a time until
    sympy's limit is non-zero.
    """
    leading = _leading_at_ends(expr)
    if leading is None:
        return _strip_by_limits(expr)
    (zero_order, zero_limit), (one_order, one_limit) = leading
    core = sp.factor(S.cancel(expr / (S.XI**zero_order * (1 - S.XI) ** one_order)))
    return core, {0: zero_limit, 1: one_limit}


def _strip_by_limits(expr: sp.Expr) -> tuple[sp.Expr, dict[int, sp.Expr]]:
    """:func:`_strip_unit_factors` for any expression: one factor at a time, sympy's limit."""
    core = sp.factor(S.cancel(expr))
    limits = {}
    for factor, end, side in ((S.XI, 0, "+"), (1 - S.XI, 1, "-")):
        for _ in range(_MAX_ORDER):
            limits[end] = _limit(core, end, side)
            if limits[end] != 0:
                break
            core = sp.factor(S.cancel(core / factor))
    return core, limits


def _leading_at_ends(expr: sp.Expr) -> tuple[tuple[int, sp.Expr], ...] | None:
    """For each end (ξ → 0⁺, ξ → 1⁻): (k, L) with expr / u^k → L ≠ 0, u = ξ or 1 - ξ, k ≥ 0
    the smallest that makes the limit non-zero; None where the shortcut does not apply.

    Exact, for expr = N/D with N a polynomial in ξ and log ξ and D one in ξ, coefficients
    free of ξ (polynomials in η): each end's leading terms decide the limit. None when the
    form does not fit, an infinite limit's sign depends on η, or k would exceed the division
    cap of :func:`_strip_by_limits`; the caller then takes sympy's limits.
    """
    num, den = sp.fraction(S.cancel(expr))
    try:
        num, den = sp.Poly(num, S.XI, _LOG_XI), sp.Poly(den, S.XI, _LOG_XI)
    except sp.PolynomialError:
        return None
    if num.is_zero or den.degree(_LOG_XI) > 0:
        return None
    if any(c.has(S.XI) for c in num.coeffs() + den.coeffs()):
        return None
    ends = (_leading_at_zero(num, den), _leading_at_one(num, den))
    return None if None in ends else ends


def _leading_at_zero(num: sp.Poly, den: sp.Poly) -> tuple[int, sp.Expr] | None:
    """ξ → 0⁺: the terms of lowest ξ-degree lead, and among them the highest power m of log ξ
    (ξ^r·log^m ξ → 0 for r > 0, |log ξ| → ∞, and the sign of log^m ξ is (-1)^m)."""
    low_n = min(i for i, _ in num.monoms())
    log_power, coeff = max((j, c) for (i, j), c in num.terms() if i == low_n)
    low_d = min(i for i, _ in den.monoms())
    ratio = S.cancel(coeff / den.coeff_monomial(S.XI**low_d))
    order = low_n - low_d
    sign = (-1) ** log_power if log_power or order < 0 else None
    return _divided(max(order, 0), ratio, sign)


def _leading_at_one(num: sp.Poly, den: sp.Poly) -> tuple[int, sp.Expr] | None:
    """ξ → 1⁻, u = 1 - ξ: log ξ = log(1 - u) = -(u + u²/2 + ...) is analytic and O(u), so the
    series truncated after u^cap gives every coefficient up to u^cap exactly."""
    u = sp.Dummy("u")
    log_series = -sum(u**k / k for k in range(1, _MAX_ORDER + 1))
    lowest = []
    for poly in (num, den):
        shifted = sp.Poly(poly.as_expr().subs(_LOG_XI, log_series).subs(S.XI, 1 - u), u)
        terms = [(k, c) for (k,), c in shifted.terms() if k <= _MAX_ORDER and c != 0]
        if not terms:
            return None
        lowest.append(min(terms))
    (low_n, coeff), (low_d, coeff_d) = lowest
    order = low_n - low_d
    return _divided(max(order, 0), S.cancel(coeff / coeff_d), 1 if order < 0 else None)


def _divided(order: int, ratio: sp.Expr, sign: int | None) -> tuple[int, sp.Expr] | None:
    """(order, the limit once u^order is divided out), or None past the division cap (the
    loop of :func:`_strip_by_limits` stops after that many zero limits) or for an unknown
    sign."""
    value = _value(ratio, sign)
    return None if order >= _MAX_ORDER or value is None else (order, value)


def _value(ratio: sp.Expr, sign: int | None) -> sp.Expr | None:
    """``ratio`` (a finite limit, sign None) or ±∞ with the sign of sign·ratio; None where that
    sign is not a known number."""
    if sign is None:
        return ratio
    if not ratio.is_number:
        return None
    return sp.oo * sp.sign(sign * ratio)


def critical_etas(expr: sp.Expr) -> list[sp.Expr]:
    """Every η > 0 where the zeros of ``expr`` in (0, 1) can change, on the whole interval.

    A zero enters or leaves (0, 1) through an end, where the expression with its common
    factors ξ^k (1 - ξ)^m divided out tends to 0 (both ξ → 0⁺ and ξ → 1⁻ are examined), or
    two zeros merge, where the discriminant of a polynomial numerator in ξ vanishes. The
    discriminant step needs a polynomial numerator; for other expressions only the ends are
    examined and :func:`eta_grid` adds points on both sides of each.
    """
    return list(_critical_etas(expr))


@cache
def _critical_etas(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """The work of :func:`critical_etas`, cached: rows ask for the same printed gradients."""
    core, limits = _strip_unit_factors(expr)
    found: set[sp.Expr] = set()
    for value in limits.values():
        if value.has(S.ETA) and value.is_finite is not False:
            found.update(S.polynomial_roots(value, S.ETA))
    num = sp.fraction(sp.together(core))[0]
    if num.is_polynomial(S.XI) and sp.degree(num, S.XI) > 1:
        found.update(S.polynomial_roots(sp.discriminant(num, S.XI), S.ETA))
    return tuple(sorted((r for r in found if r.is_real and r.is_positive), key=float))


def eta_grid(*exprs: sp.Expr, include: Sequence[sp.Expr] = ()) -> list[sp.Expr]:
    """Rational η values on both sides of every critical η of ``exprs``, plus ``include``."""
    points = set(include)
    for t in {t for e in exprs for t in critical_etas(e)}:
        t = sp.nsimplify(sp.N(t, 30), rational=True) if not t.is_Rational else t
        points.update((t * sp.Rational(9, 10), t * sp.Rational(11, 10)))
    if not points:
        points = {sp.Rational(1, 10), sp.Integer(1), sp.Integer(10)}
    lowest = min(points, key=float)
    points.update((lowest / 10, max(points, key=float) * 10))
    return sorted(points, key=float)


@dataclass(frozen=True)
class StationaryComparison:
    """The outcome of :func:`same_stationary_points`.

    Attributes:
      same: same number, location and kind of zeros in (0, 1) for every η examined.
      method: "symbolic η" (the ratio of the expressions is proven positive on (0, 1) for every
        η > 0) or "η grid" (the grid below).
      grid: the η values compared (empty for the symbolic method).
      first_difference: the first η where they differ, with both root lists, or "".
    """

    same: bool
    method: str
    grid: tuple[sp.Expr, ...]
    first_difference: str


def describe_points(points: Sequence[S.StationaryPoint]) -> str:
    """'0.7287 (minimum), ...' or 'none'."""
    return ", ".join(f"{sp.N(p.xi, 6)} ({p.kind})" for p in points) or "none"


def _points_equal(a: Sequence[S.StationaryPoint], b: Sequence[S.StationaryPoint]) -> bool:
    if len(a) != len(b):
        return False
    for p, q in zip(a, b, strict=True):
        if p.kind != q.kind:
            return False
        if p.exact and q.exact:
            if not same(p.xi, q.xi):
                return False
        elif abs(sp.N(p.xi - q.xi, 30)) > ROOT_TOLERANCE:
            return False
    return True


def _negative_somewhere(ratio: sp.Expr) -> bool:
    """A sample (ξ, η) in (0, 1) × (0, ∞) where ``ratio`` is a real number <= 0, at 30 digits.

    One such point disproves "positive on (0, 1) for every η" without the symbolic proof.
    """
    for xi in (sp.Rational(1, 7), sp.Rational(1, 2), sp.Rational(6, 7)):
        for eta in (sp.Rational(1, 10), sp.Integer(1), sp.Integer(10)):
            value = sp.N(ratio.subs({S.XI: xi, S.ETA: eta}), 30)
            if value.is_real and value.is_finite and value <= 0:
                return True
    return False


def _positive_ratio(printed: sp.Expr, derived: sp.Expr) -> bool:
    if _negative_somewhere(printed / derived):
        return False
    ratio = sp.factor(S.cancel(printed / derived))
    t = sp.Symbol("t", positive=True)  # ξ = 1/(1+t) covers (0, 1) exactly once
    return bool(ratio.is_positive or sp.factor(ratio.subs(S.XI, 1 / (1 + t))).is_positive)


def same_stationary_points(
    printed: sp.Expr, derived: sp.Expr, *, include: Sequence[sp.Expr] = ()
) -> StationaryComparison:
    """Whether two expressions of ξ and η have the same zeros in (0, 1): number, location, kind.

    Args:
      printed, derived: expressions of ``XI`` and (optionally) ``ETA``, every other
        hyper-parameter already numeric.
      include: η values to compare besides the grid (the paper's setting).

    Returns:
      A :class:`StationaryComparison`.
    """
    if _positive_ratio(printed, derived):
        return StationaryComparison(True, "symbolic η", (), "")
    grid = tuple(eta_grid(printed, derived, include=include))
    for eta in grid:
        a = S.roots_in_unit_interval(printed.subs(S.ETA, eta))
        b = S.roots_in_unit_interval(derived.subs(S.ETA, eta))
        if not _points_equal(a, b):
            where = f"at η = {eta}: printed {describe_points(a)}, derived {describe_points(b)}"
            return StationaryComparison(False, "η grid", grid, where)
    return StationaryComparison(True, "η grid", grid, "")


def eta_set(expr: sp.Expr, kinds: tuple[str, ...]) -> sp.Set:
    """The η > 0 for which the zeros of ``expr`` in (0, 1) are exactly ``kinds`` (in order).

    The pattern can only change at a critical η (:func:`critical_etas`), so one rational η in
    each open interval between them, and each critical η itself, decides the whole set.
    """
    cuts = critical_etas(expr)
    ends = [sp.Integer(0), *cuts, sp.oo]
    result: sp.Set = sp.EmptySet
    for low, high in zip(ends, ends[1:], strict=False):
        probe = (low + high) / 2 if high != sp.oo else low + 1
        found = tuple(p.kind for p in S.roots_in_unit_interval(expr.subs(S.ETA, probe)))
        if found == kinds:
            result = result | sp.Interval.open(low, high)
    for cut in cuts:
        found = tuple(p.kind for p in S.roots_in_unit_interval(expr.subs(S.ETA, cut)))
        if found == kinds:
            result = result | sp.FiniteSet(cut)
    return result
