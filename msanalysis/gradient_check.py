"""Cross-check of the loss family: sympy (100 digits) vs torch autograd vs numpy, float64.

Three evaluations of one definition (:mod:`msanalysis.losses`) are compared: the sympy
expressions of :mod:`msanalysis.symbolic` evaluated with mpmath at 100 significant digits at the
exact float64 logits (the reference), torch autograd of the torch form
(:mod:`msanalysis.training.losses`), and the numpy form (:mod:`msanalysis.numeric`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from . import symbolic
from .losses import LOSSES, TrueClass, get_loss
from .numeric import loss_from_logits, true_class_from_logits

__all__ = [
    "REL_FLOOR",
    "relative_error",
    "LossCheck",
    "gradient_check_params",
    "check_loss_gradients",
    "check_gradients",
]


REL_FLOOR = 1e-4
"""Floor of the denominator in :func:`relative_error`.

The torch form computes log ξ as o - logsumexp(o) and the true-logit gradient as softmax minus
one-hot: these carry an absolute rounding error of about one ulp of the largest term,
ulp(50) = 7.1e-15 for the logits checked (|o| <= 50), however small the exact value is
(ξ - 1 = -e^{-100} comes out as 0). A relative error of such a value measures float64, not
the loss, so values below the floor are compared absolutely: with the floor 1e-4 the 1e-10
target allows an absolute error of 1e-14 (1.4 ulp(50)) there, and means 10 significant digits
for every value of magnitude >= 1e-4.
"""


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = REL_FLOOR) -> np.ndarray:
    """|a - b| / max(|b|, floor): relative error above ``floor``, absolute/floor below it.

    Entries where ``a`` is not finite (and ``b`` is) get +inf, so a NaN can never hide.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b) / np.maximum(np.abs(b), floor)
    return np.where(np.isfinite(a) | ~np.isfinite(b), err, np.inf)


@dataclass(frozen=True)
class LossCheck:
    """Largest errors of one loss across K and logit sets (see :func:`check_gradients`).

    Attributes:
      name: the loss.
      params: its hyper-parameters.
      ks: the numbers of classes checked.
      n_points: samples checked in all.
      grad_xi: dℓ/dξ, torch autograd vs sympy.
      grad_true, grad_other: dℓ/do for the true logit and the other logits, autograd vs sympy.
      loss_torch, loss_numpy: the loss value of torch and of numpy vs sympy.
      numpy_vs_torch: the numpy loss value vs the torch loss value.
      nonfinite: {form: number of samples where that form (torch, numpy) gave inf or NaN in
        the loss or a gradient while the reference is finite}; the errors above are the
        largest over the finite entries, so this count must be read with them.
    """

    name: str
    params: dict[str, float]
    ks: tuple[int, ...]
    n_points: int
    grad_xi: float
    grad_true: float
    grad_other: float
    loss_torch: float
    loss_numpy: float
    numpy_vs_torch: float
    nonfinite: dict[str, int]

    @property
    def max_rel_error(self) -> float:
        """The largest of the six errors (over finite entries; see ``nonfinite``)."""
        return max(
            self.grad_xi,
            self.grad_true,
            self.grad_other,
            self.loss_torch,
            self.loss_numpy,
            self.numpy_vs_torch,
        )


def gradient_check_params(name: str) -> dict[str, float]:
    """Hyper-parameters used by the check: the registry defaults (η = 1.5 of Figure 5, ...)."""
    return get_loss(name).defaults()


def _logit_sets(k: int, n_random: int, seed: int) -> np.ndarray:
    """Random logits (scale 3), random extreme logits (|o| <= 50) and the corner cases.

    Corners: true logit +50 and the others -50 (ξ within e^{-100} of 1), the reverse
    (ξ ~ e^{-100}), all equal (ξ = 1/K), and the true logit tied with one other at +50.
    """
    rng = np.random.default_rng(seed)
    corners = np.full((4, k), -50.0)
    corners[0, 0] = 50.0
    corners[1, 1:] = 50.0
    corners[2] = 0.0
    corners[3, :2] = 50.0
    return np.concatenate(
        [3.0 * rng.standard_normal((n_random, k)), rng.uniform(-50, 50, (n_random, k)), corners]
    )


def _reference(name: str, params: dict[str, float], logits: np.ndarray) -> dict[str, np.ndarray]:
    """Sympy expressions at the exact float64 logits, evaluated with 100-digit mpmath."""
    exprs = {
        "loss": symbolic.loss(name, **params),
        "grad_xi": symbolic.grad_xi(name, **params),
        "grad_true": symbolic.grad_logit(name, "true", **params),
        "grad_other": symbolic.grad_logit(name, "other", **params),
    }
    fns = {
        key: sp.lambdify((symbolic.XI, symbolic.P_OTHER), e, "mpmath") for key, e in exprs.items()
    }
    n, k = logits.shape
    out = {
        "loss": np.empty(n),
        "grad_xi": np.empty(n),
        "grad_true": np.empty(n),
        "grad_other": np.empty((n, k - 1)),
    }
    with mpmath.workdps(100):
        for i, row in enumerate(logits):
            e = [mpmath.exp(mpmath.mpf(float(o))) for o in row]
            total = mpmath.fsum(e)
            xi = e[0] / total
            for key in ("loss", "grad_xi", "grad_true"):
                out[key][i] = float(fns[key](xi, 0))
            out["grad_other"][i] = [float(fns["grad_other"](xi, ej / total)) for ej in e[1:]]
    return out


