"""Figures 1, 3, 4, 5 and 6-9: two-layer networks trained on the toy sets, one panel per loss.

The losses are the family of :mod:`msanalysis.losses`, evaluated on torch tensors through
:func:`msanalysis.training.losses.true_class_from_logits`; nothing here writes a loss formula.
Training is full-batch Adam on the CPU with an explicit seed per run, so every run (and every
figure) is reproducible bit for bit on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ..losses import get_loss
from ..training.losses import true_class_from_logits
from .boundary import WINDOW, BoundaryStats, Window, boundary_stats, evaluate_grid
from .toy_data import ToyData

__all__ = ["ToyLoss", "ToyMLPs", "ToyExperiment", "panel_losses", "figure_toy"]


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


class ToyMLPs(nn.Module):
    """Several independent 2 -> hidden (tanh) -> 2 networks, one per seed, evaluated at once.

    The paper's "two-layer fully-connected network", stacked along a leading seed axis so that
    one full-batch step trains every seed: the summed loss has, for each network's weights, the
    gradient of that network's own loss, and Adam acts elementwise, so the runs stay exactly
    independent. Weights are initialised as ``nn.Linear`` does (uniform ±1/√fan_in), each
    network from its own generator seeded with its seed.
    """

    def __init__(self, seeds: tuple[int, ...], hidden: int = 32) -> None:
        super().__init__()
        layers = [self._init(seeds, 2, hidden), self._init(seeds, hidden, 2)]
        self.w1, self.b1 = (nn.Parameter(t) for t in layers[0])
        self.w2, self.b2 = (nn.Parameter(t) for t in layers[1])

    @staticmethod
    def _init(seeds: tuple[int, ...], fan_in: int, fan_out: int) -> tuple[torch.Tensor, torch.Tensor]:
        bound = fan_in**-0.5
        weights, biases = [], []
        for seed in seeds:
            gen = torch.Generator().manual_seed(seed)
            weights.append((torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * bound)
            biases.append((torch.rand(1, fan_out, generator=gen) * 2 - 1) * bound)
        return torch.stack(weights), torch.stack(biases)

    def forward(self, x: torch.Tensor, index: int | slice = slice(None)) -> torch.Tensor:
        """(N, 2) inputs -> (S, N, 2) logits, one slice per seed; an int ``index`` (the i-th
        seed) gives that network's (N, 2) logits alone."""
        return torch.tanh(x @ self.w1[index] + self.b1[index]) @ self.w2[index] + self.b2[index]


@dataclass
class ToyExperiment:
    """Trains and caches the networks of every (data set, loss), seeds 0 .. seeds-1 together.

    Attributes:
      seeds: networks per (data set, loss); seed s draws its initial weights with seed s.
      steps: full-batch Adam steps per training.
      hidden: hidden units of each network.
      lr: Adam learning rate.
      window: the grid on which boundaries are measured and drawn.
    """

    seeds: int = 5
    steps: int = 2000
    hidden: int = 32
    lr: float = 1e-2
    window: Window = WINDOW
    _models: dict[tuple[str, ToyLoss], ToyMLPs] = field(default_factory=dict, repr=False)
    _stats: dict[tuple[str, ToyLoss, int], BoundaryStats] = field(default_factory=dict, repr=False)

    def models(self, data: ToyData, loss: ToyLoss) -> ToyMLPs:
        """The networks trained on ``data`` with ``loss``, one per seed."""
        key = (data.name, loss)
        if key not in self._models:
            self._models[key] = self._train(data, loss)
        return self._models[key]

    def _train(self, data: ToyData, loss: ToyLoss) -> ToyMLPs:
        loss_fn = get_loss(loss.name).bind(**dict(loss.params))
        model = ToyMLPs(tuple(range(self.seeds)), self.hidden)
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
            raise FloatingPointError(f"training {loss.label()} on {data.name} diverged: losses {per_seed.tolist()}")
        return model

    def logit_difference(self, data: ToyData, loss: ToyLoss, seed: int) -> Callable[[np.ndarray], np.ndarray]:
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
            self._stats[key] = boundary_stats(self.logit_difference(data, loss, seed), data, self.window)
        return self._stats[key]


def _panel(ax: Any, experiment: ToyExperiment, data: ToyData, loss: ToyLoss, seed: int) -> Any:
    grid = evaluate_grid(experiment.logit_difference(data, loss, seed), experiment.window)
    # Confidence = max softmax probability = σ(|o_1 - o_0|) for two logits.
    confidence = 1.0 / (1.0 + np.exp(-np.abs(grid.values)))
    filled = ax.contourf(grid.xs, grid.ys, confidence, levels=np.linspace(0.5, 1.0, 11), cmap="Greys", vmin=0.5, vmax=1.25)
    filled.set_rasterized(True)  # keeps the PDF small; lines and points stay vector
    ax.contour(grid.xs, grid.ys, grid.values, levels=[0.0], colors="tab:orange", linewidths=2.0)
    ax.plot(grid.xs, data.reference(grid.xs), "--", color="tab:green", linewidth=1.2)
    for label, colour in ((0, "tab:blue"), (1, "tab:red")):
        pts = data.points[data.labels == label]
        ax.plot(pts[:, 0], pts[:, 1], "o", color=colour, markersize=2.5 if len(pts) > 20 else 6)
    stats = experiment.stats(data, loss, seed)
    ax.set_title(f"{loss.label()}\nmin distance {stats.min_distance:.3f}, offset {stats.offset:.3f}", fontsize=9)
    ax.set(xlim=experiment.window.x, ylim=experiment.window.y, aspect="equal")
    return filled


def figure_toy(
    experiment: ToyExperiment, data: ToyData, losses: tuple[ToyLoss, ...], *, seed: int = 0, title: str = ""
) -> Figure:
    """One panel per loss: confidence (max softmax probability, light = low), the learned
    boundary (orange, p = 1/2), the reference boundary (green dashes) and the training points."""
    fig = Figure(figsize=(4.2 * len(losses) + 1.0, 3.9), layout="constrained")
    axes = fig.subplots(1, len(losses), squeeze=False)[0]
    filled = None
    for ax, loss in zip(axes, losses):
        filled = _panel(ax, experiment, data, loss, seed)
    fig.colorbar(filled, ax=list(axes), label="confidence (max softmax probability)", shrink=0.85)
    fig.suptitle(
        f"{title}{data.title}; orange: learned boundary, green dashes: {data.reference_name}; "
        f"seed {seed}, {experiment.steps} full-batch Adam steps, hidden {experiment.hidden}",
        fontsize=10,
    )
    return fig
