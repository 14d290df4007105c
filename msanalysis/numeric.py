"""The numpy backend of the loss family, and its cross-check against sympy and torch autograd.

The losses are not rewritten here. :func:`true_class_from_logits` and
:func:`true_class_from_binary_logit` build the :class:`~msanalysis.losses.TrueClass` view from
logits, and ``LOSSES[name].bind(**params)`` evaluates the family's single definition on it.
Gradients for simulations come from :mod:`msanalysis.symbolic` through ``sympy.lambdify``
(:func:`logit_gradient_fn`, :func:`logit_curvature_fn`), never from a hand-written formula.
:mod:`msanalysis.gradient_check` compares this backend with sympy and torch autograd.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from . import symbolic
from .losses import TrueClass, get_loss

__all__ = [
    "true_class_from_logits",
    "true_class_from_binary_logit",
    "loss_from_logits",
    "logit_gradient_fn",
    "logit_curvature_fn",
]


def _check_finite(name: str, values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values; expected finite floats")


def true_class_from_binary_logit(z: Any) -> TrueClass[np.ndarray]:
    """The TrueClass view of ξ = σ(z) for binary logits z of the true class.

    Stability identities: log σ(z) = -log(1 + e^{-z}) = -logaddexp(0, -z) and
    log(1 - σ(z)) = -logaddexp(0, z); both are finite and relatively accurate for every finite
    z, and 1 - ξ = exp(log(1 - ξ)) keeps its digits as ξ -> 1.

    Args:
      z: array of finite logits (any shape); z > 0 means the sample is classified correctly.

    Returns:
      A TrueClass of float64 arrays with the shape of ``z``.

    Examples:
      >>> t = true_class_from_binary_logit([0.0, 40.0])
      >>> t.p.tolist(), t.log_q.tolist()  # 1 - ξ = e^-40 keeps its digits: log(1 - ξ) = -40
      ([0.5, 1.0], [-0.6931471805599453, -40.0])
    """
    z = np.asarray(z, dtype=np.float64)
    _check_finite("z", z)
    log_p, log_q = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    return TrueClass(p=np.exp(log_p), log_p=log_p, q=np.exp(log_q), log_q=log_q)


def true_class_from_logits(logits: Any, target: Any) -> TrueClass[np.ndarray]:
    """ξ, log ξ, 1 - ξ and log(1 - ξ) of each sample's true class, from softmax logits.

    Identity: ξ = e^{o_t} / (e^{o_t} + e^{L}) = σ(o_t - L) with L = logsumexp of the other
    classes' logits (max-shifted by scipy), so the view is :func:`true_class_from_binary_logit`
    of z = o_t - L. Unlike o_t - logsumexp(o), this keeps log ξ and 1 - ξ to relative precision
    when ξ is within 1e-16 of 1, and log(1 - ξ) finite there.

    Args:
      logits: (N, K) finite floats, K >= 2.
      target: (N,) integer class indices in [0, K).

    Returns:
      A TrueClass of (N,) float64 arrays.

    Examples:
      >>> t = true_class_from_logits([[2.0, 0.0], [0.0, 0.0]], [0, 1])
      >>> t.p.round(6).tolist()  # σ(2) and a tie
      [0.880797, 0.5]
    """
    logits = np.asarray(logits, dtype=np.float64)
    target = np.asarray(target)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (N, K) with K >= 2; got {logits.shape}")
    if target.shape != logits.shape[:1] or not np.issubdtype(target.dtype, np.integer):
        raise ValueError(
            f"target must be {logits.shape[:1]} integers; got {target.shape} {target.dtype}"
        )
    if np.any((target < 0) | (target >= logits.shape[1])):
        raise ValueError(f"target out of range; class indices must lie in [0, {logits.shape[1]})")
    _check_finite("logits", logits)
    from scipy.special import logsumexp  # here, not at import: the verify path needs no scipy

    true_logit = np.take_along_axis(logits, target[:, None], axis=1)[:, 0]
    others = np.where(np.arange(logits.shape[1]) == target[:, None], -np.inf, logits)
    return true_class_from_binary_logit(true_logit - logsumexp(others, axis=1))


def loss_from_logits(name: str, logits: Any, target: Any, **params: Any) -> np.ndarray:
    """Per-sample loss ``name`` of the family on softmax logits (N, K); returns (N,).

    Examples:
      >>> loss_from_logits("ms", [[0.0, 0.0]], [0], eta=1.5).round(6).tolist()  # log 2 + 0.75
      [1.443147]
    """
    spec = get_loss(name)
    if spec.binary_only and np.shape(logits)[-1] != 2:
        raise ValueError(f"loss {name!r} is binary only; logits must have K = 2 columns")
    return spec.bind(**params)(true_class_from_logits(logits, target))


def _lambdify(expr: sp.Expr, sweep: Sequence[str]) -> Callable[..., Any]:
    return symbolic.to_numpy((symbolic.XI, *(symbolic.SYMBOLS[s] for s in sweep)), expr)


def logit_gradient_fn(
    name: str, *, sweep: Sequence[str] = (), **params: Any
) -> Callable[..., np.ndarray]:
    """dℓ/dz of a binary true-class logit z (ξ = σ(z)) as a numpy function of ξ.

    This is :func:`msanalysis.symbolic.grad_logit` ``(name, 'true')``: for K = 2 the true-class
    probability is σ(o_true - o_other), so dℓ/do_true = dℓ/dz
    (:func:`msanalysis.symbolic.binary_logit_gradient_check` proves it).

    Args:
      name: a loss of the family.
      sweep: hyper-parameter names left symbolic and passed as array arguments after ξ
        (for vectorised sweeps over η).
      **params: the other hyper-parameters (defaults filled from the registry).

    Returns:
      ``f(xi, *sweep_values) -> array``, broadcasting over its arguments.

    Examples:
      >>> grad = logit_gradient_fn("ms", eta=1.5)
      >>> grad(np.array([0.25, 0.5])).tolist()  # -(ξ - 1)(6ξ² - 3ξ - 1)
      [-1.03125, -0.5]
      >>> logit_gradient_fn("ms", sweep=("eta",))(0.5, np.array([0.5, 1.5])).tolist()
      [-0.5, -0.5]
    """
    return _logit_fn("gradient", name, tuple(sweep), _key(_fixed(name, sweep, params)))


def logit_curvature_fn(
    name: str, *, sweep: Sequence[str] = (), **params: Any
) -> Callable[..., np.ndarray]:
    """d²ℓ/dz² of a binary true-class logit as a numpy function of ξ (same arguments as above).

    The chain rule d/dz = (dξ/dz) d/dξ with dξ/dz from :func:`symbolic.softmax_jacobian`.

    Examples:
      >>> float(logit_curvature_fn("ce")(0.5))  # d(ξ - 1)/dz = ξ(1 - ξ)
      0.25
    """
    return _logit_fn("curvature", name, tuple(sweep), _key(_fixed(name, sweep, params)))


def _key(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(params.items()))


@cache
def _logit_fn(
    kind: str, name: str, sweep: tuple[str, ...], params: tuple[tuple[str, Any], ...]
) -> Callable[..., np.ndarray]:
    """The lambdified gradient or curvature, built once per setting (a pure function)."""
    grad = symbolic.grad_logit(name, "true", **dict(params))
    if kind == "gradient":
        return _lambdify(grad, sweep)
    d_true, _ = symbolic.softmax_jacobian()
    return _lambdify(sp.diff(grad, symbolic.XI) * d_true, sweep)


def _fixed(name: str, sweep: Sequence[str], params: dict[str, Any]) -> dict[str, Any]:
    """Registry defaults plus given values, without the swept names (they stay symbols)."""
    full = {**get_loss(name).defaults(), **params}
    return {k: v for k, v in full.items() if k not in sweep}
