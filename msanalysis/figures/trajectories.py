"""Gradient-descent trajectories (new figure): |w| and the boundary against the step t.

The runs are :func:`msanalysis.simulate.simulate` (full-batch GD from w = 0, b = 0 on a
one-dimensional linear model, gradients from the sympy expressions); this module only draws
their recorded trajectories and writes them out.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..losses import ETA
from ..simulate import SimulationResult, get_dataset, simulate
from .loss_curves import COLOURS

__all__ = ["TRAJECTORY_DATASETS", "trajectory_runs", "trajectory_columns", "figure_trajectories"]

# One-dimensional sets of msanalysis.simulate where the boundary has room to move.
TRAJECTORY_DATASETS: tuple[str, ...] = ("imbalanced", "asymmetric")


def _losses(eta: float) -> tuple[tuple[str, dict[str, float]], ...]:
    return (
        ("ce", {}),
        ("focal", {"gamma": 2.0}),
        ("ms-focal", {"eta": eta, "gamma": 2.0}),
        ("ms", {"eta": eta}),
    )


def trajectory_runs(*, eta: float = ETA.default, steps: int = 20000) -> list[SimulationResult]:
    """One :func:`~msanalysis.simulate.simulate` run per (data set, loss) of the figure."""
    return [
        simulate(ds, name, params, steps=steps)
        for ds in TRAJECTORY_DATASETS
        for name, params in _losses(eta)
    ]


def trajectory_columns(runs: list[SimulationResult]) -> dict[str, np.ndarray]:
    """The recorded trajectories in long form: dataset, loss, step, w_norm, boundary."""
    keys = ("step", "w_norm", "boundary")
    columns: dict[str, list] = {"dataset": [], "loss": [], **{k: [] for k in keys}}
    for run in runs:
        n = len(run.trajectory["step"])
        columns["dataset"] += [run.dataset] * n
        columns["loss"] += [run.loss] * n
        for k in keys:
            columns[k] += run.trajectory[k]
    return {k: np.asarray(v) for k, v in columns.items()}


def figure_trajectories(runs: list[SimulationResult]) -> Figure:
    """Rows: data sets; left |w| against t, right the boundary x against t (log t), with the
    hard-margin SVM boundary dashed. A finite stationary point shows as |w| levelling off."""
    datasets = list(dict.fromkeys(run.dataset for run in runs))
    fig = Figure(figsize=(12, 3.8 * len(datasets)), layout="constrained")
    axes = fig.subplots(len(datasets), 2, squeeze=False)
    for (ax_w, ax_b), dataset in zip(axes, datasets, strict=True):
        for run in (r for r in runs if r.dataset == dataset):
            shown = ", ".join(f"{k}={v:g}" for k, v in run.params.items() if k != "alpha")
            label = (
                f"{run.loss}"
                + (f" ({shown})" if shown else "")
                + ("" if run.converged else ", not converged")
            )
            t = np.asarray(run.trajectory["step"])
            ax_w.plot(t, run.trajectory["w_norm"], color=COLOURS[run.loss], label=label)
            ax_b.plot(
                t,
                run.trajectory["boundary"],
                color=COLOURS[run.loss],
                label=f"{run.loss}: {run.boundary:.4f} at the end",
            )
        svm = next(r.max_margin_boundary for r in runs if r.dataset == dataset)
        if svm is not None:
            ax_b.axhline(
                svm,
                color="black",
                linestyle="--",
                linewidth=1,
                label=f"hard-margin SVM boundary {svm:.4f}",
            )
        title = get_dataset(dataset).description
        ax_w.set(xscale="log", xlabel="GD step t", ylabel="|w|", title=f"{dataset}: {title}")
        ax_b.set(
            xscale="log",
            xlabel="GD step t",
            ylabel="boundary x (p = 1/2)",
            title=f"{dataset}: boundary",
        )
        ax_w.legend(fontsize=8)
        ax_b.legend(fontsize=8)
    steps = runs[0].steps
    fig.suptitle(
        f"Gradient descent from w = b = 0 on σ(wx + b), {steps} steps (msanalysis.simulate)",
        fontsize=10,
    )
    return fig
