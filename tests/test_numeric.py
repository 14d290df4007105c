"""Numeric backend and simulations: every assertion compares two independent computations
(sympy vs autograd vs numpy, GD end point vs sympy's root, SVM vs geometry)."""

import argparse
import json

import numpy as np
import pytest
import sympy as sp

from msanalysis import gradient_check as G
from msanalysis import numeric as N
from msanalysis import simulate as sim
from msanalysis import symbolic as S
from msanalysis.losses import LOSSES
from msanalysis.simulate import get_dataset, max_margin, segment_distance, simulate
from msanalysis.sweep import Z_CAP, sweep_eta

TARGET = 1e-10


@pytest.mark.parametrize("name", list(LOSSES))
def test_numpy_and_symbolic_gradients_agree_with_autograd(name):
    check = G.check_loss_gradients(name, n_random=6)
    # numpy loss vs the 100-digit sympy value, everywhere, extreme logits included
    assert check.nonfinite["numpy"] == 0
    assert check.loss_numpy < TARGET
    assert check.grad_xi < TARGET  # on rows where the float ξ determines 1 - ξ
    assert check.nonfinite["torch"] == 0
    assert max(check.grad_true, check.grad_other, check.loss_torch, check.numpy_vs_torch) < TARGET


def test_torch_spectral_decoupling_is_accurate_at_extreme_logits():
    check = G.check_loss_gradients("spectral-decoupling", n_random=6)
    assert check.nonfinite["torch"] == 0 and check.max_rel_error < TARGET


def test_binary_logit_view_equals_two_class_softmax_view():
    z = np.array([-60.0, -5.0, -1e-3, 0.0, 2.5, 40.0, 700.0])
    binary = N.true_class_from_binary_logit(z)
    softmax = N.true_class_from_logits(np.c_[z, np.zeros_like(z)], np.zeros(len(z), dtype=np.int64))
    for field in ("p", "log_p", "q", "log_q"):
        a, b = getattr(binary, field), getattr(softmax, field)
        assert np.all(np.isfinite(a)) and np.allclose(a, b, rtol=1e-13, atol=0), field


def test_bad_logits_are_rejected_with_the_parameter_named():
    with pytest.raises(ValueError, match="logits"):
        N.true_class_from_logits([[0.0, np.nan]], [0])
    with pytest.raises(ValueError, match="target"):
        N.true_class_from_logits([[0.0, 1.0]], [2])
    with pytest.raises(ValueError, match="shape"):
        N.true_class_from_logits([0.0, 1.0], [0])


def test_paper_4pt_ms_converges_to_the_symbolic_stationary_point():
    result = simulate("paper-4pt", "ms", {"eta": 1.5}, parametrisation="odd", steps=2000)
    assert result.converged and result.matches_symbolic
    (xi_star,) = [
        p.xi for p in S.stationary_points("ms", eta=sp.Rational(3, 2)) if p.kind == "minimum"
    ]
    assert np.max(np.abs(np.array(result.xi_final) - float(xi_star))) < 1e-8
    # Theorem 2's own system, solved by sympy: same w*, b* as GD
    system = S.two_point_system("ms", eta=sp.Rational(3, 2))
    root = sp.nsolve([system.grad_w, system.grad_b], [S.W, S.B], [result.w[0], result.b], prec=30)
    assert abs(float(root[0]) - result.w[0]) < 1e-8 and abs(float(root[1]) - result.b) < 1e-8
    assert abs(result.boundary - result.max_margin_boundary) < 1e-8


def test_ms_at_or_below_one_half_does_not_converge_on_paper_4pt():
    result = simulate("paper-4pt", "ms", {"eta": 0.5}, parametrisation="odd", steps=3000)
    assert not result.converged
    assert result.w_norm_monotone and result.w_log_slope > 0
    assert S.stationary_points("ms", eta=sp.Rational(1, 2)) == []  # why: no root in (0, 1)


def test_ce_weight_norm_grows_without_bound_like_log_t():
    result = simulate("paper-4pt", "ce", steps=3000)
    w_norm = np.array(result.trajectory["w_norm"])
    assert not result.converged
    assert np.all(np.diff(w_norm) > 0) and result.w_log_slope > 0


def test_ce_direction_approaches_max_margin_on_segments():
    angle = np.array(simulate("segments", "ce", steps=3000).trajectory["angle_deg"])
    assert np.all(np.diff(angle) <= 0) and angle[-1] < angle[0] / 4


def test_asymmetric_ms_boundary_is_not_the_max_margin_midpoint():
    data = get_dataset("asymmetric")
    midpoint = (data.x[data.y > 0].min() + data.x[data.y < 0].max()) / 2  # from the data
    result = simulate("asymmetric", "ms", {"eta": 1.5}, steps=2000)
    assert result.converged and result.matches_symbolic
    assert abs(result.max_margin_boundary - midpoint) < 1e-6  # the SVM is the midpoint here
    symbolic_boundary = -result.symbolic_b / result.symbolic_w[0]
    gap = abs(symbolic_boundary - midpoint)
    assert abs(result.boundary_gap - gap) < 1e-6
    assert gap > 1e4 * abs(result.boundary - symbolic_boundary)  # a real gap, not GD noise
    assert not result.at_sample_stationary  # no sample sits at the per-sample ξ*


