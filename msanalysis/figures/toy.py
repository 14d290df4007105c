"""Figures 1, 3, 4, 5 and 6-9: two-layer networks trained on the toy sets, one panel per loss.

The losses are the family of :mod:`msanalysis.losses`, evaluated on torch tensors through
:func:`msanalysis.training.losses.true_class_from_logits`; nothing here writes a loss formula.
Training is full-batch Adam on the CPU with an explicit seed per run, so every run (and every
figure) is reproducible bit for bit on one machine.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch.func import functional_call, stack_module_state, vmap

from ..losses import get_loss
from ..training.losses import true_class_from_logits
from ..training.models import build_model
from .boundary import WINDOW, BoundaryStats, Window, boundary_stats, evaluate_grid
from .toy_data import ToyData

__all__ = ["ToyLoss", "ToyNetworks", "ToyExperiment", "panel_losses", "figure_toy"]


@dataclass(frozen=True)
class ToyLoss:
    """A loss of the family with fixed hyper-parameters, e.g. ToyLoss('ms', (('eta', 1.5),))."""

    name: str
    params: tuple[tuple[str, float], ...] = ()

    def label(self) -> str:
        shown = ", ".join(f"{k}={v:g}" for k, v in self.params)
        return f"{self.name} ({get_loss(self.name).source})" + (f", {shown}" if shown else "")


def panel_losses(eta: float) -> tuple[ToyLoss, ...]:
    """The panels of Figures 1, 3, 4, 6-9: CE, focal (γ = 2), MS-focal (eq. 4), MS (eq. 7)."""
    return (
        ToyLoss("ce"),
        ToyLoss("focal", (("gamma", 2.0),)),
        ToyLoss("ms-focal", (("eta", eta), ("gamma", 2.0))),
        ToyLoss("ms", (("eta", eta),)),
    )


class ToyNetworks:
    """Several independent ``build_model('mlp')`` networks (2 -> hidden, ReLU -> 2), one per
    seed, evaluated at once with ``torch.func.vmap``.

    The networks' parameters are stacked along a leading seed axis, so one full-batch step
    trains every seed: the summed loss has, for each network's weights, the gradient of that
    network's own loss, and Adam acts elementwise, so the runs stay independent. Network i is
    initialised by the registry's MLP with the torch seed ``seeds[i]``.
    """

    def __init__(self, seeds: tuple[int, ...], hidden: int) -> None:
        nets = []
        for seed in seeds:
            with torch.random.fork_rng(devices=[]):  # the seed stays local to this network
                torch.manual_seed(seed)
                nets.append(build_model("mlp", num_classes=2, in_channels=2, hidden=hidden))
        self.params, self.buffers = stack_module_state(nets)
        self.base = copy.deepcopy(nets[0]).to("meta")  # structure only; weights come from params

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def _one(
        self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        return functional_call(self.base, (params, buffers), (x,))

    def __call__(self, x: torch.Tensor, index: int | None = None) -> torch.Tensor:
        """(N, 2) inputs -> (S, N, 2) logits of every network, or (N, 2) of network ``index``."""
        if index is None:
            return vmap(self._one, in_dims=(0, 0, None))(self.params, self.buffers, x)
        pick = lambda d: {k: v[index] for k, v in d.items()}  # noqa: E731
        return self._one(pick(self.params), pick(self.buffers), x)


@dataclass
class ToyExperiment:
    """Trains and caches the networks of every (data set, loss), seeds 0 .. seeds-1 together.

    Attributes:
      seeds: networks per (data set, loss); seed s draws its initial weights with seed s.
      steps: full-batch Adam steps per training.
      hidden: hidden units of each network (64 is the registry MLP's default).
      lr: Adam learning rate.
      window: the grid on which boundaries are measured and drawn.
    """

    seeds: int = 5
    steps: int = 2000
    hidden: int = 64
    lr: float = 1e-2
    window: Window = WINDOW
    _models: dict[tuple[str, ToyLoss], ToyNetworks] = field(default_factory=dict, repr=False)
    _stats: dict[tuple[str, ToyLoss, int], BoundaryStats] = field(default_factory=dict, repr=False)

    def models(self, data: ToyData, loss: ToyLoss) -> ToyNetworks:
        """The networks trained on ``data`` with ``loss``, one per seed."""
        key = (data.name, loss)
        if key not in self._models:
            self._models[key] = self._train(data, loss)
        return self._models[key]

    def _train(self, data: ToyData, loss: ToyLoss) -> ToyNetworks:
        loss_fn = get_loss(loss.name).bind(**dict(loss.params))
        model = ToyNetworks(tuple(range(self.seeds)), self.hidden)
        x = torch.as_tensor(data.points, dtype=torch.float32)
        y = torch.as_tensor(data.labels).repeat(self.seeds)
        optimiser = torch.optim.Adam(model.parameters(), lr=self.lr)
        for _ in range(self.steps):
            optimiser.zero_grad()
            per_sample = loss_fn(true_class_from_logits(model(x).reshape(-1, 2), y))
            per_seed = per_sample.reshape(self.seeds, -1).mean(dim=1)  # mean over samples
            per_seed.sum().backward()
            optimiser.step()
        if not torch.all(torch.isfinite(per_seed)):
            raise FloatingPointError(
                f"training {loss.label()} on {data.name} diverged: losses {per_seed.tolist()}"
            )
        return model

    def logit_difference(
        self, data: ToyData, loss: ToyLoss, seed: int
    ) -> Callable[[np.ndarray], np.ndarray]:
        """f(points) = o_1 - o_0 of network ``seed``, numpy (M, 2) -> (M,) in float64."""
        if not 0 <= seed < self.seeds:
            raise ValueError(f"seed={seed}: this experiment trains seeds 0 .. {self.seeds - 1}")
        model = self.models(data, loss)

        def f(points: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                logits = model(torch.as_tensor(points, dtype=torch.float32), seed).double()
            return (logits[:, 1] - logits[:, 0]).numpy()

        return f

    def stats(self, data: ToyData, loss: ToyLoss, seed: int) -> BoundaryStats:
        """:func:`~msanalysis.figures.boundary.boundary_stats` of one trained network."""
        key = (data.name, loss, seed)
        if key not in self._stats:
            self._stats[key] = boundary_stats(
                self.logit_difference(data, loss, seed), data, self.window
            )
        return self._stats[key]


def _panel(ax: Any, experiment: ToyExperiment, data: ToyData, loss: ToyLoss, seed: int) -> Any:
    grid = evaluate_grid(experiment.logit_difference(data, loss, seed), experiment.window)
    # Confidence = max softmax probability = σ(|o_1 - o_0|) for two logits.
    confidence = 1.0 / (1.0 + np.exp(-np.abs(grid.values)))
    filled = ax.contourf(
        grid.xs,
        grid.ys,
        confidence,
        levels=np.linspace(0.5, 1.0, 11),
        cmap="Greys",
        vmin=0.5,
        vmax=1.25,
    )
    filled.set_rasterized(True)  # keeps the PDF small; lines and points stay vector
    ax.contour(grid.xs, grid.ys, grid.values, levels=[0.0], colors="tab:orange", linewidths=2.0)
    ax.plot(grid.xs, data.reference(grid.xs), "--", color="tab:green", linewidth=1.2)
    for label, colour in ((0, "tab:blue"), (1, "tab:red")):
        pts = data.points[data.labels == label]
        ax.plot(pts[:, 0], pts[:, 1], "o", color=colour, markersize=2.5 if len(pts) > 20 else 6)
    stats = experiment.stats(data, loss, seed)
    ax.set_title(
        f"{loss.label()}\nmin distance {stats.min_distance:.3f}, offset {stats.offset:.3f}",
        fontsize=9,
    )
    ax.set(xlim=experiment.window.x, ylim=experiment.window.y, aspect="equal")
    return filled


def figure_toy(
    experiment: ToyExperiment,
    data: ToyData,
    losses: tuple[ToyLoss, ...],
    *,
    seed: int = 0,
    title: str = "",
) -> Figure:
    """One panel per loss: confidence (max softmax probability, light = low), the learned
    boundary (orange, p = 1/2), the reference boundary (green dashes) and the training points."""
    fig = Figure(figsize=(4.2 * len(losses) + 1.0, 3.9), layout="constrained")
    axes = fig.subplots(1, len(losses), squeeze=False)[0]
    filled = None
    for ax, loss in zip(axes, losses, strict=True):
        filled = _panel(ax, experiment, data, loss, seed)
    fig.colorbar(filled, ax=list(axes), label="confidence (max softmax probability)", shrink=0.85)
    fig.suptitle(
        f"{title}{data.title}; orange: learned boundary, green dashes: {data.reference_name}; "
        f"seed {seed}, {experiment.steps} full-batch Adam steps, hidden {experiment.hidden}",
        fontsize=10,
    )
    return fig
