r"""The η threshold found by gradient descent, on a grid of η, vectorised.

Setting: one positive sample at x = 1, plain score s = w x + b, so the true-class logit is
z = w + b and the data loss is ℓ(σ(z)) itself: GD on (w, b) moves z by -2·lr·ℓ'(z) per step.
A finite stationary point of this problem is exactly a root of dℓ/dξ in (0, 1), so the GD
threshold should be :func:`msanalysis.symbolic.eta_threshold`.

Why the obvious criterion cannot work. Just above the threshold the stationary logit z* is
far out (MS at η = 1/2 + δ: 1 - ξ* ≈ 2δ/3, z* ≈ 7.3 for δ = 10⁻³) and the curvature there is
about (1 - ξ*)² ~ 10⁻⁷, so from z = 0 GD needs ~10⁶ steps to get there; after 10⁴ steps the
runs just above and just below the threshold look the same (z ≈ 5.5, still climbing), and a
run started beyond z* has gradients ~10⁻¹² that look "converged" whether or not z* exists.
:attr:`SweepResult.threshold_naive` reports what the end-state criterion "|∇| < 1e-8 and z moved
< 1e-6 over the last 10% of steps, for every initialisation below z_cap" gives, to show this
(the run from z_cap is left out of it: its gradients are so small that it would pass).

The criterion used: order preservation. With 2·lr·sup|ℓ''| < 1 the GD map
z ↦ z - 2·lr·ℓ'(z) is strictly increasing, so iterates never cross a fixed point and every run
is monotone. ℓ'(z) < 0 as z → -∞ (checked symbolically: lim_{ξ→0} dℓ/dz < 0). Hence, if the
run started at the largest initial logit ``z_cap`` moves *down*, ℓ'(z_cap) > 0, a fixed point
lies below z_cap, and every run from an initial logit <= z_cap is monotone and trapped between
fixed points: all runs converge to a finite point. If it moves up, no run reaches a
stationary point below z_cap (ξ < σ(z_cap) = 1 - 8.3e-7 for z_cap = 14): the run diverges or
stops beyond z_cap, which this experiment counts as "no finite convergence". The resolution
is therefore set by z_cap, not by the step budget: η within ~10⁻⁶ of the MS threshold would be
misclassified, far below the grid step 10⁻³.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import sympy as sp

from . import symbolic
from .losses import get_loss
from .numeric import logit_curvature_fn, logit_gradient_fn
from .simulate import Dataset, gradient, stable_lr

__all__ = ["Z_CAP", "ONE_POINT", "SweepResult", "sweep_eta", "phase_table"]

Z_CAP = 14.0
"""Largest initial logit: σ(14) = 1 - 8.3e-7, where the float ξ still gives 1 - ξ to 10 digits."""

ONE_POINT = Dataset(
    "one-point", np.array([[1.0]]), np.array([1.0]), "one positive at x = 1 (plain score)"
)


@dataclass
class SweepResult:
    """GD over an η grid and initial logits for one loss.

    Attributes:
      loss, params: the loss and its other hyper-parameters.
      etas: (n_eta,) the grid, k·eta_step for k = 1..n_eta.
      inits: (n_init,) initial logits z_0 (w_0 = b_0 = z_0 / 2).
      lr, steps: the GD step size and number of steps.
      z_final: (n_eta, n_init) final logits.
      certified: (n_eta,) the run from ``Z_CAP`` moved down: every run converges (see module doc).
      naive: (n_eta,) the end-state criterion held for every initialisation below ``Z_CAP``.
      threshold_empirical: the largest grid η that is not certified (all above are), or 0 if
        every grid η is; threshold_naive: the same for ``naive``.
      threshold_symbolic: :func:`msanalysis.symbolic.eta_threshold`, as a float.
      agrees: |threshold_empirical - threshold_symbolic| <= eta_step.
      monotone_phases: the certified set is one upper interval of the grid.
      seconds: wall time of the vectorised GD.
    """

    loss: str
    params: dict[str, Any]
    etas: np.ndarray
    eta_step: float
    inits: np.ndarray
    lr: float
    steps: int
    z_final: np.ndarray
    certified: np.ndarray
    naive: np.ndarray
    threshold_empirical: float
    threshold_naive: float
    threshold_symbolic: float
    agrees: bool
    monotone_phases: bool
    seconds: float


def _threshold(etas: np.ndarray, ok: np.ndarray, step: float) -> float:
    """Largest grid η with ``ok`` False, or the grid's lower end (etas[0] - step) if none."""
    return float(etas[~ok].max()) if np.any(~ok) else float(etas[0] - step)


