"""Rows on Theorem 2 (MS loss on two points, appendix eqs. 17-30) and its general claim."""

from __future__ import annotations

from functools import cache

import sympy as sp

from .. import symbolic as S
from ..paper import FRACTIONS
from .compare import PAPER_ETA, fmt, proportional, same
from .rule import Claim, Printed, check

PART = "theorem2"
_VARIABLE = {"eq. 21": "w", "eq. 22": "w", "eq. 23": "b", "eq. 24": "b"}
_SAMPLE = {"eq. 21": "L1 (x = 1)", "eq. 23": "L1 (x = 1)", "eq. 22": "L2 (x = -1)"}


def _gradient_part(printed: Printed, eq: str) -> Claim:
    derived = S.theorem2_gradient_parts()[eq]
    stated = printed[eq]
    sample = _SAMPLE.get(eq, "L2 (x = -1)")
    return Claim(
        id=f"{eq.replace('. ', '')}-gradient",
        part=PART,
        source=f"appendix {eq}",
        paper=f"∂{sample}/∂{_VARIABLE[eq]} = {fmt(stated)}",
        derived=f"∂{sample}/∂{_VARIABLE[eq]} = {fmt(derived)}",
        exact=same(stated, derived),
        consequence=proportional(stated, derived),
        consequence_tested="the stationarity equations 25-26 (unchanged by a constant factor)",
        evidence=f"printed / derived = {fmt(S.cancel(stated / derived))}; derived by "
        "differentiating the explicit one-sample loss in (w, b) and writing e^(-z) = (1-p)/p.",
    )


def _part_check(eq: str):
    def fn(printed: Printed) -> Claim:
        return _gradient_part(printed, eq)

    fn.__name__ = f"{eq.replace('. ', '')}_gradient"
    return check(
        eq,
        corrected=lambda: {eq: S.theorem2_gradient_parts()[eq]},
        wrong=lambda p: {eq: p[eq].subs(S.ETA, -S.ETA)},  # the η terms with flipped sign
    )(fn)


for _eq in ("eq. 21", "eq. 22", "eq. 23", "eq. 24"):
    _part_check(_eq)


def _solve_system(d_w: sp.Expr, d_b: sp.Expr) -> tuple[list, list]:
    """The distinct ξ roots of d_w + d_b = 0 and γ roots of d_w - d_b = 0 (each one sample's),
    in sympy's canonical order, so the evidence reads the same under every hash seed."""
    xi = S.polynomial_roots(S.cancel((d_w + d_b) / (1 - S.XI)), S.XI)
    gamma = S.polynomial_roots(S.cancel((d_w - d_b) / S.GAMMA_NEG), S.GAMMA_NEG)
    return sorted(set(xi), key=sp.default_sort_key), sorted(set(gamma), key=sp.default_sort_key)


@check(
    "eq. 21",
    "eq. 22",
    "eq. 23",
    "eq. 24",
    wrong=lambda p: {"eq. 21": -p["eq. 21"] - 5, "eq. 23": -p["eq. 23"] - 5},
)
def eq25_26_system(printed: Printed) -> Claim:
    roots = S.theorem2_roots()
    printed_w = printed["eq. 21"] + printed["eq. 22"]
    printed_b = printed["eq. 23"] + printed["eq. 24"]
    exact = proportional(printed_w, roots.d_w) and proportional(printed_b, roots.d_b)
    xi, gamma = _solve_system(printed_w, printed_b)
    consequence = (
        len(xi) == len(roots.xi_roots)
        and len(gamma) == len(roots.gamma_roots)
        and all(any(same(a, b) for b in roots.xi_roots) for a in xi)
        and all(any(same(a, b) for b in roots.gamma_roots) for a in gamma)
    )
    return Claim(
        id="eq25-26-system",
        part=PART,
        source="appendix eqs. 25-26",
        paper=f"{fmt(printed_w)} = 0 and {fmt(printed_b)} = 0",
        derived=f"{fmt(roots.d_w)} = 0 and {fmt(roots.d_b)} = 0",
        exact=exact,
        consequence=consequence,
        consequence_tested="the roots ξ and γ of the system (eqs. 27-30)",
        evidence=f"each equation up to a non-zero constant factor: {exact}; the printed system "
        f"solved the same way has ξ ∈ {{{', '.join(map(fmt, xi))}}}, γ ∈ "
        f"{{{', '.join(map(fmt, gamma))}}}.",
    )


def _bracketed(eq: str) -> sp.Expr | None:
    """Eqs. 28-29 read with the fraction bar under the whole numerator: (a + n)/d."""
    if eq not in FRACTIONS:
        return None
    a, n, d = FRACTIONS[eq]
    return (a + n) / d


