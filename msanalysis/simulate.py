"""Full-batch gradient descent on small linear models: do the theorems' claims hold?

The model gives the positive class the probability σ(s(x)) with the score
s(x) = a (w·x + b) + c: ``plain`` is (a, c) = (1, 0), ``odd`` is the appendix's
s = 2(w·x + b) - 1 of eqs. 12, 17-18. A sample with label y ∈ {+1, -1} has the true-class
logit z = y s(x), so ξ = σ(z) and the loss of the family is ℓ(ξ). The data loss is the sum
over samples, as in eq. 19.

Gradients: dℓ/dz is :func:`msanalysis.symbolic.grad_logit` lambdified
(:func:`msanalysis.numeric.logit_gradient_fn`); the only other step is the chain rule
ds/dw = a x, ds/db = a. Nothing else is hand-written.

:func:`simulate` returns a :class:`SimulationResult` with the verdicts computed from the run:
convergence, the final boundary against the hard-margin SVM boundary (exact), the final point
against the sympy stationary point (Newton at 30 digits from the GD end point), and the growth
of |w|.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

import numpy as np
import sympy as sp

from . import symbolic
from .losses import get_loss
from .numeric import logit_curvature_fn, logit_gradient_fn, true_class_from_binary_logit
from .registry import lookup

__all__ = [
    "Dataset",
    "DATASETS",
    "get_dataset",
    "PARAMETRISATIONS",
    "MaxMargin",
    "max_margin",
    "segment_distance",
    "gradient",
    "descend",
    "data_loss",
    "stable_lr",
    "SimulationResult",
    "simulate",
]

Parametrisation = Literal["plain", "odd"]
PARAMETRISATIONS: dict[str, tuple[float, float]] = {"plain": (1.0, 0.0), "odd": (2.0, -1.0)}
"""Score s = a (w·x + b) + c as (a, c): plain σ(w·x + b), or the appendix's σ(2(w·x + b) - 1)."""