def _check_left_tail(name: str, params: dict[str, Any]) -> None:
    """The order argument needs ℓ'(z) < 0 as z → -∞, i.e. lim_{ξ→0⁺} dℓ/dz < 0 for all η."""
    limit = sp.limit(symbolic.grad_logit(name, "true", **params), symbolic.XI, 0, "+")
    if not limit.is_negative:
        raise ArithmeticError(
            f"lim dℓ/dz at ξ → 0 of {name!r} is {limit}, not negative: the criterion does not apply"
        )


def _curvature_etas(loss: str, params: dict[str, Any], etas: np.ndarray) -> np.ndarray:
    """The η values (as a column) whose curvature bounds the curvature on the whole grid.

    For a loss affine in η (ℓ = base + η·term, checked symbolically: ∂²ℓ/∂η² = 0) ℓ'' is affine
    in η too, and |ℓ''(z)| is convex in η, so at every z its largest value on the grid is at
    one of the grid's two ends: the bound is the same as over all of it, at a fraction of the
    cost. Any other loss gets the whole grid.
    """
    if sp.diff(symbolic.loss(loss, **params), symbolic.ETA, 2) == 0:
        return etas[[0, -1], None]
    return etas[:, None]


def sweep_eta(
    loss: str,
    *,
    n_eta: int = 2001,
    eta_step: float = 1e-3,
    steps: int = 10000,
    inits: Sequence[float] = (-2.0, 0.0, 3.0, Z_CAP),
    lr: float | None = None,
    **params: Any,
) -> SweepResult:
    """Vectorised GD for every (η, z_0) pair at once; see the module docstring for the criterion.

    Args:
      loss: a loss with an η parameter.
      n_eta: grid size (η = eta_step, 2·eta_step, ..., n_eta·eta_step).
      steps: GD steps (>= 10).
      inits: initial logits; the largest must be ``Z_CAP`` or less and is the certifying run.
      lr: step size; default half of :func:`~msanalysis.simulate.stable_lr` over the grid. A
        larger one is refused where it breaks 2·lr·sup|ℓ''| < 1, which the criterion needs.
      **params: the loss's other hyper-parameters.

    Returns:
      A :class:`SweepResult`.
    """
    spec = get_loss(loss)
    if "eta" not in {p.name for p in spec.params}:
        raise ValueError(f"loss {loss!r} has no η parameter; choose a loss of the MS family")
    if n_eta < 1 or steps < 10 or not eta_step > 0:
        raise ValueError(
            f"need n_eta >= 1, steps >= 10, eta_step > 0; got {n_eta}, {steps}, {eta_step}"
        )
    inits = np.sort(np.asarray(inits, dtype=np.float64))
    if not np.all(np.isfinite(inits)) or inits[-1] > Z_CAP:
        raise ValueError(f"inits must be finite and <= Z_CAP = {Z_CAP}; got {inits.tolist()}")
    params = {k: v for k, v in spec.validate({"eta": 1.0, **params}).items() if k != "eta"}
    _check_left_tail(loss, params)
    etas = eta_step * np.arange(1, n_eta + 1)
    eta_col = np.repeat(etas, len(inits))[:, None]
    f = logit_gradient_fn(loss, sweep=("eta",), **params)
    curvature = logit_curvature_fn(loss, sweep=("eta",), **params)
    # stable_lr gives 2·lr·sup|ℓ''| = 1 here (a = 1, Σ(x² + 1) = 2); half of it keeps the
    # GD map strictly increasing, as the order argument needs.
    bound = stable_lr(
        lambda xi: curvature(xi[None, :], _curvature_etas(loss, params, etas)), ONE_POINT, "plain"
    )
    lr = 0.5 * bound if lr is None else lr
    if not 0 < lr < bound:
        raise ValueError(f"lr={lr}; the order certificate needs 0 < lr < {bound:.6g} on this grid")
    w = np.tile(inits / 2, n_eta)[:, None]
    b = np.tile(inits / 2, n_eta)
    z_hist = []
    start = time.perf_counter()
    for t in range(steps):
        gw, gb = gradient(ONE_POINT, w, b, lambda xi: f(xi, eta_col), "plain")
        w -= lr * gw
        b -= lr * gb
        if t == steps - steps // 10 - 1:
            z_hist.append(w[:, 0] + b)
    seconds = time.perf_counter() - start
    gw, gb = gradient(ONE_POINT, w, b, lambda xi: f(xi, eta_col), "plain")
    z_final = (w[:, 0] + b).reshape(n_eta, len(inits))
    moved = np.abs(z_final - z_hist[0].reshape(n_eta, len(inits)))
    grad_norm = np.hypot(gw[:, 0], gb).reshape(n_eta, len(inits))
    naive = np.all(((grad_norm < 1e-8) & (moved < 1e-6))[:, inits < Z_CAP], axis=1)
    certified = z_final[:, -1] < inits[-1]
    sym = float(symbolic.eta_threshold(loss, **params))
    emp = _threshold(etas, certified, eta_step)
    first_ok = int(np.argmax(certified)) if np.any(certified) else n_eta
    return SweepResult(
        loss=loss,
        params=params,
        etas=etas,
        eta_step=eta_step,
        inits=inits,
        lr=lr,
        steps=steps,
        z_final=z_final,
        certified=certified,
        naive=naive,
        threshold_empirical=emp,
        threshold_naive=_threshold(etas, naive, eta_step),
        threshold_symbolic=sym,
        agrees=bool(abs(emp - sym) <= eta_step * (1 + 1e-9)),
        monotone_phases=bool(np.all(certified[first_ok:]) and not np.any(certified[:first_ok])),
        seconds=seconds,
    )


