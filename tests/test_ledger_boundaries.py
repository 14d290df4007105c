"""The boundary rows of the ledger (Theorem 1 without separability, Sections 3.1-3.3, 4.3, and
the tables' accuracy claims), each backed by an independent computation: scipy minimisation of
the numpy form of the loss, finite differences, or the quoted tables read directly. The
mutation test over every row (tests/test_claims.py) covers their corrected/wrong statements."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize

from msanalysis import ledger as C
from msanalysis.ledger import boundaries as B
from msanalysis.ledger import functions as F
from msanalysis.ledger import tables
from msanalysis.losses import get_loss
from msanalysis.numeric import true_class_from_binary_logit
from msanalysis.paper import PRINTED, quoted_tables
from msanalysis.simulate import get_dataset

ETA = float(B.PAPER_ETA)


def _loss(name, x, y, **params):
    """L(w, b) of a linear model σ(w·x + b), from the numpy form of the loss (not sympy)."""
    bound = get_loss(name).bind(**params)
    x = np.asarray(x, float).reshape(len(y), -1)

    def total(theta):
        z = np.asarray(y, float) * (x @ theta[:-1] + theta[-1])
        return float(np.sum(bound(true_class_from_binary_logit(z))))

    return total


def _points_xy(points):
    return [float(p) for p, _ in points], [1.0 if lab == 1 else -1.0 for _, lab in points]


def _gradient(f, theta, h=1e-6):
    return np.array([(f(theta + e) - f(theta - e)) / (2 * h) for e in h * np.eye(len(theta))])


def test_ce_has_a_finite_minimiser_on_overlapping_classes():
    data = get_dataset("overlapping")
    f = _loss("ce", data.x, data.y)
    res = minimize(f, x0=[0.3, 0.4], method="BFGS", tol=1e-12)
    # BFGS on a strictly convex smooth loss: a stationary point to ~1e-8, unique.
    assert np.linalg.norm(_gradient(f, res.x)) < 1e-6
    assert abs(res.x[1]) < 1e-6  # odd data: b* = 0, boundary at the centre
    row = F.theorem1_overlapping()
    assert f"({res.x[0]:.5f}" in row.derived  # the row's exact w* agrees to 5 decimals
    assert not row.exact and not row.consequence  # FAILS: the theorem needs separability


@pytest.mark.parametrize("name, params", [("ce", {}), ("ms", {"eta": ETA})])
def test_bias_gradient_vanishes_on_the_centred_boundary(name, params):
    """Paper's model σ(2(wx + b) - 1) on ±1: ∂L/∂b = 0 along b = 1/2, not off it."""
    bound = get_loss(name).bind(**params)

    def loss(w, b):
        z = np.array([2 * (w + b) - 1, -(2 * (-w + b) - 1)])
        return float(np.sum(bound(true_class_from_binary_logit(z))))

    h = 1e-6
    for w in (-2.0, 0.1, 0.7, 3.0):
        d_centre = (loss(w, 0.5 + h) - loss(w, 0.5 - h)) / (2 * h)
        d_off = (loss(w, 0.7 + h) - loss(w, 0.7 - h)) / (2 * h)
        assert abs(d_centre) < 1e-8  # central difference of an odd function: rounding only
        assert abs(d_off) > 1e-4  # the check can fail: off the centre the slope is not 0
    assert not F.sec32_centred_boundary().exact


def test_every_separating_boundary_has_infimum_loss_and_none_is_attained():
    bound = get_loss("ce").bind()

    def ray_loss(c, w):  # boundary x = c: b = 1/2 - c w in σ(2(wx + b) - 1)
        b = 0.5 - c * w
        z = np.array([2 * (w + b) - 1, -(2 * (-w + b) - 1)])
        return float(np.sum(bound(true_class_from_binary_logit(z))))

    for c in (-0.9, 0.0, 0.9):
        assert ray_loss(c, 100.0) < 1e-7 < ray_loss(c, 1.0)
    assert ray_loss(1.5, 100.0) > 10  # outside (-1, 1) the loss grows without bound
    facts = B.ce_optimal_boundaries()
    assert facts.infimum_set == sp.Interval.open(-1, 1) and facts.minimisers == 0
    assert facts.limit == 0
    assert F.sec32_optimal_infimum().exact and not F.sec32_optimal_minimiser().exact


def test_ms_minimum_on_the_segments_is_parallel_and_puts_each_sample_at_xi_star():
    data = get_dataset("segments")
    f = _loss("ms", data.x, data.y, eta=ETA)
    res = minimize(f, x0=[0.2, 0.5, 0.1], method="BFGS", tol=1e-12)
    assert abs(res.x[0]) < 1e-6 and abs(res.x[2]) < 1e-6  # BFGS to ~1e-8: w_x = b = 0
    xi_star = float(B.parallel_minimiser()["xi_star"])
    per_sample = get_loss("ms").bind(eta=ETA)(
        true_class_from_binary_logit(np.log(xi_star / (1 - xi_star)))
    )
    assert res.fun == pytest.approx(len(data.y) * per_sample, rel=1e-10)
    ce, ms = B.segment_runs()["ce"], B.segment_runs()["ms"]
    assert ce[1] < ce[0] and ce[1] > 1  # CE tilted by degrees, the tilt falling
    assert ms[1] < B.PARALLEL_DEG
    assert F.sec31_33_parallel().verdict is C.Verdict.HOLDS