def _admissible(root: sp.Expr) -> sp.Set:
    return S.etas_in_unit_interval(root)


def _root_claim(printed: Printed, eq: str, roots: tuple, variable: str) -> Claim:
    stated = printed[eq]
    deleted = eq in printed["deleted roots"]
    match = [r for r in roots if same(stated, r)]
    reread = _bracketed(eq)
    bracketed = [r for r in roots if reread is not None and same(reread, r)]
    intended = (match or bracketed or [None])[0]
    admissible = _admissible(intended) if intended is not None else sp.EmptySet
    status_right = (admissible == sp.EmptySet) == deleted  # deleted iff never in (0, 1)
    reading = "as printed" if match else "fraction bar under the whole numerator"
    return Claim(
        id=f"{eq.replace('. ', '')}-root",
        part=PART,
        source=f"appendix {eq}",
        paper=f"{variable} = {fmt(stated)}, {'deleted' if deleted else 'kept'}",
        derived=f"{variable} = {fmt(intended) if intended is not None else 'no derived root'}"
        + (f", in (0, 1) for η ∈ {fmt(admissible)}" if intended is not None else ""),
        exact=bool(match) and status_right,
        consequence=intended is not None and status_right,
        consequence_tested="the root and whether it is admissible (kept iff in (0, 1))",
        reading=reading if intended is not None else "",
        evidence=f"roots of the derived system for {variable}: {', '.join(map(fmt, roots))}. "
        + ("Equal to a derived root as printed. " if match else "")
        + (
            f"Equal to a derived root once bracketed: {fmt(reread)}. "
            if bracketed and not match
            else ""
        )
        + f"In (0, 1) for η ∈ {fmt(admissible)}; the paper {'deletes' if deleted else 'keeps'}"
        " it.",
    )


def _root_check(eq: str, which: str, variable: str, corrected, wrong=None):
    def fn(printed: Printed) -> Claim:
        return _root_claim(printed, eq, getattr(S.theorem2_roots(), which), variable)

    fn.__name__ = f"{eq.replace('. ', '')}_root"
    return check(eq, "deleted roots", corrected=corrected, wrong=wrong)(fn)


def _intended(eq: str, which: str) -> sp.Expr:
    roots = getattr(S.theorem2_roots(), which)
    reread = _bracketed(eq)
    return next(r for r in roots if same(reread, r))


_root_check("eq. 27", "xi_roots", "ξ", None, wrong=lambda p: {"eq. 27": -p["eq. 27"] - 5})
# Eqs. 28-29 are read through their printed layout (FRACTIONS), which the value does not move:
# a wrong statement gives another value and the opposite admissibility (kept <-> deleted).
_root_check(
    "eq. 28",
    "xi_roots",
    "ξ",
    lambda: {"eq. 28": _intended("eq. 28", "xi_roots")},
    wrong=lambda p: {"eq. 28": -p["eq. 28"] - 5, "deleted roots": p["deleted roots"] ^ {"eq. 28"}},
)
_root_check(
    "eq. 29",
    "gamma_roots",
    "γ",
    lambda: {"eq. 29": _intended("eq. 29", "gamma_roots")},
    wrong=lambda p: {"eq. 29": -p["eq. 29"] - 5, "deleted roots": p["deleted roots"] ^ {"eq. 29"}},
)
_root_check(
    "eq. 30",
    "gamma_roots",
    "γ",
    lambda: {"deleted roots": frozenset({"eq. 28", "eq. 30"})},
    wrong=lambda p: {"eq. 30": -p["eq. 30"] - 5},
)


def _which_equations(printed: Printed, root: sp.Expr) -> list[str]:
    found = []
    for eq in ("eq. 27", "eq. 28", "eq. 29", "eq. 30"):
        reread = _bracketed(eq)
        if same(printed[eq], root) or (reread is not None and same(reread, root)):
            found.append(eq)
    return found


def _hessian_at_paper_eta() -> list[sp.Expr]:
    """The leading minors of Theorem 2's exact Hessian (:func:`symbolic.theorem2_hessian`) at
    the paper's η, to 12 digits."""
    hessian = S.theorem2_hessian().matrix.subs(S.ETA, PAPER_ETA)
    return [sp.N(hessian[0, 0], 12), sp.N(hessian.det(), 12)]


