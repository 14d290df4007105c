"""Figure 2 (loss and logit gradient against ξ) and the η phase diagram, from sympy only.

Every array drawn here is a sympy expression of :mod:`msanalysis.symbolic` (itself built from
the single loss definitions of :mod:`msanalysis.losses`) evaluated with ``sympy.lambdify``;
the paper's printed gradients come from :mod:`msanalysis.paper`. No formula is typed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import sympy as sp
from matplotlib.figure import Figure
from scipy.optimize import brentq

from .. import symbolic
from ..losses import ALPHA, ETA, GAMMA, get_loss
from ..paper import PRINTED_GRADIENTS

__all__ = [
    "FIG2_LOSSES",
    "PHASE_LOSSES",
    "Fig2Curve",
    "fig2_curves",
    "fig2_columns",
    "printed_column",
    "printed_zeros",
    "figure2",
    "eta_of_stationary_xi",
    "eta_phase_columns",
    "figure_eta_phase",
]

# Figure 2's losses (registry names), the colours they keep in every panel.
FIG2_LOSSES: tuple[str, ...] = ("ce", "focal", "ms-focal", "ms")
PHASE_LOSSES: tuple[str, ...] = ("ms", "centred-ce", "ms-focal")
COLOURS: dict[str, str] = {
    "ce": "C0",
    "focal": "C1",
    "ms-focal": "C2",
    "ms": "C3",
    "centred-ce": "C4",
}
# ξ grid of Figure 2 and its CSV: k/400 for k = 1..399, the open interval (0, 1).
XI_GRID = np.arange(1, 400) / 400


def _params(name: str, *, eta: float, gamma: float, alpha: float) -> dict[str, float]:
    """The subset of (η, γ, α) that loss ``name`` takes."""
    given = {"eta": eta, "gamma": gamma, "alpha": alpha}
    return {p.name: given[p.name] for p in get_loss(name).params}


@dataclass(frozen=True)
class Fig2Curve:
    """One loss of Figure 2: its expressions in ξ and its finite stationary points.

    Attributes:
      name: registry name.
      params: the numeric hyper-parameters used.
      loss: ℓ(ξ) as a sympy expression.
      grad: dℓ/do for the true-class logit, as a sympy expression of ξ.
      stationary: :func:`msanalysis.symbolic.stationary_points` of the loss, in (0, 1).
    """

    name: str
    params: dict[str, float]
    loss: sp.Expr
    grad: sp.Expr
    stationary: list[symbolic.StationaryPoint]

    def label(self) -> str:
        shown = ", ".join(f"{symbolic.SYMBOLS[k]}={v:g}" for k, v in self.params.items())
        return f"{self.name} ({get_loss(self.name).source})" + (f", {shown}" if shown else "")


def fig2_curves(
    *, eta: float = ETA.default, gamma: float = GAMMA.default, alpha: float = ALPHA.default
) -> list[Fig2Curve]:
    """The four losses of Figure 2 as exact expressions, with their stationary points."""
    curves = []
    for name in FIG2_LOSSES:
        params = _params(name, eta=eta, gamma=gamma, alpha=alpha)
        curves.append(
            Fig2Curve(
                name,
                params,
                symbolic.loss(name, **params),
                symbolic.grad_logit(name, "true", **params),
                symbolic.stationary_points(name, **params),
            )
        )
    return curves


def printed_column(loss: str) -> str:
    """The CSV column of the gradient the paper prints for ``loss``, e.g. 'printed_eq8' for ms."""
    return "printed_" + PRINTED_GRADIENTS[loss][0].replace(". ", "")


def _printed(loss: str, *, eta: float, gamma: float, alpha: float) -> sp.Expr:
    """The gradient printed for ``loss``, with the figure's hyper-parameters substituted exactly."""
    values = {symbolic.ETA: eta, symbolic.GAMMA: gamma, symbolic.ALPHA: alpha}
    exact = {k: sp.nsimplify(v, rational=True) for k, v in values.items()}
    return PRINTED_GRADIENTS[loss][1].subs(exact)


