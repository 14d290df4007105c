"""The ledger rows of eqs. 1, 2, 6-7, 32-33, the reweighting identity, the family's count of
stationary points and Section 5's "not always convergent", each backed by an independent
check (numpy finite differences, dense sign scans, substitution), not by re-running the row.
The mutation test over every row (wrong and corrected statements) is in tests/test_claims.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from msanalysis import ledger as C
from msanalysis import numeric
from msanalysis import symbolic as S
from msanalysis.ledger import compare
from msanalysis.ledger import functions as F
from msanalysis.ledger import gradients as G
from msanalysis.losses import LOSSES
from msanalysis.paper import PRINTED, X, Y

XI, ETA = S.XI, S.ETA

# Central differences with step 1e-6 on float64 losses of size ~1: truncation ~1e-12, rounding
# ~1e-16/1e-6 = 1e-10, so 1e-7 separates a right gradient from a wrong one by orders of magnitude.
FD_STEP, FD_TOL = 1e-6, 1e-7


def _entry(name):
    return next(e for e in C.CHECKS if e.name == name)


def _finite_difference(f, o):
    grad = np.zeros_like(o)
    for j in range(o.size):
        step = np.zeros_like(o)
        step[j] = FD_STEP
        grad[j] = (f(o + step) - f(o - step)) / (2 * FD_STEP)
    return grad


def _softmax(o):
    e = np.exp(o - o.max())
    return e / e.sum()


# ---- eq. 1


def test_softmax_jacobian_by_finite_differences():
    o = np.random.default_rng(0).normal(size=5)
    p = _softmax(o)
    jac = np.stack([_finite_difference(lambda v, i=i: _softmax(v)[i], o) for i in range(5)])
    assert np.allclose(jac, np.diag(p) - np.outer(p, p), atol=FD_TOL)
    row = F.eq1_softmax_jacobian()
    assert row.exact and row.consequence


def test_eq8_applies_a_different_softmax_factor_to_its_eta_term():
    """The η part of printed eq. 8 is (1-ξ)·d/dξ(ξ² + (1-ξ)²): a factor ξ short of ξ(1-ξ)."""
    eta_part = sp.diff(PRINTED["eq. 8"], ETA)
    assert sp.expand(eta_part - (1 - XI) * sp.diff(XI**2 + (1 - XI) ** 2, XI)) == 0
    assert sp.expand(PRINTED["eq. 8"].subs(ETA, 0) - XI * (1 - XI) * (-1 / XI)) == 0
    assert "not the same factor" in F.eq1_softmax_jacobian().evidence


def test_eq1_without_exponentials_is_not_a_function_of_xi_alone():
    """o_s/Σo_k: two logit vectors with the same ξ_1 = 1/4 have different ∂ξ_1/∂o_1."""

    def ratio(o):
        return o[0] / o.sum()

    a, b = np.array([1.0, 1.0, 2.0]), np.array([2.0, 3.0, 3.0])
    assert ratio(a) == ratio(b) == 0.25
    da, db = (_finite_difference(ratio, v)[0] for v in (a, b))
    assert abs(da - db) > 1e-3  # 3/16 against 6/64
    wrong = C.run(_entry("eq1_softmax_jacobian"), _entry("eq1_softmax_jacobian").wrong(PRINTED))
    assert not wrong.exact and not wrong.consequence


# ---- eq. 2


def test_eq2_with_label_two_is_unbounded_below():
    loss = sp.lambdify(XI, PRINTED["eq. 2"].subs(Y, 2), "numpy")
    assert loss(1 - 1e-12) < -20  # -2 log ξ + log(1-ξ) → -∞: no cross-entropy
    for y in (0, 1):
        values = sp.lambdify(XI, PRINTED["eq. 2"].subs(Y, y), "numpy")(np.linspace(0.01, 0.99, 99))
        assert np.all(values > 0)
    row = F.eq2_labels()
    assert not row.exact and row.consequence and "{0, 1}" in row.derived


# ---- the reweighting identity


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_gradient_is_ce_gradient_times_its_weight(name):
    """Finite differences of the numpy loss on softmax logits = w(ξ)(p - e_y), w from sympy."""
    k = 2 if LOSSES[name].binary_only else 4
    rng = np.random.default_rng(1)
    params = LOSSES[name].defaults()
    w = sp.lambdify(XI, S.sample_weight(name, **params), "numpy")
    for _ in range(3):
        o, y = rng.normal(size=k), int(rng.integers(k))
        grad = _finite_difference(
            lambda v, y=y: numeric.loss_from_logits(name, v[None, :], np.array([y]), **params)[0],
            o,
        )
        p = _softmax(o)
        assert np.allclose(grad, w(p[y]) * (p - np.eye(k)[y]), atol=FD_TOL)


def test_weight_changes_sign_where_the_stationary_point_is():
    """MS: w(ξ*) = 0 at Theorem 3's root, w > 0 below, w < 0 above (samples pushed back)."""
    eta = compare.PAPER_ETA
    w = S.sample_weight("ms", eta=eta)
    root = S.stationary_points("ms", eta=eta)[0].xi
    assert sp.simplify(w.subs(XI, root)) == 0
    values = sp.lambdify(XI, w, "numpy")(np.linspace(0.01, 0.99, 99))
    below = np.linspace(0.01, 0.99, 99) < float(root)
    assert np.all(values[below] > 0) and np.all(values[~below] < 0)
    # An attack ascending MS at ξ > ξ*: the step along +∇(MS) = w·∇CE with w < 0 raises ξ.
    assert "ξ* = 0.728714" in F.reweighting_identity().evidence