@dataclass(frozen=True)
class Dataset:
    """Labelled points: ``x`` (n, d) floats, ``y`` (n,) in {+1, -1}.

    ``two_point`` marks Theorem 2's data (positives at +1, negatives at -1), whose stationary
    point :func:`msanalysis.symbolic.two_point_system` describes.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    description: str
    two_point: bool = False


def _dataset(
    name: str, positives: list, negatives: list, description: str, two_point: bool = False
) -> Dataset:
    x = np.array(positives + negatives, dtype=np.float64).reshape(
        len(positives) + len(negatives), -1
    )
    y = np.array([1.0] * len(positives) + [-1.0] * len(negatives))
    return Dataset(name, x, y, description, two_point)


def _segments(n: int = 9, gap: float = 1.8) -> Dataset:
    # Figure 1: two parallel horizontal segments, vertical gap 1.8; offset so that the data
    # are not mirror-symmetric and the direction of the boundary is not fixed by symmetry.
    pos = [[t, gap / 2] for t in np.linspace(-3.0, 1.0, n)]
    neg = [[t, -gap / 2] for t in np.linspace(-1.0, 3.0, n)]
    return _dataset(
        "segments",
        pos,
        neg,
        f"Figure 1: segments y=+{gap / 2} (x in [-3,1]) and y=-{gap / 2} (x in [-1,3])",
    )


DATASETS: dict[str, Callable[[], Dataset]] = {
    "paper-4pt": lambda: _dataset(
        "paper-4pt", [1, 1], [-1, -1], "Theorem 2: positives at +1, negatives at -1", True
    ),
    "asymmetric": lambda: _dataset(
        "asymmetric", [1, 3], [-1], "positives at 1 and 3, a negative at -1"
    ),
    "imbalanced": lambda: _dataset(
        "imbalanced", [1] * 5, [-1], "5 positives at 1, 1 negative at -1"
    ),
    "imbalanced-spread": lambda: _dataset(
        "imbalanced-spread", [1, 1.5, 2, 2.5, 3], [-1], "5 positives in [1, 3], 1 negative at -1"
    ),
    "overlapping": lambda: _dataset(
        "overlapping",
        [-0.5, 1, 2],
        [-2, -1, 0.5],
        "non-separable: positives -0.5, 1, 2; negatives -2, -1, 0.5",
    ),
    "segments": _segments,
}


def get_dataset(name: str) -> Dataset:
    """A named data set, with an error that lists the valid names."""
    return lookup(DATASETS, name, kind="dataset")()


@dataclass(frozen=True)
class MaxMargin:
    """The hard-margin SVM: y (w·x + b) >= 1 with |w| smallest; ``margin`` = 1/|w|."""

    w: np.ndarray
    b: float
    margin: float


def max_margin(x: np.ndarray, y: np.ndarray) -> MaxMargin | None:
    """Hard-margin SVM (min |w|²/2 s.t. y_i (w·x_i + b) >= 1), exact; None if not separable.

    The problem is a strictly convex QP in w, so a point meeting its KKT conditions is the
    optimum. Some optimal multiplier vector has at most d + 1 non-zero entries (a vertex of
    {λ >= 0: w = Σ λ_i y_i x_i, Σ λ_i y_i = 0}), so the active sets of up to d + 1 points are
    enumerated: each gives the linear system y_i (w·x_i + b) = 1 on the set with
    w = Σ λ_i y_i x_i and Σ λ_i y_i = 0, kept when λ >= 0 and every constraint holds. For the
    few points of these data sets that is a few hundred 4 × 4 solves, exact to rounding, where
    an iterative solver (SLSQP) stopped at ~1e-8 and needed scipy.optimize.
    """
    n, d = x.shape
    for size in range(2, min(n, d + 1) + 1):
        for active in combinations(range(n), size):
            idx = list(active)
            if abs(y[idx].sum()) == size:  # one class only: Σ λ_i y_i = 0 forces λ = 0
                continue
            found = _kkt_point(x, y, idx)
            if found is not None:
                w, b = found
                return MaxMargin(w=w, b=b, margin=float(1.0 / np.linalg.norm(w)))
    return None


def _kkt_point(x: np.ndarray, y: np.ndarray, idx: list[int]) -> tuple[np.ndarray, float] | None:
    """(w, b) with the constraints of ``idx`` active, if it satisfies the KKT conditions."""
    xs, ys = x[idx], y[idx]
    k = len(idx)
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = (ys[:, None] * ys[None, :]) * (xs @ xs.T)
    system[:k, k] = ys
    system[k, :k] = ys
    rhs = np.r_[np.ones(k), 0.0]
    if np.linalg.matrix_rank(system) < k + 1:
        return None
    solution = np.linalg.solve(system, rhs)
    lam, b = solution[:k], float(solution[k])
    w = (lam * ys) @ xs
    # 1e-9: rounding of a 4 × 4 solve on inputs of order 1 is ~1e-15; a multiplier or margin
    # off by more than 1e-9 belongs to another active set.
    if np.min(lam) < -1e-9 or np.min(y * (x @ w + b)) < 1.0 - 1e-9:
        return None
    return w, b


def segment_distance(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> float:
    """Euclidean distance between two non-crossing 2-D segments.

    It is the smallest endpoint-to-segment distance, which holds because they do not cross.
    """

    def point_to_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        t = np.clip((p - a) @ (b - a) / ((b - a) @ (b - a)), 0.0, 1.0)
        return float(np.linalg.norm(p - (a + t * (b - a))))

    ends = [(p0, q0, q1), (p1, q0, q1), (q0, p0, p1), (q1, p0, p1)]
    return min(point_to_segment(p, a, b) for p, a, b in ends)


def _expit(z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow, as scipy.special.expit computes it: 1 / (1 + e^{-z}) for z >= 0,
    e^z / (1 + e^z) below (numpy only, so that the simulations need no scipy)."""
    # e^{min(z, 0)} is 1 for z >= 0 and e^z = e^{-|z|} below, bit for bit: the numerator of
    # both branches, in fewer array operations than a where().
    return np.exp(np.minimum(z, 0.0)) / (1.0 + np.exp(-np.abs(z)))


def _logits(data: Dataset, w: np.ndarray, b: np.ndarray, parametrisation: str) -> np.ndarray:
    """True-class logits z = y s(x) of every sample, (B, n) for parameters w (B, d), b (B,)."""
    a, c = PARAMETRISATIONS[parametrisation]
    return data.y * (a * (w @ data.x.T + b[:, None]) + c)


