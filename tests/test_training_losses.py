"""Torch losses against the symbolic module, nn.CrossEntropyLoss, limits and bad inputs."""

from __future__ import annotations

import inspect
import math
import warnings
from functools import cache

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from msanalysis import symbolic as S
from msanalysis.losses import LOSSES
from msanalysis.training.losses import (
    CentredCE,
    CrossEntropy,
    FamilyLoss,
    Focal,
    MSFocal,
    StationaryTransform,
    ThresholdWarning,
    TwoStationaryCE,
    build_loss,
    true_class_from_logits,
)

# (name, params, K): every member of the family, spectral decoupling in its binary setting.
CASES = [
    ("ce", {}, 5),
    ("focal", {"alpha": 0.25, "gamma": 2.0}, 5),
    ("focal", {"alpha": 1.0, "gamma": 0.5}, 5),
    ("ms", {"eta": 1.5}, 5),
    ("ms-focal", {"eta": 1.5, "alpha": 0.25, "gamma": 2.0}, 5),
    ("centred-ce", {"eta": 2.0}, 5),
    ("spectral-decoupling", {"lam": 0.3}, 2),
]


@cache
def _symbolic_numpy(name: str, params: tuple) -> tuple:
    """(loss(ξ), dℓ/do_true(ξ), dℓ/do_j(ξ, p_j)) lambdified from msanalysis.symbolic."""
    kw = dict(params)
    loss = sp.lambdify(S.XI, S.loss(name, **kw), "numpy")
    g_true = sp.lambdify(S.XI, S.grad_logit(name, "true", **kw), "numpy")
    g_other = sp.lambdify((S.XI, S.P_OTHER), S.grad_logit(name, "other", **kw), "numpy")
    return loss, g_true, g_other


def _loss_and_grad(loss_fn, logits: torch.Tensor, target: torch.Tensor):
    logits = logits.detach().clone().requires_grad_(True)
    per_sample = loss_fn(logits, target)
    (grad,) = torch.autograd.grad(per_sample.sum(), logits)
    return per_sample.detach(), grad


