"""Tests of msanalysis.figures: the plotted numbers are the symbolic ones, the boundary
measurements are right where the answer is known, and the builder writes what it says."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

from msanalysis import symbolic
from msanalysis.commands import figures as figures_command
from msanalysis.errors import UsageError
from msanalysis.figures.boundary import Window, boundary_stats
from msanalysis.figures.build import build_figures
from msanalysis.figures.loss_curves import (
    PHASE_LOSSES,
    eta_of_stationary_xi,
    fig2_columns,
    fig2_curves,
    figure2,
    printed_column,
    printed_zeros,
)
from msanalysis.figures.toy import ToyExperiment, ToyLoss, ToyNetworks
from msanalysis.figures.toy_data import (
    TOY_DATA,
    curved,
    linearly_separable,
    max_margin_line,
    separable,
)
from msanalysis.figures.trajectories import figure_trajectories, trajectory_columns, trajectory_runs
from msanalysis.paper import PRINTED_GRADIENTS
from msanalysis.training.models import build_model

# Sample points exactly representable in binary, so the float grid and the Rational agree.
SAMPLE_XI = [
    sp.Rational(1, 1024),
    sp.Rational(1, 8),
    sp.Rational(1, 2),
    sp.Rational(3, 4),
    sp.Rational(63, 64),
]
# float64 has relative precision 2.2e-16; the expressions take fewer than ~30 operations and
# are well conditioned on [1/1024, 63/64], so rounding stays far below 1e-12 relative.
REL_TOL = 1e-12


def _expected_columns(eta: float) -> dict[str, sp.Expr]:
    exprs = {}
    for curve in fig2_curves(eta=eta):
        exprs[f"loss_{curve.name}"] = curve.loss
        exprs[f"grad_{curve.name}"] = curve.grad
    subs = {symbolic.ETA: sp.nsimplify(eta), symbolic.GAMMA: 2, symbolic.ALPHA: 1}
    for loss, (_, expr) in PRINTED_GRADIENTS.items():
        exprs[printed_column(loss)] = expr.subs(subs)
    return exprs


@pytest.mark.parametrize("eta", [1.5, 0.25])
def test_fig2_arrays_equal_symbolic_values(eta: float) -> None:
    columns = fig2_columns(np.array([float(x) for x in SAMPLE_XI]), eta=eta)
    for key, expr in _expected_columns(eta).items():
        exact = [float(expr.subs(symbolic.XI, x).evalf(40)) for x in SAMPLE_XI]
        np.testing.assert_allclose(columns[key], exact, rtol=REL_TOL, atol=1e-300, err_msg=key)


def test_fig2_curves_are_the_family_and_its_derivative() -> None:
    # The grad column is d(loss)/do for the true logit: loss(σ(z)) differentiated in z.
    for curve in fig2_curves(eta=1.5):
        direct = sp.diff(curve.loss.subs(symbolic.XI, symbolic.sigmoid(symbolic.Z)), symbolic.Z)
        for z in (-2, 0, 3):
            at = {symbolic.Z: z}
            assert math.isclose(
                float(direct.subs(at).evalf(30)),
                float(curve.grad.subs(symbolic.XI, symbolic.sigmoid(z)).evalf(30)),
                rel_tol=1e-25,
            )


def test_fig2_csv_columns_and_values(tmp_path: Path) -> None:
    build_figures(tmp_path, only=["fig2"], progress=False)
    with (tmp_path / "fig2.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    expected = fig2_columns(eta=1.5)
    assert list(rows[0]) == list(expected)
    assert {
        "xi",
        "loss_ce",
        "grad_ce",
        "loss_focal",
        "grad_focal",
        "loss_ms",
        "grad_ms",
        "loss_ms-focal",
        "grad_ms-focal",
        "printed_eq5",
        "printed_eq8",
    } == set(rows[0])
    for key, values in expected.items():
        np.testing.assert_array_equal(
            [float(r[key]) for r in rows], values
        )  # repr round-trips exactly
    assert (tmp_path / "fig2.png").stat().st_size > 0 and (tmp_path / "fig2.pdf").stat().st_size > 0


def test_stationary_markers_at_symbolic_values() -> None:
    fig = figure2(eta=1.5)
    _, ax_grad = fig.axes
    marked = sorted(
        line.get_xdata()[0]
        for line in ax_grad.lines
        if line.get_marker() == "o" and line.get_mfc() != "white"
    )
    expected = []
    for curve in fig2_curves(eta=1.5):
        g = symbolic.grad_xi(curve.name, **curve.params)
        for point in curve.stationary:
            value = g.subs(symbolic.XI, point.xi)
            assert sp.simplify(value) == 0 if point.exact else abs(value.evalf(30)) < 1e-25
            expected.append(float(point.xi))
    assert len(expected) == 2  # ms and ms-focal each have one finite stationary point at η = 1.5
    np.testing.assert_array_equal(marked, sorted(expected))


def test_printed_zeros_are_zeros_of_the_printed_expressions() -> None:
    hollow = sorted(
        line.get_xdata()[0] for line in figure2(eta=1.5).axes[1].lines if line.get_mfc() == "white"
    )
    zeros = []
    for loss, (equation, printed) in PRINTED_GRADIENTS.items():
        expr = printed.subs({symbolic.ETA: sp.Rational(3, 2), symbolic.GAMMA: 2, symbolic.ALPHA: 1})
        for x in printed_zeros(loss, eta=1.5):
            assert abs(float(expr.subs(symbolic.XI, x))) < 1e-12
            zeros.append(x)
        if equation == "eq. 8":  # polynomial: compare with sympy's exact roots in (0, 1)
            exact = [r for r in sp.solve(expr, symbolic.XI) if 0 < r < 1]
            np.testing.assert_allclose(
                printed_zeros("ms", eta=1.5), [float(r) for r in exact], rtol=1e-14
            )
    np.testing.assert_array_equal(hollow, sorted(zeros))


def test_eta_phase_curve_meets_stationary_points() -> None:
    params = {"ms": {}, "centred-ce": {}, "ms-focal": {"gamma": 2.0, "alpha": 1.0}}
    for name in PHASE_LOSSES:
        eta_of_xi = eta_of_stationary_xi(name, **params[name])
        for eta in (sp.Rational(3, 4), sp.Rational(3, 2), sp.Integer(5)):
            for point in symbolic.stationary_points(name, eta=eta, **params[name]):
                assert abs(eta_of_xi.subs(symbolic.XI, point.xi).evalf(30) - eta) < 1e-20


# --- boundary measurements, on classifiers whose boundary is known in closed form -------------


def test_boundary_stats_horizontal_line() -> None:
    data, c = separable(n=20), 0.3  # boundary y = 0.3; offset from y = 0 is exactly 0.3
    stats = boundary_stats(lambda p: p[:, 1] - c, data, Window(step=0.05))
    assert math.isclose(stats.min_distance, 0.9 - c, rel_tol=1e-12)
    assert math.isclose(stats.min_distance_class[0], 0.9 + c, rel_tol=1e-12)
    assert math.isclose(stats.offset, c, rel_tol=1e-12)
    assert stats.coverage == 1.0 and stats.misclassified == 0


def test_boundary_stats_tilted_line_and_misclassification() -> None:
    data, a, c, h = separable(n=25), 0.1, 0.35, 0.02  # boundary y = a x + c, above 0 on [-3, 3]
    stats = boundary_stats(lambda p: p[:, 1] - a * p[:, 0] - c, data, Window(step=h))
    exact = np.abs(data.points[:, 1] - a * data.points[:, 0] - c) / math.hypot(1, a)
    # Crossings lie exactly on the line (interpolation is exact for linear f), at most ~h apart.
    assert exact.min() <= stats.min_distance <= exact.min() + h / 2
    # Columns x_j in [-3, 3] are symmetric about 0 and a x + c > 0 there, so the mean offset is c.
    assert math.isclose(stats.offset, c, rel_tol=1e-9)
    flipped = boundary_stats(
        lambda p: p[:, 1] - 1.0, data, Window(step=0.05)
    )  # y = 1 puts class 1 below
    assert flipped.misclassified == int((data.labels == 1).sum())


def test_boundary_stats_rejects_a_classifier_without_boundary() -> None:
    with pytest.raises(ValueError, match="no decision boundary"):
        boundary_stats(lambda p: np.ones(len(p)), separable(n=5), Window(step=0.1))


# --- data sets -------------------------------------------------------------------------------


def test_reference_lines_are_the_max_margin_lines() -> None:
    for name in ("separable", "lacking-10", "lacking-97"):
        data = TOY_DATA[name]()
        w, b = max_margin_line(data.points, data.labels)
        assert (
            abs(w[0]) < 1e-6
            and abs(b) < 1e-6
            and math.isclose(1 / np.linalg.norm(w), 0.9, rel_tol=1e-6)
        )


def test_curved_set_is_not_linearly_separable() -> None:
    assert not linearly_separable(curved().points, curved().labels)
    assert linearly_separable(separable().points, separable().labels)


def test_imbalanced_sets_lack_the_stated_fraction() -> None:
    for percent in (10, 30, 50, 90, 97):
        data = TOY_DATA[f"lacking-{percent}"]()
        assert (data.labels == 1).sum() == round(100 * (1 - percent / 100))
        assert (data.labels == 0).sum() == 100


# --- training and building ---------------------------------------------------------------------


def test_seeds_train_independently() -> None:
    data, loss = separable(n=10), ToyLoss("ms", (("eta", 1.5),))
    one, two = ToyExperiment(seeds=1, steps=20), ToyExperiment(seeds=2, steps=20)
    grid = np.array([[0.5, 0.1], [-2.0, 1.0]])
    np.testing.assert_allclose(
        one.logit_difference(data, loss, 0)(grid),
        two.logit_difference(data, loss, 0)(grid),
        rtol=1e-5,
        atol=1e-6,
    )
    assert not np.allclose(
        two.logit_difference(data, loss, 0)(grid), two.logit_difference(data, loss, 1)(grid)
    )


def test_toy_networks_are_the_registry_mlp() -> None:
    x = torch.tensor([[0.5, -1.0], [2.0, 0.3]])
    nets = ToyNetworks((3, 7), hidden=16)
    for i, seed in enumerate((3, 7)):
        torch.manual_seed(seed)
        reference = build_model("mlp", num_classes=2, in_channels=2, hidden=16)
        with torch.no_grad():
            torch.testing.assert_close(nets(x, i), reference(x), rtol=0, atol=0)
            torch.testing.assert_close(nets(x)[i], reference(x), rtol=1e-6, atol=1e-6)


def test_toy_figure_with_tiny_budget_writes_files(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    experiment = ToyExperiment(seeds=2, steps=3, window=Window(step=0.1))
    written = build_figures(tmp_path, only=["fig1"], seeds=2, experiment=experiment, progress=False)
    assert {p.name for p in written} == {
        "fig1.png",
        "fig1.pdf",
        "toy_boundaries.csv",
        "toy_boundaries.md",
    }
    assert all(p.stat().st_size > 0 for p in written)
    with (tmp_path / "toy_boundaries.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["loss"].split()[0] for r in rows] == ["ce", "focal", "ms-focal", "ms"]
    ce = [
        experiment.stats(TOY_DATA["separable"](), ToyLoss("ce"), s).min_distance for s in range(2)
    ]
    assert float(rows[0]["min_distance_mean"]) == np.mean(ce) and float(
        rows[0]["min_distance_std"]
    ) == np.std(ce)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    figures_command.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    "argv", [("--only", "fig99"), ("--eta", "0"), ("--eta", "nan"), ("--seeds", "0")]
)
def test_command_rejects_bad_usage(argv: tuple[str, ...], tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        figures_command.run(_args("--out", str(tmp_path), *argv))


def test_trajectory_figure_draws_the_simulated_runs() -> None:
    runs = trajectory_runs(eta=1.5, steps=200)
    columns = trajectory_columns(runs)
    fig = figure_trajectories(runs)
    drawn = [line for line in fig.axes[0].lines]  # |w| of the first data set, one line per loss
    first = [r for r in runs if r.dataset == runs[0].dataset]
    assert len(drawn) == len(first)
    for line, run in zip(drawn, first, strict=True):
        np.testing.assert_array_equal(line.get_ydata(), run.trajectory["w_norm"])
        rows = (columns["dataset"] == run.dataset) & (columns["loss"] == run.loss)
        np.testing.assert_array_equal(columns["boundary"][rows], run.trajectory["boundary"])