@check(
    "Theorem 2 b",
    "Theorem 2 boundary",
    "Theorem 2 b from",
    corrected=lambda: {"Theorem 2 b from": ("eq. 27", "eq. 29")},
    wrong=lambda p: {"Theorem 2 b": sp.Integer(3), "Theorem 2 boundary": sp.Integer(-1)},
)
def theorem2_boundary(printed: Printed) -> Claim:
    point = S.theorem2_point()
    boundary = sp.simplify(S.two_point_system("ms").boundary.subs({S.W: point.w, S.B: point.b}))
    needed = tuple(
        _which_equations(printed, point.xi1)[:1] + _which_equations(printed, point.gamma1)[:1]
    )
    cited = tuple(printed["Theorem 2 b from"])
    value_right = same(printed["Theorem 2 b"], point.b) and same(
        printed["Theorem 2 boundary"], boundary
    )
    minors = _hessian_at_paper_eta()
    return Claim(
        id="thm2-boundary",
        part=PART,
        source="Theorem 2, appendix eqs. 27-30",
        paper=f"incorporating {' and '.join(cited)}: b = {printed['Theorem 2 b']}, boundary x = "
        f"{printed['Theorem 2 boundary']}",
        derived=f"b* = {point.b} follows from ξ1 ({', '.join(needed[:1])}) and γ1 = 1 − ξ1 "
        f"({', '.join(needed[1:])}); w* = {fmt(point.w)}; boundary x = {boundary}",
        exact=value_right and cited == needed,
        consequence=value_right,
        consequence_tested="b = 1/2 and the boundary at the centre x = 0",
        evidence="b* = (logit ξ1 + logit γ1 + 2)/4 through eqs. 17-18; the deleted root of eq. "
        "28 is negative, so it has no logit and cannot give b. At η = "
        f"{PAPER_ETA} the Hessian's leading minors at (w*, b*) are {minors} (positive: a strict "
        f"local minimum); w* is finite only while ξ1 < 1, i.e. η > {S.eta_threshold('ms')}.",
    )


ASYMMETRIC_POINTS = ((1, 1), (3, 1), (-1, 0))  # max-margin boundary x = 0


@cache
def ms_boundaries() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """(MS boundary at the paper's η, max-margin boundary) on three data sets, plain model."""
    out = {}
    for label, points in (
        ("symmetric", S.PAPER_POINTS),
        ("off-centre", S.OFF_CENTRE_POINTS),
        ("asymmetric", ASYMMETRIC_POINTS),
    ):
        system = S.linear_system("ms", points, eta=PAPER_ETA)
        start = [sp.Rational(1, 2), sp.Integer(0)] if len(points) > 2 else None
        if start is None:  # one point per class: each sample's true logit is logit ξ*
            xi_star = max(p.xi for p in S.stationary_points("ms", eta=PAPER_ETA))
            logits = [
                (1 if y == 1 else -1) * S.score(x, paper_parametrisation=False) for x, y in points
            ]
            sol = sp.solve([z - S.logit(xi_star) for z in logits], [S.W, S.B], dict=True)[0]
            # -b/w with w, b linear in the same logs: rational in them, so cancel decides it.
            boundary = S.cancel(system.boundary.subs(sol))
        else:
            w_b = S.gradient_root([system.grad_w, system.grad_b], [S.W, S.B], start, prec=30)
            boundary = sp.N(system.boundary.subs({S.W: w_b[0], S.B: w_b[1]}), 15)
        positives = [x for x, y in points if y == 1]
        negatives = [x for x, y in points if y == 0]
        out[label] = (boundary, sp.Rational(min(positives) + max(negatives), 2))
    return out


@check(
    "Theorem 2 always max margin",
    corrected=lambda: {"Theorem 2 always max margin": sp.false},
    wrong=lambda p: {"Theorem 2 always max margin": sp.true},
)
def theorem2_general(printed: Printed) -> Claim:
    stated = bool(printed["Theorem 2 always max margin"])
    threshold = S.eta_threshold("ms")
    boundaries = ms_boundaries()
    centred = {k: abs(sp.N(b - m, 30)) < sp.Float("1e-20") for k, (b, m) in boundaries.items()}
    always = threshold == 0 and all(centred.values())
    return Claim(
        id="thm2-general",
        part=PART,
        source="Theorem 2",
        paper="MS loss "
        + ("always" if stated else "does not always")
        + " make the model converge to the robust (max-margin) boundary",
        derived=f"not for η ≤ {threshold} (no finite stationary point), and at η = {PAPER_ETA} "
        + "; ".join(
            f"{k}: boundary {sp.N(b, 8)} vs max margin {m}" for k, (b, m) in boundaries.items()
        ),
        exact=stated == always,
        consequence=stated == all(centred.values()),
        consequence_tested=f"the boundary of MS's finite point at η = {PAPER_ETA} is the "
        "max-margin one on every data set examined",
        reading="plain model σ(wx + b); one point per class (symmetric, off-centre) and "
        "positives at 1, 3 with a negative at -1",
        evidence="one point per class: each sample sits at ξ*, so both are at the same distance "
        "from the boundary, which is the midpoint; three points: 30-digit Newton from (1/2, 0). "
        f"Max-margin: {centred}.",
    )
