"""Core symbolic derivations: each asserts the mathematics, not a typed-in verdict."""

import importlib

import numpy as np
import pytest
import sympy as sp

from msanalysis import symbolic as S


def test_softmax_jacobian_is_an_identity_for_any_k():
    d_true, d_other = S.softmax_jacobian()
    assert sp.simplify(d_true - S.XI * (1 - S.XI)) == 0
    assert sp.simplify(d_other + S.XI * S.P_OTHER) == 0


def test_binary_logit_gradient_matches_chain_rule():
    for name, params in [("ce", {}), ("focal", {}), ("ms", {}), ("centred-ce", {})]:
        assert S.binary_logit_gradient_check(name, **params) == 0


def test_stationary_point_substitutes_back_to_zero():
    (point,) = S.stationary_points("ms", eta=sp.Rational(3, 2))
    assert point.exact and point.kind == "minimum"
    assert sp.simplify(S.grad_xi("ms", eta=sp.Rational(3, 2)).subs(S.XI, point.xi)) == 0


def test_thresholds_are_exact():
    assert S.eta_threshold("ms") == sp.Rational(1, 2)
    assert S.eta_threshold("centred-ce") == 1
    # Just above the threshold the closed-form root is inside (0, 1); at it, it is 1.
    root = max(S.stationary_closed_form("ms"), key=lambda r: r.subs(S.ETA, 1))
    assert sp.simplify(root.subs(S.ETA, sp.Rational(1, 2))) == 1
    assert root.subs(S.ETA, sp.Rational(51, 100)) < 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: S.loss("nope"), "unknown loss"),
        (lambda: S.loss("ms", eta=-1), "eta=-1"),
        (lambda: S.loss("ms", eta="abc"), "not a number"),
        (lambda: S.loss("ms", eta=[1]), "expected a number"),
        (lambda: S.loss("ms", gamma=1), "no parameter"),
        (lambda: S.stationary_points("ms"), "numeric hyper-parameters"),
        (lambda: S.eta_threshold("ce"), "no η parameter"),
        (lambda: S.grad_logit("ms", which="x"), "expected 'true' or 'other'"),
        (lambda: S.linear_system("ms", ((1, 2),)), "label in {0, 1}"),
    ],
)
def test_bad_arguments_get_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_string_numbers_are_exact():
    assert S.loss("ms", eta="3/2") == S.loss("ms", eta=sp.Rational(3, 2))


def test_threshold_with_a_symbolic_class_weight():
    """γ = 0 makes MS-focal α·CE plus the term: the threshold scales with α (α/2)."""
    threshold = S.eta_threshold("ms-focal", alpha=S.ALPHA, gamma=0)
    assert sp.simplify(threshold - S.ALPHA / 2) == 0
    assert threshold.subs(S.ALPHA, 1) == S.eta_threshold("ms")
    with pytest.raises(ValueError, match="pass numbers"):
        S.eta_threshold("ms-focal")


_U = sp.Symbol("u", positive=True)
_SIGNED = sp.Symbol("q")  # sign unknown: the shortcut must hand it to sympy.limit


@pytest.mark.parametrize(
    "term",
    [
        (sp.log(_U) - 1) / _U,  # sums: the term of least power and most log leads
        1 / _U - sp.log(_U) / _U**2,
        S.ETA - 1 + _U * sp.log(_U),
        -sp.Symbol("lambda", positive=True) * sp.log(_U) / _U,
        S.ETA * sp.log(_U) ** 2 / 2,
        sp.log(_U) ** 3 / sp.sqrt(_U),
        -3 * _U**3,
        2 * S.ETA * _U,
        S.ETA + _U,
        sp.Integer(0),
        _SIGNED * sp.log(_U),
        _SIGNED / _U,
        sp.exp(_U),  # not of the form: sympy.limit
    ],
)
def test_limit_at_zero_reads_what_sympy_limit_computes(term):
    assert S._limit_at_zero(term) == sp.limit(term, _U, 0, "+")


@pytest.mark.parametrize(
    "expr",
    [
        4 * S.ETA * S.XI - 2 * S.ETA,  # defined at both ends: the value
        sp.log(S.XI) / (2 * sp.sqrt(1 - S.XI)) - sp.sqrt(1 - S.XI) / S.XI,
        -2 * sp.log(S.XI) + sp.log(1 - S.XI),  # log(0): the leading term
        S.ETA * (1 - S.XI) * sp.log(1 - S.XI),  # 0·zoo = nan: the leading term
        (1 - S.XI) ** 2 / S.XI - 1 / S.XI,
        S.grad_xi("ms"),
        S.grad_xi("ms-focal", alpha=1, gamma=2),
    ],
)
@pytest.mark.parametrize("end", [0, 1])
def test_end_limit_is_sympy_limit(expr, end):
    side = "+" if end == 0 else "-"
    ours, sympy_limit = S.end_limit(expr, end), sp.limit(expr, S.XI, end, side)
    assert ours == sympy_limit or sp.simplify(ours - sympy_limit) == 0


def test_a_power_of_zero_with_a_symbolic_exponent_is_not_read_as_a_value():
    assert not S._defined(sp.Integer(0) ** (S.ETA - 1))
    assert S._defined(2 * S.ETA - 1) and not S._defined(sp.zoo) and not S._defined(sp.nan)


_T = sp.Symbol("t", positive=True)