def _ms_boundary(points, start=(0.5, 0.0)):
    x, y = _points_xy(points)
    f = _loss("ms", x, y, eta=ETA)
    res = minimize(f, x0=start, method="BFGS", tol=1e-12)
    assert np.linalg.norm(_gradient(f, res.x)) < 1e-6
    return -res.x[1] / res.x[0]


@pytest.mark.parametrize("counts", [(5, 1), (1, 5), (3, 2)])
def test_ms_boundary_ignores_counts_with_one_position_per_class(counts):
    points = ((1, 1),) * counts[0] + ((-4, 0),) * counts[1]
    assert _ms_boundary(points) == pytest.approx(-1.5, abs=1e-6)  # BFGS tolerance ~1e-8


def _svm_boundary(points):
    """Hard-margin boundary with penalised bias (CE's limit), by SLSQP, independent of sympy."""
    x, y = _points_xy(points)
    cons = [
        {"type": "ineq", "fun": lambda v, a=a, s=s: s * (v[0] * a + v[1]) - 1}
        for a, s in zip(x, y, strict=True)
    ]
    res = minimize(lambda v: v @ v, x0=[1.0, 0.0], constraints=cons, method="SLSQP")
    return -res.x[1] / res.x[0]


@pytest.mark.parametrize("label", list(B.IMBALANCED))
def test_imbalance_boundaries_by_independent_minimisation(label):
    points = B.IMBALANCED[label]()
    found = B.lean(label)
    # SLSQP and BFGS converge to ~1e-6 on these 2-parameter problems.
    assert _svm_boundary(tuple(dict.fromkeys(points))) == pytest.approx(
        float(found.ce_limit), abs=1e-5
    )
    assert _ms_boundary(points) == pytest.approx(float(found.ms), abs=1e-5)


def test_ms_leans_towards_the_majority_when_it_is_spread():
    case = B.lean("spread majority")
    assert case.middle == 0 and case.ce_limit == 0
    assert case.lean(case.ms) < -0.1  # towards the five positives, away from the minority
    assert 0 < case.lean(case.ce_run) < abs(case.lean(case.ms))  # CE's run is nearer
    row = F.sec43_spread_majority()
    assert not row.exact and not row.consequence


def test_off_centre_lean_follows_the_geometry_not_the_counts():
    five_one = B.lean("off-centre, 5 positives : 1 negative")
    one_five = B.lean("off-centre, 1 positive : 5 negatives")
    assert five_one.ce_limit == one_five.ce_limit == -1  # counts do not move the limit
    assert five_one.lean(five_one.ce_limit) < 0 < one_five.lean(one_five.ce_limit)
    assert F.sec43_off_centre().verdict is C.Verdict.HOLDS_WITH_CORRECTION


def test_the_tables_report_no_clean_accuracy():
    paper = quoted_tables()
    columns = {a for row in paper["table1"]["accuracy"].values() for r in row.values() for a in r}
    assert columns == {"fgsm", "bim", "pgd", "upgd"}
    assert all("@" in key for row in paper["table2"]["accuracy"].values() for key in row)
    assert tables._unattacked_columns(paper["table1"]) == []
    assert not F.accuracy_kept().exact


def test_table2_ms_is_highest_and_the_only_row_from_this_paper():
    t2 = PRINTED["Table 2"]
    for column in t2["ms"]:
        assert max(t2, key=lambda m: t2[m][column]) == "ms"
    sources = PRINTED["Table 2 sources"]
    assert set(sources) == set(t2)
    assert [m for m in sources if sources[m] == sources["ms"]] == ["ms"]
    row = F.table2_baselines()
    assert row.exact and not row.consequence


def test_figure1_set_gives_a_parallel_linear_boundary_under_either_loss():
    """Figure 1's own set (mirror-symmetric segments) fixes a linear model's direction: GD from
    0 keeps w_x = 0 up to rounding under CE and MS alike, so the contrast Figure 1 draws needs
    the two-layer network; the ledger row uses msanalysis.simulate's offset segments instead."""
    from msanalysis.figures.toy_data import separable
    from msanalysis.simulate import Dataset

    toy = separable()
    data = Dataset("separable", toy.points, np.where(toy.labels == 1, 1.0, -1.0), "")
    for name, params in (("ce", {}), ("ms", B.MS)):
        run, _ = B.gd_run(data, name, steps=200, **params)
        assert abs(run.w[0]) < 1e-12 * abs(run.w[1])  # float rounding of a symmetric sum