def gradient(
    data: Dataset,
    w: np.ndarray,
    b: np.ndarray,
    dl_dz: Callable[[np.ndarray], np.ndarray],
    parametrisation: str,
) -> tuple[np.ndarray, np.ndarray]:
    """∂L/∂w (B, d) and ∂L/∂b (B,) of the summed loss, for a batch of B parameter sets.

    ``dl_dz(xi)`` is the lambdified symbolic logit gradient (B, n); the chain rule adds
    dz/ds = y and ds/dw = a x, ds/db = a.
    """
    a, _ = PARAMETRISATIONS[parametrisation]
    dl_ds = data.y * dl_dz(_expit(_logits(data, w, b, parametrisation)))
    return a * dl_ds @ data.x, a * dl_ds.sum(axis=1)


CYCLE = 8
"""Ring of recent iterates that :func:`descend` keeps: it detects float cycles of period < 8
(seen: periods 1, 2 and 3 once |∇L| ~ 1e-16)."""
CYCLE_CHECK = 10
"""Steps between two tests for a cycle (see :func:`descend`)."""


def descend(
    data: Dataset,
    dl_dz: Callable[[np.ndarray], np.ndarray],
    parametrisation: str,
    lr: float,
    record: np.ndarray,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch GD from ``start`` = (w.., b) (default 0) to step ``record[-1]``.

    Returns θ = (w.., b) and ∇L(θ) after each step of ``record`` (increasing steps >= 1),
    both (len(record), d + 1), as the step loop of :func:`gradient` would give them.

    Exact shortcut: GD in floats is a deterministic map, so once θ_t == θ_{t-p} (bit for bit)
    the run repeats θ_{t-p}, ..., θ_{t-1} for ever, and so do the gradients; the remaining
    records are read from that cycle, which is what running on would give. A converged run
    ends in such a cycle (a fixed point is p = 1) once its steps are below float rounding; it
    is looked for every :data:`CYCLE_CHECK` steps, so such a run stops at most that late.
    """
    grad = _gradient_fn(data, dl_dz, parametrisation)
    width = data.x.shape[1] + 1
    theta = np.zeros((1, width)) if start is None else np.array(start, float).reshape(1, width)
    steps = [int(s) for s in record]
    thetas, grads = np.empty((len(steps), width)), np.empty((len(steps), width))
    ring_theta, ring_grad = np.empty((CYCLE, width)), np.empty((CYCLE, width))
    g = grad(theta)
    k = 0
    for t in range(1, steps[-1] + 1):
        theta = theta - lr * g
        g = grad(theta)
        ring_theta[t % CYCLE], ring_grad[t % CYCLE] = theta[0], g[0]
        if t == steps[k]:
            thetas[k], grads[k] = theta[0], g[0]
            k += 1
        period = _period(ring_theta, t) if t % CYCLE_CHECK == 0 and t >= CYCLE else 0
        if period:
            # θ_s = θ_{t-p + ((s - t) mod p)} for every s >= t - p.
            slots = (t - period + (np.array(steps[k:], int) - t) % period) % CYCLE
            thetas[k:], grads[k:] = ring_theta[slots], ring_grad[slots]
            break
    return thetas, grads


def _gradient_fn(
    data: Dataset, dl_dz: Callable[[np.ndarray], np.ndarray], parametrisation: str
) -> Callable[[np.ndarray], np.ndarray]:
    """∇L(θ) (1, d + 1) for θ = (w.., b) (1, d + 1): :func:`gradient` with its constants
    folded in, z_n = θ·m_n + c y_n with m_n = a y_n (x_n, 1) and ∇L = (Σ_n g_n x_n, Σ_n g_n)
    with g_n = a y_n dℓ/dz(σ(z_n)). The floats are :func:`gradient`'s (a y_n is ±1 or ±2, so
    every scaling is exact, and the sums are the same numpy reductions) in half the array
    operations."""
    a, c = PARAMETRISATIONS[parametrisation]
    n = len(data.y)
    m_t, offset = (a * data.y[:, None] * np.c_[data.x, np.ones(n)]).T.copy(), c * data.y
    ay, x = a * data.y, data.x

    def grad(theta: np.ndarray) -> np.ndarray:
        g = dl_dz(_expit(theta @ m_t + offset)) * ay
        return np.concatenate((g @ x, g.sum(axis=1, keepdims=True)), axis=1)

    return grad


def _period(ring: np.ndarray, t: int) -> int:
    """The least p in 1..CYCLE-1 with θ_t == θ_{t-p}, where ``ring`` holds θ_s at s % CYCLE
    for s in t-CYCLE+1..t; 0 if there is none."""
    same = np.all(ring == ring[t % CYCLE], axis=1)
    return next((p for p in range(1, CYCLE) if same[(t - p) % CYCLE]), 0)


def data_loss(
    data: Dataset,
    w: np.ndarray,
    b: np.ndarray,
    loss: Callable[[Any], np.ndarray],
    parametrisation: str,
) -> np.ndarray:
    """The summed loss (B,) from the numpy form of the family (stable in the logits)."""
    return loss(true_class_from_binary_logit(_logits(data, w, b, parametrisation))).sum(axis=1)


def stable_lr(
    curvature: Callable[[np.ndarray], np.ndarray], data: Dataset, parametrisation: str
) -> float:
    """1 / (an upper bound of the Hessian's norm): GD with this step cannot overshoot.

    The Hessian of L is Σ_n ℓ''(z_n) a² [x_n; 1][x_n; 1]ᵀ, whose norm is at most
    sup|ℓ''| a² Σ_n (|x_n|² + 1); sup|ℓ''| is taken over z in [-30, 30] (ℓ'' of the symbolic
    gradient, lambdified in ξ = σ(z); beyond |z| = 30 the float ξ no longer fixes 1 - ξ, and
    every loss here has its largest curvature at |z| < 10).
    """
    a, _ = PARAMETRISATIONS[parametrisation]
    sup = float(np.max(np.abs(curvature(_expit(np.linspace(-30.0, 30.0, 12001))))))
    return 1.0 / (sup * a * a * float(np.sum(data.x**2) + len(data.y)))


@dataclass
class SimulationResult:
    """One gradient-descent run and what it showed (every field computed from the run).

    Attributes:
      dataset, loss, params, parametrisation, steps, lr: the setting.
      converged: gradient norm below ``tol`` with finite, bounded (|θ| < 1e6) parameters.
      w, b: final parameters; grad_norm, final_loss: at the end.
      boundary: 1-D only, the x where s(x) = 0; None in 2-D.
      max_margin_boundary: 1-D, the SVM boundary -b/w; None if not separable or 2-D.
      boundary_gap: the largest |signed distance to the learned boundary - signed distance to
        the SVM boundary| over the training points (1-D: |boundary - SVM boundary|); None if
        not separable.
      angle_deg: final angle between w and the SVM normal (degrees); None if not separable.
      xi_final: each sample's final ξ; xi_star: the loss's symbolic minimum ξ* (single
        minimum in (0, 1)) or None; at_sample_stationary: every |ξ_n - ξ*| < 1e-8.
      symbolic_w, symbolic_b: sympy's stationary point (Newton at 30 digits from the GD end
        point; :func:`symbolic.two_point_system` for Theorem 2's data); matches_symbolic:
        final parameters within 1e-8 of it (None when GD did not converge).
      w_log_slope: c of the fit |w| = a + c log t over the second half of the run.
      w_norm_monotone: |w| never decreased along the recorded trajectory.
      trajectory: recorded columns (step, w_0.., b, w_norm, boundary or angle_deg, loss, grad_norm).
    """

    dataset: str
    loss: str
    params: dict[str, float]
    parametrisation: str
    steps: int
    lr: float
    converged: bool
    w: list[float]
    b: float
    grad_norm: float
    final_loss: float
    boundary: float | None
    max_margin_boundary: float | None
    boundary_gap: float | None
    angle_deg: float | None
    xi_final: list[float]
    xi_star: float | None
    at_sample_stationary: bool | None
    symbolic_w: list[float] | None
    symbolic_b: float | None
    matches_symbolic: bool | None
    w_log_slope: float
    w_norm_monotone: bool
    trajectory: dict[str, list[float]] = field(repr=False)


def _angle(w: np.ndarray, reference: np.ndarray) -> np.ndarray:
    cos = (w @ reference) / (np.linalg.norm(w, axis=-1) * np.linalg.norm(reference))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _boundary_gap(
    data: Dataset, w: np.ndarray, b: float, mm: MaxMargin, parametrisation: str
) -> float:
    """Largest difference of signed distances to the two boundaries over the training points."""
    a, c = PARAMETRISATIONS[parametrisation]
    learned = (data.x @ w + b + c / a) / np.linalg.norm(w)
    svm = (data.x @ mm.w + mm.b) / np.linalg.norm(mm.w)
    return float(np.max(np.abs(learned - svm)))


def _symbolic_stationary(
    data: Dataset, name: str, params: dict[str, float], parametrisation: str, start: np.ndarray
) -> np.ndarray | None:
    """Sympy's stationary point of the data loss near ``start`` = (w.., b), to 30 digits.

    The gradient is sympy's derivative of the summed loss (1-D data: the cached
    :func:`symbolic.linear_system`, shared with the ledger; Theorem 2's data:
    :func:`symbolic.two_point_system`), solved by :func:`symbolic.gradient_root`.

    Returns None if Newton fails.
    """
    paper = parametrisation == "odd"
    if data.two_point and data.x.shape[1] == 1:
        system = symbolic.two_point_system(name, paper_parametrisation=paper, **params)
        unknowns, grads = [symbolic.W, symbolic.B], [system.grad_w, system.grad_b]
    elif data.x.shape[1] == 1:
        points = tuple(
            (sp.nsimplify(float(xn[0])), 1 if yn > 0 else 0)
            for xn, yn in zip(data.x, data.y, strict=True)
        )
        system = symbolic.linear_system(name, points, paper_parametrisation=paper, **params)
        unknowns, grads = [symbolic.W, symbolic.B], [system.grad_w, system.grad_b]
    else:
        a, c = (sp.nsimplify(v) for v in PARAMETRISATIONS[parametrisation])
        ws = sp.symbols(f"w0:{data.x.shape[1]}", real=True)
        ell = symbolic.loss(name, **params)
        scores = [
            a * (sum(wi * sp.nsimplify(xi) for wi, xi in zip(ws, xn, strict=True)) + symbolic.B) + c
            for xn in data.x
        ]
        total = sum(
            ell.subs(symbolic.XI, symbolic.sigmoid(int(yn) * s))
            for s, yn in zip(scores, data.y, strict=True)
        )
        unknowns = [*ws, symbolic.B]
        grads = [sp.diff(total, u) for u in unknowns]
    try:
        root = symbolic.gradient_root(grads, unknowns, [float(v) for v in start], prec=30)
    except (ValueError, ZeroDivisionError):
        return None
    return np.array([float(v) for v in root])


def _xi_star(name: str, params: dict[str, float]) -> float | None:
    minima = [p for p in symbolic.stationary_points(name, **params) if p.kind == "minimum"]
    return float(minima[0].xi) if len(minima) == 1 else None


def _log_slope(t: np.ndarray, w_norm: np.ndarray) -> float:
    half = t >= t[-1] / 2
    return float(np.polyfit(np.log(t[half]), w_norm[half], 1)[0])


def simulate(
    dataset: str,
    loss: str,
    params: dict[str, float] | None = None,
    *,
    steps: int = 20000,
    lr: float | None = None,
    parametrisation: Parametrisation = "plain",
    tol: float = 1e-9,
    n_records: int = 1000,
) -> SimulationResult:
    """Full-batch GD from w = 0, b = 0 on a named data set with a loss of the family.

    Args:
      dataset: a name of :data:`DATASETS`.
      loss: a name of the family; ``params`` its hyper-parameters (defaults filled in).
      steps: GD steps (>= 10).
      lr: step size; default :func:`stable_lr`.
      parametrisation: 'plain' or 'odd' (see :data:`PARAMETRISATIONS`).
      tol: gradient-norm bound for ``converged``.
      n_records: about how many trajectory rows to keep.

    Returns:
      A :class:`SimulationResult`.
    """
    data = get_dataset(dataset)
    params = get_loss(loss).validate(params or {})
    if parametrisation not in PARAMETRISATIONS:
        raise ValueError(
            f"parametrisation={parametrisation!r}; choose one of {', '.join(PARAMETRISATIONS)}"
        )
    if steps < 10:
        raise ValueError(f"steps={steps}; expected at least 10")
    dl_dz = logit_gradient_fn(loss, **params)
    lr = stable_lr(logit_curvature_fn(loss, **params), data, parametrisation) if lr is None else lr
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr={lr}; expected a finite step size > 0")
    loss_fn = get_loss(loss).bind(**params)
    mm = max_margin(data.x, data.y)
    every = max(1, steps // n_records)
    record = np.unique(np.r_[np.arange(every, steps + 1, every), steps])
    thetas, grads = descend(data, dl_dz, parametrisation, lr, record)
    d = data.x.shape[1]
    w, b = thetas[:, :d], thetas[:, d]
    losses = data_loss(data, w, b, loss_fn, parametrisation)
    finite = np.isfinite(thetas).all(axis=1) & np.isfinite(losses)
    if not finite.all():
        raise ValueError(
            f"GD left the finite range at step {record[np.argmin(finite)]}: lr={lr} is too large "
            "for this loss"
        )
    grad_norm = np.hypot(np.linalg.norm(grads[:, :d], axis=1), grads[:, d])
    rows = np.c_[record, thetas, grad_norm, losses]
    return _result(data, loss, params, parametrisation, steps, lr, tol, mm, rows)


def _result(
    data: Dataset,
    loss: str,
    params: dict[str, float],
    parametrisation: str,
    steps: int,
    lr: float,
    tol: float,
    mm: MaxMargin | None,
    rows: np.ndarray,
) -> SimulationResult:
    d = data.x.shape[1]
    t, ws, bs, grad_norm, losses = (
        rows[:, 0],
        rows[:, 1 : 1 + d],
        rows[:, 1 + d],
        rows[:, 2 + d],
        rows[:, 3 + d],
    )
    w, b = ws[-1], float(bs[-1])
    w_norm = np.linalg.norm(ws, axis=1)
    a, c = PARAMETRISATIONS[parametrisation]
    converged = bool(
        grad_norm[-1] < tol and np.all(np.isfinite(rows[-1])) and np.hypot(w_norm[-1], b) < 1e6
    )
    trajectory = {"step": t, **{f"w_{i}": ws[:, i] for i in range(d)}, "b": bs, "w_norm": w_norm}
    boundary = mm_boundary = angle = gap = None
    if d == 1:
        trajectory["boundary"] = (-c / a - bs) / ws[:, 0]
        boundary = float(trajectory["boundary"][-1])
        mm_boundary = None if mm is None else -mm.b / float(mm.w[0])
    if mm is not None:
        trajectory["angle_deg"] = _angle(ws, mm.w)
        angle, gap = (
            float(trajectory["angle_deg"][-1]),
            _boundary_gap(data, w, b, mm, parametrisation),
        )
    trajectory.update(loss=losses, grad_norm=grad_norm)
    xi_final = _expit(_logits(data, w[None], np.array([b]), parametrisation))[0]
    xi_star = _xi_star(loss, params)
    root = (
        _symbolic_stationary(data, loss, params, parametrisation, np.r_[w, b])
        if converged
        else None
    )
    return SimulationResult(
        dataset=data.name,
        loss=loss,
        params=params,
        parametrisation=parametrisation,
        steps=steps,
        lr=lr,
        converged=converged,
        w=w.tolist(),
        b=b,
        grad_norm=float(grad_norm[-1]),
        final_loss=float(losses[-1]),
        boundary=boundary,
        max_margin_boundary=mm_boundary,
        boundary_gap=gap,
        angle_deg=angle,
        xi_final=xi_final.tolist(),
        xi_star=xi_star,
        at_sample_stationary=None
        if xi_star is None
        else bool(np.max(np.abs(xi_final - xi_star)) < 1e-8),
        symbolic_w=None if root is None else root[:d].tolist(),
        symbolic_b=None if root is None else float(root[d]),
        matches_symbolic=None if root is None else bool(np.max(np.abs(root - np.r_[w, b])) < 1e-8),
        w_log_slope=_log_slope(t, w_norm),
        w_norm_monotone=bool(np.all(np.diff(w_norm) >= 0)),
        trajectory={k: np.asarray(v, dtype=float).tolist() for k, v in trajectory.items()},
    )