@pytest.mark.parametrize(
    "expr",
    [
        -2 * sp.log(1 / (1 + sp.exp(-2 * _T))),  # CE along b = 1/2 (Theorem 1)
        sp.log(1 + sp.exp(-_T)) + 3 * sp.exp(-3 * _T) + 1,
        1 / (1 + sp.exp(-_T)),
        sp.exp(_T) / (1 + sp.exp(_T)),  # exp(+t) too: read as 1/v
        sp.exp(_T),  # infinite at v = 0: sympy.limit
        _T * sp.exp(-_T),  # t outside an exponential: sympy.limit
        sp.log(1 + sp.exp(_T)) - _T,
    ],
)
def test_limit_at_infinity_reads_what_sympy_limit_computes(expr):
    assert S.limit_at_infinity(expr, _T) == sp.limit(expr, _T, sp.oo)


def _fixed_parameters():
    from msanalysis.losses import LOSSES

    cases = [(name, spec.defaults()) for name, spec in LOSSES.items()]
    cases += [("ms", {"eta": 0.45}), ("ms-focal", {"gamma": 0}), ("ms-focal", {"gamma": 0.5})]
    cases += [("focal", {"alpha": 1, "gamma": 2}), ("centred-ce", {"eta": 0.75})]
    return cases


@pytest.mark.parametrize(("name", "params"), _fixed_parameters(), ids=str)
def test_grad_xi_with_numbers_is_the_derivative_of_the_loss_with_numbers(name, params):
    # grad_xi substitutes into the all-symbolic derivative; differentiating the loss with the
    # numbers already in must give the same expression, term for term.
    direct = sp.expand(sp.diff(S.loss(name, **params), S.XI), power_exp=False)
    assert S.grad_xi(name, **params) == direct


def _cancel_inputs():
    from msanalysis.losses import LOSSES

    exprs = [S.grad_xi(name) for name in LOSSES] + [S.grad_logit(name) for name in LOSSES]
    # Ratios and differences of the kind the ledger cancels, some with sign-flipped sums.
    exprs += [S.grad_logit("ms") / S.grad_logit("ce"), (S.XI - 1) / (1 - S.XI) ** 2]
    exprs += [sp.exp(-S.Z) / (1 + sp.exp(-S.Z)) - 1 / (1 + sp.exp(S.Z))]
    return exprs


@pytest.mark.parametrize("expr", _cancel_inputs(), ids=str)
def test_cancel_without_signsimp_is_sympy_cancel(expr):
    assert S.cancel(expr) == sp.cancel(expr)


@pytest.mark.skipif(not S._CANCEL_SKIPS_SIGNSIMP, reason="this sympy's cancel has no _signsimp")
def test_cancel_skips_the_signsimp_pass(monkeypatch):
    # sympy.simplify.simplify is both a module and a function; the module holds signsimp.
    module = importlib.import_module("sympy.simplify.simplify")

    def refuse(expr, evaluate=None):
        raise AssertionError("signsimp was called")

    expr = S.grad_logit("ms") / S.grad_logit("ce")
    expected = sp.cancel(expr)
    monkeypatch.setattr(module, "signsimp", refuse)
    with pytest.raises(AssertionError, match="signsimp was called"):
        sp.cancel(expr)  # the patch reaches sympy's cancel
    assert S.cancel(expr) == expected


def test_cancel_falls_back_to_sympy_cancel(monkeypatch):
    monkeypatch.setattr(S, "_CANCEL_SKIPS_SIGNSIMP", False)
    expr = (S.XI**2 - 1) / (S.XI - 1)
    assert S.cancel(expr) == sp.cancel(expr) == S.XI + 1


def test_to_numpy_gives_lambdify_numpy_floats():
    expr = S.grad_xi("ms-focal", eta=sp.Rational(3, 2))
    x = np.linspace(0.01, 0.99, 99)
    np.testing.assert_array_equal(S.to_numpy(S.XI, expr)(x), sp.lambdify(S.XI, expr, "numpy")(x))


@pytest.mark.parametrize(
    "expr",
    [
        2 * S.ETA - 1,
        1 - 2 * S.ETA,
        S.ETA + 1,
        -S.ETA - 1,
        3 - S.ETA / 2,
        S.ETA**2 - 2,
        sp.oo,
        -sp.oo,
        0,
        3,
    ],
)
def testpositive_etas_is_what_solveset_gives(expr):
    positive = sp.Interval.open(0, sp.oo)
    assert S.positive_etas(sp.sympify(expr)) == sp.solveset(sp.sympify(expr) > 0, S.ETA, positive)


@pytest.mark.parametrize(
    "expr",
    [
        sp.Rational(1, 4) + sp.sqrt(S.ETA + 4) / (4 * sp.sqrt(S.ETA)) - 1,
        sp.Rational(1, 4) - sp.sqrt(S.ETA + 4) / (4 * sp.sqrt(S.ETA)) - 1,  # squaring's root
        sp.Rational(3, 4) - sp.sqrt(S.ETA + 4) / (4 * sp.sqrt(S.ETA)),
        (S.ETA + 1) / (2 * S.ETA) - 1,
        (S.ETA**2 - 1) / (S.ETA - 1) - 2,  # the numerator's root is the denominator's
        S.ETA**2 - 2,
        S.ETA + 3,  # a root the positive symbol excludes
    ],
)
def test_solutions_are_the_checked_solve(expr):
    assert sorted(S.solutions(expr, S.ETA), key=str) == sorted(sp.solve(expr, S.ETA), key=str)