@pytest.mark.parametrize("name, params, k", CASES)
def test_value_and_autograd_gradient_equal_the_symbolic_expressions(name, params, k):
    gen = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(64, k, generator=gen, dtype=torch.float64)
    target = torch.randint(0, k, (64,), generator=gen)
    loss, grad = _loss_and_grad(FamilyLoss(name, reduction="none", **params), logits, target)

    f_loss, f_true, f_other = _symbolic_numpy(name, tuple(sorted(params.items())))
    probs = torch.softmax(logits, -1).numpy()
    xi = probs[np.arange(64), target.numpy()]
    expected_grad = f_other(xi[:, None], probs)
    expected_grad[np.arange(64), target.numpy()] = f_true(xi)
    # float64 throughout, logits of size ~10: both sides carry a few ulp of rounding from the
    # softmax and the log; 1e-12 relative leaves room for that and nothing for a wrong formula.
    np.testing.assert_allclose(loss.numpy(), f_loss(xi), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grad.numpy(), expected_grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ce_equals_nn_cross_entropy_loss(reduction, weighted):
    gen = torch.Generator().manual_seed(1)
    logits = 4 * torch.randn(32, 7, generator=gen, dtype=torch.float64)
    target = torch.randint(0, 7, (32,), generator=gen)
    weight = torch.rand(7, generator=gen, dtype=torch.float64) + 0.1 if weighted else None
    ours, our_grad = _loss_and_grad(
        FamilyLoss("ce", reduction=reduction, weight=weight), logits, target
    )
    ref, ref_grad = _loss_and_grad(
        torch.nn.CrossEntropyLoss(weight=weight, reduction=reduction), logits, target
    )
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(our_grad, ref_grad, rtol=0, atol=1e-12)


def _batch(seed=2, n=16, k=6):
    gen = torch.Generator().manual_seed(seed)
    return 5 * torch.randn(n, k, generator=gen, dtype=torch.float64), torch.randint(
        0, k, (n,), generator=gen
    )


def test_ms_focal_with_gamma_0_alpha_1_is_ms_and_focal_with_gamma_0_is_ce():
    logits, target = _batch()
    ms_focal = FamilyLoss("ms-focal", eta=1.5, alpha=1.0, gamma=0.0, reduction="none")
    torch.testing.assert_close(
        ms_focal(logits, target), FamilyLoss("ms", eta=1.5, reduction="none")(logits, target)
    )
    focal = FamilyLoss("focal", alpha=1.0, gamma=0.0, reduction="none")
    torch.testing.assert_close(
        focal(logits, target), FamilyLoss("ce", reduction="none")(logits, target)
    )


def test_ms_approaches_ce_as_eta_goes_to_zero():
    logits, target = _batch()
    ce = FamilyLoss("ce", reduction="none")(logits, target)
    for eta in (1e-3, 1e-6, 1e-12):
        with pytest.warns(ThresholdWarning):
            ms = FamilyLoss("ms", eta=eta, reduction="none")(logits, target)
        # ms - ce = η(ξ² + (1-ξ)²) and ξ² + (1-ξ)² lies in [1/2, 1] for ξ in [0, 1]; the
        # subtraction ms - ce itself rounds by up to an ulp of ce (4 eps·ce, with margin).
        diff, rounding = ms - ce, 4 * torch.finfo(ce.dtype).eps * ce.abs()
        assert bool(((diff >= 0.5 * eta - rounding) & (diff <= eta + rounding)).all())


@pytest.mark.parametrize(
    "base, params, same_as", [("ce", {}, "ms"), ("focal", {"alpha": 0.5, "gamma": 2.0}, "ms-focal")]
)
def test_stationary_transform_of_a_base_is_the_registered_loss(base, params, same_as):
    logits, target = _batch()
    transformed = StationaryTransform(base, eta=1.5, reduction="none", **params)(logits, target)
    registered = FamilyLoss(same_as, eta=1.5, reduction="none", **params)(logits, target)
    torch.testing.assert_close(transformed, registered, rtol=1e-15, atol=0)


EXTREME = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 0.0], [1e4, 1e4 - 1, -1e4]])


@pytest.mark.parametrize("name, params, k", CASES)
@pytest.mark.parametrize("autocast", [False, True])
def test_extreme_logits_give_finite_loss_and_gradient(name, params, k, autocast):
    logits = EXTREME[:, :k].clone().requires_grad_(True)
    for target in (torch.tensor([0, 0, 1, 1]), torch.tensor([1, 0, 0, 0]) % k):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            x = logits.to(torch.bfloat16) if autocast else logits
            loss = FamilyLoss(name, **params)(x, target)
        (grad,) = torch.autograd.grad(loss, logits)
        assert loss.dtype == torch.float32
        assert torch.isfinite(loss) and torch.isfinite(grad).all(), (target, loss, grad)


def test_spectral_decoupling_logit_is_exact_where_xi_rounds_to_one():
    # z = log ξ - log(1 - ξ) must be the logit difference, 60, although ξ == 1 in float32.
    logits = torch.tensor([[30.0, -30.0]], requires_grad=True)
    loss = FamilyLoss("spectral-decoupling", lam=1.0)(logits, torch.tensor([0]))
    (grad,) = torch.autograd.grad(loss, logits)
    assert true_class_from_logits(logits, torch.tensor([0])).p.item() == 1.0
    # ℓ = -log ξ + z²/2 ≈ 1800 and dℓ/dz = z - (1 - ξ) ≈ 60 on the true logit, -60 on the other.
    torch.testing.assert_close(loss, torch.tensor(1800.0))
    torch.testing.assert_close(grad, torch.tensor([[60.0, -60.0]]))