def _evaluate(expr: sp.Expr, xi: np.ndarray) -> np.ndarray:
    """``expr`` at every ξ of ``xi`` in float64; a pole on the grid gives ±inf, not a warning."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values = symbolic.to_numpy(symbolic.XI, expr)(xi)
    return np.broadcast_to(values, xi.shape).astype(float)


def fig2_columns(
    xi: np.ndarray = XI_GRID,
    *,
    eta: float = ETA.default,
    gamma: float = GAMMA.default,
    alpha: float = ALPHA.default,
) -> dict[str, np.ndarray]:
    """Every curve of Figure 2 on the grid ``xi``: the content of ``fig2.csv``.

    Columns: ``xi``, ``loss_<name>`` and ``grad_<name>`` (dℓ/do, true-class logit) for each
    loss of :data:`FIG2_LOSSES`, and ``printed_eq<N>`` for each printed gradient (eq. N) of
    :data:`msanalysis.paper.PRINTED_GRADIENTS`.
    """
    columns: dict[str, np.ndarray] = {"xi": np.asarray(xi, dtype=float)}
    for curve in fig2_curves(eta=eta, gamma=gamma, alpha=alpha):
        columns[f"loss_{curve.name}"] = _evaluate(curve.loss, columns["xi"])
        columns[f"grad_{curve.name}"] = _evaluate(curve.grad, columns["xi"])
    for loss in PRINTED_GRADIENTS:
        expr = _printed(loss, eta=eta, gamma=gamma, alpha=alpha)
        columns[printed_column(loss)] = _evaluate(expr, columns["xi"])
    return columns


def printed_zeros(
    loss: str,
    *,
    eta: float = ETA.default,
    gamma: float = GAMMA.default,
    alpha: float = ALPHA.default,
) -> list[float]:
    """Zeros in (0, 1) of the gradient printed for ``loss``.

    Sign changes on :data:`XI_GRID`, refined by Brent's method to float precision (a printed
    expression is no loss of the family, so :func:`msanalysis.symbolic.stationary_points` does not
    apply).
    """
    fn = sp.lambdify(symbolic.XI, _printed(loss, eta=eta, gamma=gamma, alpha=alpha), "math")
    values = [fn(float(x)) for x in XI_GRID]
    return [
        brentq(fn, float(a), float(b), xtol=1e-15)
        for (a, fa), (b, fb) in pairwise(zip(XI_GRID, values, strict=True))
        if (fa < 0) != (fb < 0)
    ]


def _point_label(point: symbolic.StationaryPoint) -> str:
    value = float(point.xi)
    if point.exact:
        return f"ξ* = {sp.sstr(point.xi)} ≈ {value:.4f}"
    a, b = point.bracket
    return f"ξ* ≈ {value:.4f} (root certified in [{a}, {b}])"


def figure2(
    *, eta: float = ETA.default, gamma: float = GAMMA.default, alpha: float = ALPHA.default
) -> Figure:
    """Figure 2, recomputed: left ℓ(ξ), right dℓ/do (true-class logit), stationary points marked.

    Dashed curves are the gradients the paper prints (eqs. 5 and 8), drawn in the colour of
    the loss they claim to differentiate, so where they leave the derived curve is visible.
    """
    columns = fig2_columns(eta=eta, gamma=gamma, alpha=alpha)
    xi = columns["xi"]
    fig = Figure(figsize=(13, 5.6), layout="constrained")
    ax_loss, ax_grad = fig.subplots(1, 2)
    notes = []  # the marked points, listed in a box on the gradient panel
    for curve in fig2_curves(eta=eta, gamma=gamma, alpha=alpha):
        colour = COLOURS[curve.name]
        ax_loss.plot(xi, columns[f"loss_{curve.name}"], color=colour, label=curve.label())
        ax_grad.plot(
            xi, columns[f"grad_{curve.name}"], color=colour, label=f"{curve.name}: derived"
        )
        for point in curve.stationary:
            x = float(point.xi)
            y = float(curve.loss.subs(symbolic.XI, point.xi).evalf(20))
            ax_loss.plot([x], [y], "o", color=colour, markersize=7, zorder=5)
            ax_grad.plot([x], [0.0], "o", color=colour, markersize=7, zorder=5)
            ax_loss.annotate(
                f"{curve.name}: {_point_label(point)}, {point.kind}",
                (x, y),
                xytext=(0.08, 3.0 - 0.4 * len(notes)),
                fontsize=8,
                color=colour,
                bbox={"fc": "white", "ec": colour, "alpha": 0.9},
                arrowprops={"arrowstyle": "->", "color": colour},
            )
            notes.append((colour, f"● {curve.name}: stationary point ξ* ≈ {x:.4f} ({point.kind})"))
    for loss, (equation, _) in PRINTED_GRADIENTS.items():
        colour = COLOURS[loss]
        ax_grad.plot(
            xi,
            columns[printed_column(loss)],
            "--",
            color=colour,
            label=f"{loss}: as printed, {equation}",
        )
        for x in printed_zeros(loss, eta=eta, gamma=gamma, alpha=alpha):
            ax_grad.plot([x], [0.0], "o", mfc="white", color=colour, markersize=7, zorder=5)
            notes.append((colour, f"○ zero of printed {equation}: ξ ≈ {x:.4f}"))
    for i, (colour, text) in enumerate(notes):
        ax_grad.text(
            0.14,
            0.05 + 0.055 * (len(notes) - 1 - i),
            text,
            transform=ax_grad.transAxes,
            fontsize=8,
            color=colour,
        )
    ax_loss.set(
        xlabel="ξ (softmax probability of the true class)",
        ylabel="loss ℓ(ξ)",
        ylim=(0, 5),
        xlim=(0, 1),
        title="Loss",
    )
    ax_grad.axhline(0.0, color="0.6", linewidth=0.8)
    ax_grad.set(
        xlabel="ξ (softmax probability of the true class)",
        ylabel="dℓ/do (true-class logit o)",
        xlim=(0, 1),
        title="Gradient with respect to the true-class logit",
    )
    ax_loss.legend(fontsize=8, loc="upper right")
    ax_grad.legend(fontsize=8, loc="lower right")
    fig.suptitle(
        f"Figure 2 recomputed from the loss definitions (η = {eta:g}, γ = {gamma:g}, α = "
        f"{alpha:g})\n"
        "filled dots: stationary points (msanalysis.symbolic); hollow dots: zeros of the gradients "
        "as printed (dashed)",
        fontsize=10,
    )
    return fig


def eta_of_stationary_xi(name: str, **params: Any) -> sp.Expr:
    """The η at which ξ is a stationary point of loss ``name``, as an expression of ξ.

    Every loss with an η term is linear in η, so dℓ/dξ = 0 has exactly one solution η(ξ);
    plotting (η(ξ), ξ) over the ξ with η(ξ) > 0 traces every stationary point of every η.
    """
    (solution,) = sp.solve(symbolic.grad_xi(name, **params), symbolic.ETA)
    return sp.simplify(sp.expand_log(solution, force=True))


def _phase_params(name: str, gamma: float, alpha: float) -> dict[str, float]:
    return {k: v for k, v in _params(name, eta=1.0, gamma=gamma, alpha=alpha).items() if k != "eta"}


def eta_phase_columns(
    *, gamma: float = GAMMA.default, alpha: float = ALPHA.default
) -> dict[str, np.ndarray]:
    """The η phase diagram's numbers: ``xi`` and ``eta_<name>`` = η(ξ), the η at which ξ is a
    stationary point of each loss of :data:`PHASE_LOSSES` (negative: no η > 0 gives one)."""
    columns: dict[str, np.ndarray] = {"xi": XI_GRID}
    for name in PHASE_LOSSES:
        columns[f"eta_{name}"] = _evaluate(
            eta_of_stationary_xi(name, **_phase_params(name, gamma, alpha)), XI_GRID
        )
    return columns


def figure_eta_phase(
    *,
    gamma: float = GAMMA.default,
    alpha: float = ALPHA.default,
    check_etas: tuple[float, ...] = (0.25, 0.75, 1.5, 5.0),
) -> Figure:
    """Stationary ξ* against η for MS (eq. 7), centred CE (eq. 31) and MS-focal (eq. 4).

    Curves: (η(ξ), ξ) from :func:`eta_of_stationary_xi`; vertical lines: the exact thresholds
    of :func:`msanalysis.symbolic.eta_threshold`; markers: :func:`~msanalysis.symbolic.
    stationary_points` at a few η, computed independently of the curves, which they must meet.
    """
    columns = eta_phase_columns(gamma=gamma, alpha=alpha)
    fig = Figure(figsize=(8, 5.2), layout="constrained")
    ax = fig.subplots()
    markers = {"minimum": "o", "maximum": "s", "inflection": "D"}
    for name in PHASE_LOSSES:
        params = _phase_params(name, gamma, alpha)
        etas = columns[f"eta_{name}"]
        keep = np.isfinite(etas) & (etas > 0)
        colour = COLOURS[name]
        shown = "".join(f", {symbolic.SYMBOLS[k]}={v:g}" for k, v in params.items())
        ax.plot(
            etas[keep],
            columns["xi"][keep],
            color=colour,
            label=f"{name} ({get_loss(name).source}{shown})",
        )
        threshold = symbolic.eta_threshold(name, **params)
        if threshold > 0:
            ax.axvline(float(threshold), color=colour, linestyle=":")
            ax.annotate(
                f"η_c = {threshold}",
                (float(threshold), 0.98),
                xytext=(-4, 0),
                ha="right",
                textcoords="offset points",
                color=colour,
                fontsize=9,
            )
        else:
            ax.plot(
                [], [], " ", label=f"{name}: η_c = {threshold} (a stationary point for every η > 0)"
            )
        for eta in check_etas:
            for point in symbolic.stationary_points(name, eta=eta, **params):
                ax.plot(
                    [eta],
                    [float(point.xi)],
                    markers[point.kind],
                    color=colour,
                    mfc="white",
                    zorder=5,
                )
    ax.plot(
        [], [], "ko", mfc="white", label="symbolic.stationary_points (minimum), independent check"
    )
    ax.set(
        xscale="log",
        xlim=(0.05, 50),
        ylim=(0.45, 1.0),
        xlabel="stationary-point coefficient η",
        ylabel="finite stationary point ξ*",
        title="Where the finite stationary point sits, for each η",
    )
    ax.axhline(0.5, color="0.6", linewidth=0.8)
    ax.legend(fontsize=8, loc="lower left")
    return fig