def _torch_side(name: str, params: dict[str, float], logits: np.ndarray) -> dict[str, np.ndarray]:
    """Torch loss, its autograd w.r.t. the logits, and autograd w.r.t. ξ (class 0 is true)."""
    import torch

    from .training.losses import true_class_from_logits as torch_true_class

    loss_fn = LOSSES[name].bind(**params)
    o = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    target = torch.zeros(len(logits), dtype=torch.long)
    value = loss_fn(torch_true_class(o, target))
    (d_logits,) = torch.autograd.grad(value.sum(), o)
    # dℓ/dξ: the same torch form on a TrueClass built from a ξ leaf (log1p keeps log(1 - ξ)).
    xi = torch.exp(torch_true_class(o.detach(), target).log_p).requires_grad_(True)
    view = TrueClass(p=xi, log_p=torch.log(xi), q=1 - xi, log_q=torch.log1p(-xi))
    (d_xi,) = torch.autograd.grad(loss_fn(view).sum(), xi)
    return {
        "loss": value.detach().numpy(),
        "grad_xi": d_xi.numpy(),
        "grad_true": d_logits[:, 0].numpy(),
        "grad_other": d_logits[:, 1:].numpy(),
    }


def _well_conditioned_xi(logits: np.ndarray) -> np.ndarray:
    """Rows where ξ and 1 - ξ are both representable to float64 relative precision from ξ.

    dℓ/dξ is a function of the float ξ itself; when 1 - ξ < 1e-6 the float ξ fixes 1 - ξ only
    to ~1e-10 relative, and when ξ rounds to 1 not at all. Those rows are excluded from the
    dℓ/dξ comparison only (the logit gradients are compared on every row).
    """
    xi = true_class_from_logits(logits, np.zeros(len(logits), dtype=np.int64)).p
    return (1.0 - xi > 1e-6) & (xi > 1e-300)


def check_loss_gradients(
    name: str, *, ks: Sequence[int] = (2, 3, 10), n_random: int = 32, seed: int = 0
) -> LossCheck:
    """Cross-check one loss of the family: sympy vs torch autograd vs numpy, float64.

    For each K (only K = 2 for binary-only losses) the logits of :func:`_logit_sets` are
    evaluated three ways; the reference is the sympy expression at the exact float64 logits,
    computed with 100 significant digits, so it is correct to float64 precision everywhere.

    Errors are :func:`relative_error` with floor :data:`REL_FLOOR`; dℓ/dξ is compared only on
    rows where the float ξ determines 1 - ξ (:func:`_well_conditioned_xi`).

    Returns:
      The largest error of each comparison.
    """
    spec = get_loss(name)
    params = gradient_check_params(name)
    ks = (2,) if spec.binary_only else tuple(ks)
    worst = dict.fromkeys(
        ("grad_xi", "grad_true", "grad_other", "loss_torch", "loss_numpy", "numpy_vs_torch"), 0.0
    )
    nonfinite = {"torch": 0, "numpy": 0}
    n_points = 0
    for k in ks:
        logits = _logit_sets(k, n_random, seed + k)
        ref = _reference(name, params, logits)
        tor = _torch_side(name, params, logits)
        num = loss_from_logits(name, logits, np.zeros(len(logits), dtype=np.int64), **params)
        good = _well_conditioned_xi(logits)
        errors = {
            "grad_xi": relative_error(tor["grad_xi"][good], ref["grad_xi"][good]),
            "grad_true": relative_error(tor["grad_true"], ref["grad_true"]),
            "grad_other": relative_error(tor["grad_other"], ref["grad_other"]),
            "loss_torch": relative_error(tor["loss"], ref["loss"]),
            "loss_numpy": relative_error(num, ref["loss"]),
            "numpy_vs_torch": relative_error(num, tor["loss"]),
        }
        for key, err in errors.items():
            worst[key] = max(worst[key], float(np.max(err[np.isfinite(err)], initial=0.0)))
        finite_torch = np.isfinite(tor["loss"]) & np.isfinite(tor["grad_true"])
        bad_torch = ~(finite_torch & np.all(np.isfinite(tor["grad_other"]), axis=1))
        nonfinite["torch"] += int(np.sum(bad_torch))
        nonfinite["numpy"] += int(np.sum(~np.isfinite(num)))
        n_points += len(logits)
    return LossCheck(
        name=name, params=params, ks=ks, n_points=n_points, nonfinite=nonfinite, **worst
    )


def check_gradients(
    *, ks: Sequence[int] = (2, 3, 10), n_random: int = 32, seed: int = 0
) -> list[LossCheck]:
    """:func:`check_loss_gradients` for every loss of the family."""
    return [check_loss_gradients(name, ks=ks, n_random=n_random, seed=seed) for name in LOSSES]