def _mp_reference(name: str, params: dict, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The symbolic loss at ξ computed from the logits with 40 significant digits."""
    f = sp.lambdify(S.XI, S.loss(name, **params), "mpmath")
    out = []
    with mpmath.workdps(40):
        for row, t in zip(logits.astype(np.float64), target, strict=True):
            xi = 1 / mpmath.fsum(mpmath.exp(mpmath.mpf(o) - mpmath.mpf(row[t])) for o in row)
            out.append(float(f(xi)))
    return np.array(out)


PROPERTY_LOSSES = st.sampled_from(
    [
        ("ce", {}),
        ("focal", {"alpha": 0.25, "gamma": 2.0}),
        ("focal", {"alpha": 1.0, "gamma": 0.5}),
        ("ms", {"eta": 1.5}),
        ("ms-focal", {"eta": 1.5, "alpha": 0.25, "gamma": 2.0}),
        ("centred-ce", {"eta": 2.0}),
    ]
)
EDGE = st.floats(-1e4, 1e4, allow_nan=False, width=32)


@settings(max_examples=50, deadline=None)
@given(
    loss=PROPERTY_LOSSES,
    k=st.integers(2, 1000),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    scale=st.sampled_from([1.0, 30.0, 1e3, 1e4]),
    true_logit=EDGE,
    rival_logit=EDGE,
    seed=st.integers(0, 2**31 - 1),
)
def test_property_finite_and_equal_to_the_symbolic_value(
    loss, k, dtype, scale, true_logit, rival_logit, seed
):
    name, params = loss
    rng = np.random.default_rng(seed)
    n = 3
    logits = np.clip(rng.standard_normal((n, k)) * scale, -1e4, 1e4)
    target = rng.integers(0, k, n)
    # Rows random at the drawn scale; row 0 gets the drawn extremes at its target and a rival.
    logits[0, target[0]] = true_logit
    logits[0, (target[0] + 1) % k] = rival_logit
    x = torch.tensor(logits, dtype=dtype)
    value, grad = _loss_and_grad(
        FamilyLoss(name, reduction="none", **params), x, torch.tensor(target)
    )
    assert torch.isfinite(value).all() and torch.isfinite(grad).all()

    ref = _mp_reference(name, params, x.double().numpy(), target)
    eps = torch.finfo(dtype).eps
    spread = float(x.max() - x.min())
    # The log-softmax rounds o - max(o) and the log-sum-exp: log ξ carries an absolute error of
    # a few eps·(1 + spread). Every loss here has |dℓ/dlog ξ| <= 1 + 2η + γ, which bounds
    # the error that reaches ℓ; 16x that, plus a relative eps term for ℓ's own rounding.
    slope = 1 + 2 * params.get("eta", 0) + params.get("gamma", 0)
    tol = 16 * eps * (1 + spread) * slope + 16 * eps * np.abs(ref)
    np.testing.assert_array_less(np.abs(value.double().numpy() - ref), tol + 1e-300)


# ------------------------------------------------------------------ parameters and bad inputs


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("ms", {"eta": 0.0}, "eta"),
        ("ms", {"eta": -1.0}, "eta"),
        ("focal", {"gamma": -0.5}, "gamma"),
        ("focal", {"alpha": 0.0}, "alpha"),
        ("focal", {"alpha": 1.5}, "alpha"),
        ("ms", {"etaa": 1.0}, "no parameter"),
        ("nope", {}, "unknown loss 'nope'"),
    ],
)
def test_bad_hyper_parameters_raise_naming_the_parameter(name, params, match):
    with pytest.raises(ValueError, match=match):
        FamilyLoss(name, **params)


@pytest.mark.parametrize(
    "name, params",
    [
        ("ms", {}),
        ("centred-ce", {}),
        ("ms-focal", {"gamma": 0.0, "alpha": 0.5}),
        ("ms-focal", {"gamma": 2.0}),
    ],
)
def test_threshold_warning_exactly_at_and_below_the_derived_threshold(name, params):
    threshold = float(S.eta_threshold(name, **params))
    for eta in (threshold, threshold / 2, threshold + 0.01):
        if eta <= 0:
            continue  # threshold 0: every valid η is above it
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            FamilyLoss(name, eta=eta, **params)
        warned = [w for w in caught if issubclass(w.category, ThresholdWarning)]
        assert bool(warned) == (eta <= threshold), (eta, threshold)
        if warned:
            assert f"{threshold:g}" in str(warned[0].message)


def _good():
    return torch.zeros(4, 3), torch.tensor([0, 1, 2, 0])


@pytest.mark.parametrize(
    "logits, target, match",
    [
        (torch.zeros(4, 3, dtype=torch.int64), _good()[1], "floating"),
        (torch.zeros(4), _good()[1], r"shape \(N, K\)"),
        (torch.zeros(4, 1), _good()[1], "K=1"),
        (_good()[0], torch.zeros(4), "integer"),
        (_good()[0], torch.tensor([0, 1]), r"shape \(N,\)"),
        (_good()[0], torch.tensor([0, 1, 3, 0]), r"\[0, 3\)"),
        (_good()[0], torch.tensor([0, -1, 2, 0]), r"\[0, 3\)"),
        (torch.tensor([[0.0, math.nan, 0.0]] * 4), _good()[1], "NaN/inf"),
        (torch.tensor([[0.0, -math.inf, 0.0]] * 4), _good()[1], "NaN/inf"),  # -inf at a target
        (torch.tensor([[0.0, 0.0, math.inf]] + [[0.0] * 3] * 3), _good()[1], "NaN/inf"),
        (torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64), "N >= 1"),
    ],
)
def test_bad_inputs_raise_clear_errors(logits, target, match):
    with pytest.raises(ValueError, match=match):
        FamilyLoss("ms", eta=1.5)(logits, target)


def test_minus_inf_logit_of_another_class_is_a_class_of_probability_zero():
    masked = torch.tensor([[1.0, -math.inf, 0.5]], dtype=torch.float64, requires_grad=True)
    loss = FamilyLoss("ms", eta=1.5)(masked, torch.tensor([0]))
    (grad,) = torch.autograd.grad(loss, masked)
    dropped = FamilyLoss("ms", eta=1.5)(masked.detach()[:, [0, 2]], torch.tensor([0]))
    torch.testing.assert_close(loss, dropped, rtol=1e-15, atol=0)
    assert grad[0, 1] == 0 and torch.isfinite(grad).all()


def test_finite_logits_whose_loss_overflows_are_reported_as_too_large():
    # Spectral decoupling squares the logit difference: (2e20)² overflows float32.
    with pytest.raises(ValueError, match="too large for torch.float32"):
        FamilyLoss("spectral-decoupling")(torch.tensor([[1e20, -1e20]]), torch.tensor([0]))


def test_bad_module_settings_raise():
    with pytest.raises(ValueError, match="reduction="):
        FamilyLoss("ce", reduction="avg")
    with pytest.raises(ValueError, match="weight has shape"):
        FamilyLoss("ce", weight=torch.ones(4))(*_good())
    with pytest.raises(ValueError, match=">= 0"):
        FamilyLoss("ce", weight=torch.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="K = 2"):
        FamilyLoss("spectral-decoupling")(*_good())
    with pytest.raises(ValueError, match="unknown training loss"):
        build_loss("spectral-decoupling")


@pytest.mark.parametrize("dtype", [torch.int32, torch.uint8])
def test_any_integer_label_dtype_gives_the_int64_result(dtype):
    logits, target = _batch()
    loss = FamilyLoss("ms", eta=1.5, weight=torch.linspace(0.5, 1.5, 6, dtype=torch.float64))
    torch.testing.assert_close(loss(logits, target.to(dtype)), loss(logits, target), rtol=0, atol=0)


def test_check_values_false_skips_the_value_checks():
    logits = torch.tensor([[0.0, math.nan, 0.0]])
    assert torch.isnan(FamilyLoss("ce", check_values=False)(logits, torch.tensor([0])))


@pytest.mark.parametrize("name", ["ce", "focal", "ms", "ms-focal", "centred-ce"])
def test_build_loss_gives_the_family_member(name):
    loss = build_loss(name, reduction="sum")
    assert isinstance(loss, FamilyLoss) and loss.name == name and loss.reduction == "sum"


# ------------------------------------------------------------------ the fused loss


def _mixed_logits(n: int, k: int, seed: int, dtype=torch.float64) -> tuple:
    """Random logits of scale 5 with every fourth row at the extremes ±1e4 (and a tie)."""
    gen = torch.Generator().manual_seed(seed)
    logits = 5 * torch.randn(n, k, generator=gen, dtype=dtype)
    extreme = 1e4 * torch.sign(torch.randn(n // 4, k, generator=gen, dtype=dtype))
    logits[::4] = extreme
    return logits, torch.randint(0, k, (n,), generator=gen)


FUSED_CASES = [*CASES, ("ce", {}, 2), ("ms", {"eta": 1.5}, 1000), ("focal", {"gamma": 0.5}, 1000)]


@pytest.mark.parametrize("name, params, k", FUSED_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_loss_equals_autograd_through_the_definition(name, params, k, reduction, weighted):
    logits, target = _mixed_logits(64, k, seed=k)
    weight = torch.rand(k, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    kw = {"reduction": reduction, "weight": weight if weighted else None, **params}
    results = []
    for fused in (True, False):
        x = logits.clone().requires_grad_(True)
        value = FamilyLoss(name, fused=fused, **kw)(x, target)
        (grad,) = torch.autograd.grad(value, x, torch.ones_like(value))
        results.append((value, grad))
    (v_fused, g_fused), (v_plain, g_plain) = results
    # Values and gradients differ in rounding only: log ξ by the order of the log-softmax's sum
    # (K < 16 assembles it from amax/exp/sum/log), the true class's gradient as (1 - ξ)·a in one
    # and a - ξ·a in the other, a few ulp of |a| <= 1e4 (spectral decoupling at logits ±1e4 has
    # a = z = 2e4): 1e-12 relative and absolute.
    torch.testing.assert_close(v_fused, v_plain, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_fused, g_plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "name, params, k", [c for c in FUSED_CASES if c[0] != "spectral-decoupling"]
)
def test_fused_loss_under_bf16_autocast_equals_autograd(name, params, k):
    logits, target = _mixed_logits(64, k, seed=5, dtype=torch.float32)
    logits[::4] = logits[::4].clamp(-3e3, 3e3)  # bf16 holds ±1e4 only to 3 digits: keep rows
    results = []
    for fused in (True, False):
        x = logits.clone().requires_grad_(True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            h = x.to(torch.bfloat16)  # the model's output dtype under autocast
            value = FamilyLoss(name, fused=fused, **params)(h, target)
        (grad,) = torch.autograd.grad(value, x)
        results.append((value, grad))
    (v_fused, g_fused), (v_plain, g_plain) = results
    assert v_fused.dtype == torch.float32 and g_fused.dtype == torch.float32
    # Both compute in float32 from the same bf16 logits, so the values agree to float32
    # rounding. The gradients reach x through the bf16 cast: float32 results a few ulp apart
    # can round to neighbouring bf16 values, 2^-8 relative (8-bit mantissa) apart at most.
    torch.testing.assert_close(v_fused, v_plain, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(g_fused, g_plain, rtol=2**-8, atol=1e-6)


def test_stationary_transform_is_fused_and_equals_its_autograd_form():
    logits, target = _mixed_logits(32, 7, seed=6)
    values = []
    for fused in (True, False):
        x = logits.clone().requires_grad_(True)
        loss = StationaryTransform("focal", eta=2.0, gamma=1.5, fused=fused)
        assert loss.fused is fused and loss.name == "focal+stationary"
        value = loss(x, target)
        values.append((value, torch.autograd.grad(value, x)[0]))
    torch.testing.assert_close(values[0][0], values[1][0], rtol=1e-12, atol=1e-12)  # as above
    torch.testing.assert_close(values[0][1], values[1][1], rtol=1e-12, atol=1e-12)  # as above


def test_derived_log_xi_derivative_is_the_symbolic_derivative():
    # ξ ℓ'(ξ) from the p/log_p/q/log_q symbols equals ξ·dℓ/dξ of msanalysis.symbolic's ℓ(ξ).
    for name, params, _ in CASES:
        loss = FamilyLoss(name, **params)
        views = {"p": S.XI, "q": 1 - S.XI, "log_p": sp.log(S.XI), "log_q": sp.log(1 - S.XI)}
        expr = loss._derivative.expression
        expr = expr.subs({s: views[s.name] for s in expr.free_symbols})
        exact = S.XI * sp.diff(S.loss(name, **params), S.XI)
        for xi in (sp.Rational(1, 7), sp.Rational(1, 2), sp.Rational(9, 10)):
            assert abs(float((expr - exact).subs(S.XI, xi))) < 1e-12, (name, xi)


def test_deferred_checks_record_nonfinite_losses_on_the_device_until_reset():
    good, bad = torch.zeros(4, 3), torch.tensor([[0.0, math.nan, 0.0]] * 4)
    target = torch.tensor([0, 1, 2, 0])
    for fused in (True, False):
        for reduction in ("mean", "none"):
            loss_fn = FamilyLoss("ms", check_values="deferred", fused=fused, reduction=reduction)
            loss_fn(good, target)
            seen = loss_fn.nonfinite_seen()
            assert seen.dtype == torch.bool and seen.dim() == 0 and not bool(seen)
            loss_fn(bad, target)  # no error: the flag records it
            loss_fn(good, target)  # a later finite batch does not clear it
            assert bool(loss_fn.nonfinite_seen())
            loss_fn.reset_nonfinite()
            assert not bool(loss_fn.nonfinite_seen())


def test_deferred_checks_skip_the_label_range_that_eager_checks():
    logits, target = torch.zeros(2, 3), torch.tensor([0, 5])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        FamilyLoss("ce")(logits, target)
    with pytest.raises((IndexError, RuntimeError)):  # torch's own index error, not a check
        FamilyLoss("ce", check_values="deferred")(logits, target)
    with pytest.raises(ValueError, match="check_values="):
        FamilyLoss("ce", check_values="sometimes")


def test_nonfinite_flag_is_a_buffer_that_moves_with_the_module_and_is_not_saved():
    loss_fn = FamilyLoss("ms", check_values="deferred").double()
    assert "_nonfinite" not in loss_fn.state_dict()
    assert loss_fn.nonfinite_seen().device == loss_fn._nonfinite.device


@pytest.mark.parametrize(
    "cls, name, shown",
    [
        (Focal, "focal", ("alpha", "gamma")),
        (TwoStationaryCE, "ms", ("eta",)),
        (MSFocal, "ms-focal", ("eta", "alpha", "gamma")),
        (CentredCE, "centred-ce", ("eta",)),
        (CrossEntropy, "ce", ()),
    ],
)
def test_loss_classes_have_explicit_signatures_with_the_registry_defaults(cls, name, shown):
    sig = inspect.signature(cls)
    spec = LOSSES[name]
    for param in spec.params:
        assert sig.parameters[param.name].default == param.default
    assert tuple(p.name for p in spec.params) == shown
    assert {"reduction", "weight", "check_values", "fused"} <= set(sig.parameters)
    assert cls().params == spec.defaults() and cls(fused=False).fused is False