@pytest.mark.parametrize(
    ("dataset", "parametrisation"), [("asymmetric", "plain"), ("paper-4pt", "odd")]
)
def test_descend_is_gradient_steps_and_its_cycle_shortcut_is_exact(
    dataset, parametrisation, monkeypatch
):
    # MS runs that end in a float cycle (period 2 on the asymmetric points, a fixed point on
    # Theorem 2's): the shortcut's records equal the full run's and the plain gradient() loop's.
    data = get_dataset(dataset)
    dl_dz, curvature = N.logit_gradient_fn("ms", eta=1.5), N.logit_curvature_fn("ms", eta=1.5)
    lr = sim.stable_lr(curvature, data, parametrisation)
    record = np.r_[np.arange(1, 600, 7), 600]
    fast = sim.descend(data, dl_dz, parametrisation, lr, record)
    monkeypatch.setattr(sim, "CYCLE_CHECK", 10**9)
    full = sim.descend(data, dl_dz, parametrisation, lr, record)
    w, b = np.zeros((1, 1)), np.zeros(1)
    plain = []
    for t in range(1, 601):
        gw, gb = sim.gradient(data, w, b, dl_dz, parametrisation)
        w, b = w - lr * gw, b - lr * gb
        if t in record:
            plain.append([w[0, 0], b[0]])
    assert np.array_equal(fast[0], full[0]) and np.array_equal(fast[1], full[1])
    assert np.array_equal(fast[0], np.array(plain))


def test_hard_margin_svm_on_segments_matches_geometry():
    data = get_dataset("segments")
    pos, neg = data.x[data.y > 0], data.x[data.y < 0]
    distance = segment_distance(pos[0], pos[-1], neg[0], neg[-1])
    mm = max_margin(data.x, data.y)
    assert abs(2 * mm.margin - distance) < 1e-6
    assert abs(distance - (pos[0, 1] - neg[0, 1])) < 1e-12  # the vertical gap of the two segments


def test_sweep_threshold_equals_symbolic_to_grid_resolution():
    for name in ("ms", "centred-ce", "ms-focal"):
        result = sweep_eta(name, n_eta=200, eta_step=0.01, steps=1000)
        assert result.monotone_phases
        assert abs(result.threshold_empirical - result.threshold_symbolic) <= result.eta_step
        assert result.threshold_symbolic == float(S.eta_threshold(name, **result.params))


def test_sweep_certificate_matches_sympy_stationary_points_pointwise():
    result = sweep_eta("ms", n_eta=120, eta_step=0.005, steps=500)
    cap = 1 / (1 + np.exp(-Z_CAP))
    for i in range(90, 110):  # η from 0.455 to 0.55, across the threshold
        eta = sp.Rational(i + 1, 200)
        minima = [
            p for p in S.stationary_points("ms", eta=eta) if p.kind == "minimum" and p.xi < cap
        ]
        assert bool(minima) == bool(result.certified[i]), float(eta)


def _command(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


def test_sweep_eta_command_json(capsys):
    from msanalysis.commands import sweep_eta as command

    assert (
        _command(
            command,
            ["--losses", "ms", "--n-eta", "100", "--eta-step", "0.01", "--steps", "200", "--json"],
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out["ms"]) >= {"threshold_empirical", "threshold_symbolic"}


def test_commands_reject_bad_usage():
    from msanalysis.commands import simulate as simulate_command
    from msanalysis.commands import sweep_eta as sweep_command
    from msanalysis.errors import UsageError

    with pytest.raises(UsageError, match="--losses"):
        _command(sweep_command, ["--losses", "ce"])
    with pytest.raises(UsageError, match="--eta"):
        _command(simulate_command, ["--eta", "-1"])


def test_check_gradients_command_json(capsys):
    from msanalysis.commands import check_gradients as command

    assert _command(command, ["--json", "--n-random", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == set(LOSSES)
    assert all(np.isfinite(r["max_rel_error"]) for r in rows)


def test_simulate_command_writes_trajectories(tmp_path, capsys):
    from msanalysis.commands import simulate as command

    argv = ["--dataset", "paper-4pt", "--loss", "ce", "--steps", "50", "--parametrisation", "plain"]
    assert _command(command, [*argv, "--out", str(tmp_path), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    rows = (tmp_path / "paper-4pt_ce_plain.csv").read_text().splitlines()
    assert rows[0].startswith("step,w_0,b") and len(rows) == 51
    saved = json.loads((tmp_path / "simulations.json").read_text())
    assert saved[0]["trajectory"]["w_0"][-1] == summary["w"][0]
