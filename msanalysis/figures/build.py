"""Make every figure, and the numbers behind it, into one folder: ``msanalysis figures``.

Outputs (in ``out``): ``<name>.png`` and ``<name>.pdf`` for each figure; ``fig2.csv``,
``eta-phase.csv`` and ``trajectories.csv`` (the curves of those figures); ``toy_boundaries.csv`` and
``toy_boundaries.md`` (boundary distances of every toy panel, mean and std over seeds).
Files carry no dates, so a rerun with the same arguments rewrites the same bytes.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from ..losses import ETA
from ..registry import unknown_name
from .loss_curves import eta_phase_columns, fig2_columns, figure2, figure_eta_phase
from .toy import ToyExperiment, ToyLoss, figure_toy, panel_losses
from .toy_data import TOY_DATA, ToyData
from .trajectories import figure_trajectories, trajectory_columns, trajectory_runs

__all__ = [
    "TOY_FIGURES",
    "FIGURE_NAMES",
    "ToyFigure",
    "toy_figures",
    "boundary_table",
    "build_figures",
    "save_figure",
]

# The paper's toy figures: name -> (data set, caption prefix).
TOY_FIGURES: dict[str, tuple[str, str]] = {
    "fig1": ("separable", "Figure 1"),
    "fig3": ("curved", "Figure 3"),
    "fig4": ("lacking-97", "Figure 4"),
    "fig5": ("separable", "Figure 5 (MS, eq. 7, for several η)"),
    "fig6": ("lacking-10", "Figure 6"),
    "fig7": ("lacking-30", "Figure 7"),
    "fig8": ("lacking-50", "Figure 8"),
    "fig9": ("lacking-90", "Figure 9"),
}
FIGURE_NAMES: tuple[str, ...] = ("fig2", "eta-phase", "trajectories", *TOY_FIGURES)
FIG5_ETAS = (0.25, 5.0)  # below the threshold 1/2 of Theorem 3, and well above, next to --eta


@dataclass(frozen=True)
class ToyFigure:
    """One toy figure: its name, data set, caption prefix and panel losses."""

    name: str
    data: ToyData
    caption: str
    losses: tuple[ToyLoss, ...]


def toy_figures(names: Iterable[str], *, eta: float) -> list[ToyFigure]:
    """The toy figures among ``names``, panels at stationary-point coefficient ``eta``."""
    figures = []
    for name in names:
        if name not in TOY_FIGURES:
            continue
        data_name, caption = TOY_FIGURES[name]
        if name == "fig5":
            etas = sorted({FIG5_ETAS[0], eta, FIG5_ETAS[1]})
            losses = tuple(ToyLoss("ms", (("eta", e),)) for e in etas)
        else:
            losses = panel_losses(eta)
        figures.append(ToyFigure(name, TOY_DATA[data_name](), caption, losses))
    return figures


def boundary_table(
    experiment: ToyExperiment, figures: Sequence[ToyFigure], seeds: int
) -> list[dict[str, object]]:
    """One row per (figure, loss): boundary statistics over seeds 0 .. seeds-1 (std: ddof = 0)."""
    rows = []
    for fig in figures:
        for loss in fig.losses:
            stats = [experiment.stats(fig.data, loss, seed) for seed in range(seeds)]
            dmin = np.array([s.min_distance for s in stats])
            offset = np.array([s.offset for s in stats])
            rows.append(
                {
                    "figure": fig.name,
                    "data": fig.data.name,
                    "loss": loss.label(),
                    "seeds": seeds,
                    "min_distance_mean": dmin.mean(),
                    "min_distance_std": dmin.std(),
                    "min_distance_class0_mean": np.mean([s.min_distance_class[0] for s in stats]),
                    "min_distance_class1_mean": np.mean([s.min_distance_class[1] for s in stats]),
                    "offset_mean": offset.mean(),
                    "offset_std": offset.std(),
                    "coverage_min": min(s.coverage for s in stats),
                    "misclassified_max": max(s.misclassified for s in stats),
                }
            )
    return rows


def _cell(value: object) -> str:
    """Floats in their shortest round-trip form, so the CSV holds the exact float64 values."""
    return repr(float(value)) if isinstance(value, (float, np.floating)) else str(value)


def _write_csv(path: Path, columns: dict[str, np.ndarray] | list[dict[str, object]]) -> None:
    rows = (
        columns
        if isinstance(columns, list)
        else [dict(zip(columns, r, strict=True)) for r in zip(*columns.values(), strict=True)]
    )
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)


def _write_markdown(path: Path, rows: list[dict[str, object]], experiment: ToyExperiment) -> None:
    header = (
        "| figure | data | loss | min distance | class 0 | class 1 | offset from reference | "
        "coverage | misclassified |"
    )
    lines = [
        f"Boundary numbers, mean ± std over {rows[0]['seeds']} seeds ({experiment.steps} Adam "
        "steps, "
        f"hidden {experiment.hidden}, grid step {experiment.window.step}). The best possible min "
        "distance on "
        "the line-segment sets is 0.9; offset 0 is the reference boundary itself.",
        "",
        header,
        "|" + "---|" * (header.count("|") - 1),
    ]
    for r in rows:
        lines.append(
            f"| {r['figure']} | {r['data']} | {r['loss']} | {r['min_distance_mean']:.3f} ± "
            f"{r['min_distance_std']:.3f} "
            f"| {r['min_distance_class0_mean']:.3f} | {r['min_distance_class1_mean']:.3f} "
            f"| {r['offset_mean']:.3f} ± {r['offset_std']:.3f} | {r['coverage_min']:.2f} | "
            f"{r['misclassified_max']} |"
        )
    path.write_text("\n".join(lines) + "\n")


def save_figure(fig: Figure, out: Path, name: str) -> list[Path]:
    """PNG and PDF without dates or version strings, so reruns are byte-identical."""
    png, pdf = out / f"{name}.png", out / f"{name}.pdf"
    fig.savefig(png, dpi=110, metadata={"Software": None})
    fig.savefig(pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None})
    return [png, pdf]


def build_figures(
    out: Path,
    *,
    only: Sequence[str] = FIGURE_NAMES,
    eta: float = ETA.default,
    seeds: int = 5,
    experiment: ToyExperiment | None = None,
    progress: bool = True,
) -> list[Path]:
    """Make the figures ``only`` (names from :data:`FIGURE_NAMES`) and their numbers in ``out``.

    Returns:
      The paths written.
    """
    unknown = [n for n in only if n not in FIGURE_NAMES]
    if unknown:
        raise ValueError(unknown_name(", ".join(unknown), FIGURE_NAMES, kind="figure(s)"))
    if seeds < 1:
        raise ValueError(f"seeds={seeds}: expected at least 1")
    experiment = experiment or ToyExperiment(seeds=seeds)
    if experiment.seeds != seeds:
        raise ValueError(f"seeds={seeds} but the experiment trains {experiment.seeds} seeds")
    out.mkdir(parents=True, exist_ok=True)
    return _curve_figures(out, only, eta) + _toy_figures(
        out, toy_figures(only, eta=eta), experiment, progress
    )


def _curve_figures(out: Path, only: Sequence[str], eta: float) -> list[Path]:
    """Figure 2, the η phase diagram and the GD trajectories, each with its CSV."""
    makers: dict[str, Callable[[], tuple[Figure, dict[str, np.ndarray]]]] = {
        "fig2": lambda: (figure2(eta=eta), fig2_columns(eta=eta)),
        "eta-phase": lambda: (figure_eta_phase(), eta_phase_columns()),
        "trajectories": lambda: _trajectories(eta),
    }
    written: list[Path] = []
    for name in (n for n in only if n in makers):
        fig, columns = makers[name]()
        written += save_figure(fig, out, name)
        _write_csv(out / f"{name}.csv", columns)
        written.append(out / f"{name}.csv")
    return written


def _trajectories(eta: float) -> tuple[Figure, dict[str, np.ndarray]]:
    simulations = trajectory_runs(eta=eta)
    return figure_trajectories(simulations), trajectory_columns(simulations)


def _toy_figures(
    out: Path, figures: list[ToyFigure], experiment: ToyExperiment, progress: bool
) -> list[Path]:
    """Train every toy network (progress bar), draw the figures, write the boundary table."""
    if not figures:
        return []
    trainings = [(f.data, loss) for f in figures for loss in f.losses]
    desc = f"toy trainings ({experiment.seeds} seeds each)"
    for data, loss in tqdm(trainings, desc=desc, unit="run", disable=not progress):
        experiment.models(data, loss)
    written: list[Path] = []
    for fig in figures:
        written += save_figure(
            figure_toy(experiment, fig.data, fig.losses, title=f"{fig.caption}: "), out, fig.name
        )
    rows = boundary_table(experiment, figures, experiment.seeds)
    _write_csv(out / "toy_boundaries.csv", rows)
    _write_markdown(out / "toy_boundaries.md", rows, experiment)
    return written + [out / "toy_boundaries.csv", out / "toy_boundaries.md"]