def phase_table(results: Sequence[SweepResult]) -> str:
    """Markdown: per loss, the η intervals of constant (certified, naive) verdict; thresholds."""
    lines = [
        "| loss | η interval | all runs converge (order certificate) | end-state criterion says "
        "converged "
        "| mean final z (from 0) |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        verdict = np.c_[r.certified, r.naive]
        cuts = [0, *np.flatnonzero(np.any(verdict[1:] != verdict[:-1], axis=1)) + 1, len(r.etas)]
        z0 = int(np.argmin(np.abs(r.inits)))
        for lo, hi in pairwise(cuts):
            lines.append(
                f"| {r.loss} | [{r.etas[lo]:.4g}, {r.etas[hi - 1]:.4g}] | "
                f"{bool(r.certified[lo])} | "
                f"{bool(r.naive[lo])} | {np.mean(r.z_final[lo:hi, z0]):.3g} |"
            )
    lines += [
        "",
        "| loss | threshold (GD, certificate) | threshold (GD, end-state) | threshold (sympy) | "
        "grid step "
        "| agree |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.loss} | {r.threshold_empirical:.4g} | {r.threshold_naive:.4g} | "
            f"{r.threshold_symbolic:.6g} | "
            f"{r.eta_step:g} | {r.agrees} |"
        )
    return "\n".join(lines)