def test_sign_change_sets_agree_with_the_root_based_sets():
    """Convexity + end limits (the row) against counting zeros on an η grid (compare.eta_set)."""
    for name, params in (("ms", {}), ("ms-focal", compare.PAPER_FOCAL), ("centred-ce", {})):
        by_roots = compare.eta_set(S.grad_xi(name, **params), ("minimum",))
        assert G.derived_minimum_set(name) == by_roots, name
    assert G.derived_minimum_set("centred-ce") == sp.Interval.open(
        S.eta_threshold("centred-ce"), sp.oo
    )


def test_reweighting_row_fails_on_eq5_only():
    """Printed eq. 8's weight changes sign for the same η as MS's; printed eq. 5's does not."""
    printed_eq5 = PRINTED["eq. 5"].subs({S.ALPHA: 1, S.GAMMA: 2})
    assert S.roots_in_unit_interval(printed_eq5.subs(ETA, sp.Rational(1, 4))) == []
    assert S.stationary_points("ms-focal", eta=sp.Rational(1, 4), alpha=1, gamma=2)
    printed_eq8_root = sp.solve(sp.cancel(PRINTED["eq. 8"] / (1 - XI)), XI)[0]
    assert sp.solve(printed_eq8_root - 1, ETA) == [S.eta_threshold("ms")]
    row = F.reweighting_identity()
    assert not row.exact and not row.consequence


# ---- the family's number of stationary points


@pytest.mark.parametrize("name", ["ce", "focal", "spectral-decoupling"])
@pytest.mark.parametrize("eta", [0.05, 0.4, 0.6, 1.5, 20.0])
def test_family_member_has_at_most_one_finite_stationary_point(name, eta):
    """A dense sign scan of dℓ/dξ (10⁵ points) finds at most one sign change, - to +."""
    member = S.loss(name, **LOSSES[name].defaults()) + eta * (XI**2 + (1 - XI) ** 2)
    slope = sp.lambdify(XI, sp.diff(member, XI), "numpy")
    xi = np.linspace(1e-6, 1 - 1e-6, 100_001)
    signs = np.sign(slope(xi))
    changes = np.flatnonzero(np.diff(signs))
    assert len(changes) <= 1
    assert all(signs[i] < 0 < signs[i + 1] for i in changes)  # a minimum
    expected = G.family_counts()[name]["one_minimum_for"]
    assert (len(changes) == 1) == (sp.nsimplify(eta) in expected)


def test_convexity_proof_is_not_fooled():
    assert S.convex_in_xi(S.loss("ms"))
    assert not S.convex_in_xi(-(XI**2))
    assert not S.convex_in_xi(-sp.log(XI) - 3 * XI**2)  # ℓ'' = 1/ξ² - 6 < 0 near ξ = 1


def test_spectral_decoupling_member_loses_the_asymptotic_point():
    """SD's logit gradient grows without bound as ξ → 1: no asymptotic stationary point."""
    g = sp.lambdify(XI, S.grad_logit("spectral-decoupling", lam=1), "numpy")
    assert g(1 - 1e-9) > 10 and g(1 - 1e-12) > g(1 - 1e-9)
    assert G.family_counts()["spectral-decoupling"]["asymptotic"] == 0
    assert F.family_stationary_count().exact


# ---- eqs. 32-33


def test_eq33_flips_the_sign_of_eq32s_last_term():
    reduced = sp.cancel(PRINTED["eq. 32"] / (2 * X))
    assert sp.expand(reduced - PRINTED["eq. 33"] - 4 * ETA * (1 - XI) ** 2) == 0
    # η = 3/10: eq. 32 / 2x vanishes at ξ = (4η - 1)/(2η) = 1/3; eq. 33 only at 1/(2η) = 5/3.
    eta = sp.Rational(3, 10)
    assert reduced.subs({ETA: eta, XI: sp.Rational(1, 3)}) == 0
    assert [p.xi for p in S.roots_in_unit_interval(PRINTED["eq. 33"].subs(ETA, eta))] == []
    row = F.eq32_33_division()
    assert not row.exact and not row.consequence


# ---- eqs. 6-7 and Section 5


def test_eq7_in_p_differs_from_eq7_in_pt_for_the_negative_label():
    p, eta = 0.8, 1.5

    def eq7(xi):
        return -np.log(xi) + eta * (xi**2 + (1 - xi) ** 2)

    assert eq7(p) != pytest.approx(eq7(1 - p))  # y = 0: p_t = 1 - p
    # Only the -log part differs: the penalty is symmetric under ξ ↔ 1 - ξ.
    assert eq7(p) + np.log(p) == pytest.approx(eq7(1 - p) + np.log(1 - p))
    row = F.eq6_eq7_pt()
    assert not row.exact and row.consequence


def test_ms_has_no_finite_point_below_one_half():
    xi = np.linspace(1e-6, 1 - 1e-6, 100_001)
    for eta, has_point in ((0.4, False), (0.5, False), (0.6, True)):
        slope = sp.lambdify(XI, S.grad_xi("ms", eta=eta), "numpy")(xi)
        assert bool(np.any(slope > 0)) is has_point
    row = F.section5_not_always_convergent()
    assert row.exact and "(0,1/2]" in row.derived


def test_evidence_reads_the_same_under_every_hash_seed():
    """Sets of roots are printed in sympy's canonical order, not in hash order."""
    code = "from msanalysis.ledger import functions; print(functions.eq25_26_system().evidence)"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("0", "1", "2")
    }
    assert len(runs) == 1, runs
