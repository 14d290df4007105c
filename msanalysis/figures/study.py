"""A robustness study's figures (PNG + PDF + CSV): accuracy against ε, against η, against epochs.

- ``<study>-eps``: robust accuracy under PGD-40 against ε (rows ``pgd40@E/255`` of the
  ``pgd-eps`` set), one line per loss, the band spanning the seeds' min-max;
- ``<study>-eta``: the MS − reference difference under each attack row against η, one point
  per seed and the mean (losses of the study that take η);
- ``<study>-epochs``: accuracy against training epochs, per loss and attack row (not the
  ``pgd-eps`` rows, which the ε figure shows), each point marked with its number of seeds.

A figure whose data the study does not have (one ε, one η, one epoch count) is not drawn.
Only the "standard" evaluation variant is plotted.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from ..evaluation.study import Study, iter_done
from .build import save_figure

__all__ = ["study_points", "study_figures"]

_EPS_ROW = re.compile(r"pgd40@([0-9.]+)/255")


def study_points(study: Study, results: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per finished standard-variant cell: model, loss, params, epochs, seed, row, acc."""
    return [
        {
            "model": cell.train.model,
            "loss": cell.train.loss.name,
            "label": cell.train.loss.label,
            "eta": cell.train.loss.kwargs.get("eta"),
            "epochs": cell.train.epochs,
            "seed": cell.train.seed,
            "row": cell.row.name,
            "accuracy": r["correct"] / r["n"],
        }
        for cell, r in iter_done(study, results)
        if cell.variant == "standard"
    ]


def _write_csv(path: Path, points: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(points[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(points)
    return path


def _eps_figure(points: list[dict[str, Any]], title: str) -> Figure | None:
    groups: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        m = _EPS_ROW.fullmatch(p["row"])
        if m:
            groups[f"{p['model']} {p['label']} ({p['epochs']} ep.)"][float(m[1])].append(
                p["accuracy"]
            )
    if not any(len(by_eps) > 1 for by_eps in groups.values()):
        return None
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for label, by_eps in sorted(groups.items()):
        eps = np.array(sorted(by_eps))
        acc = [np.array(by_eps[e]) * 100 for e in eps]
        seeds = _seeds_label(min(len(a) for a in acc))
        (line,) = ax.plot(eps, [a.mean() for a in acc], marker="o", label=f"{label}, {seeds}")
        ax.fill_between(
            eps, [a.min() for a in acc], [a.max() for a in acc], alpha=0.2, color=line.get_color()
        )
    ax.set(xlabel="PGD-40 ε (× 1/255, [0, 1] pixels)", ylabel="robust accuracy (%)", title=title)
    ax.legend(fontsize="small")
    return fig


def _eta_figure(points: list[dict[str, Any]], reference: str, title: str) -> Figure | None:
    ref = {
        (p["model"], p["epochs"], p["seed"], p["row"]): p["accuracy"]
        for p in points
        if p["label"] == reference
    }
    diffs: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        key = (p["model"], p["epochs"], p["seed"], p["row"])
        if p["eta"] is not None and key in ref:
            diffs[f"{p['model']} {p['loss']} {p['row']}"][p["eta"]].append(
                100 * (p["accuracy"] - ref[key])
            )
    if not any(len(by_eta) > 1 for by_eta in diffs.values()):
        return None
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for label, by_eta in sorted(diffs.items()):
        etas = sorted(by_eta)
        (line,) = ax.plot(etas, [np.mean(by_eta[e]) for e in etas], marker="o", label=label)
        for e in etas:
            ax.scatter([e] * len(by_eta[e]), by_eta[e], s=10, color=line.get_color(), alpha=0.5)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(xscale="log", xlabel="η", ylabel=f"accuracy − {reference} (points)", title=title)
    etas = sorted({e for by_eta in diffs.values() for e in by_eta})
    ax.set_xticks(etas, [f"{e:g}" for e in etas])  # the studied η, not log-scale minor labels
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize="small")
    return fig


def _seeds_label(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}"


def _epochs_figure(points: list[dict[str, Any]], title: str) -> Figure | None:
    """One colour per attack row, one line style per loss; the ε sweep's rows are left to the
    ε figure. Each point's seed count is marked beside it."""
    groups: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        if not _EPS_ROW.fullmatch(p["row"]):
            key = (p["row"], f"{p['model']} {p['label']}")
            groups[key][p["epochs"]].append(100 * p["accuracy"])
    if not any(len(by_epochs) > 1 for by_epochs in groups.values()):
        return None
    fig = Figure(figsize=(7.5, 4), layout="constrained")
    ax = fig.subplots()
    rows = sorted({row for row, _ in groups})
    losses = sorted({loss for _, loss in groups})
    for (row, loss), by_epochs in sorted(groups.items()):
        epochs = sorted(by_epochs)
        ax.errorbar(
            epochs,
            [np.mean(by_epochs[e]) for e in epochs],
            yerr=[np.std(by_epochs[e]) for e in epochs],
            marker="o",
            capsize=3,
            color=f"C{rows.index(row)}",
            linestyle=("-", "--", ":", "-.")[losses.index(loss) % 4],
            label=f"{loss} {row}",
        )
        for e in epochs:
            ax.annotate(
                str(len(by_epochs[e])),
                (e, np.mean(by_epochs[e])),
                textcoords="offset points",
                xytext=(4, 2),
                fontsize="x-small",
            )
    ax.set_xticks(sorted({e for by in groups.values() for e in by}))
    ax.set(xlabel="training epochs", ylabel="accuracy (%), mean ± std (n seeds)", title=title)
    fig.legend(loc="outside right upper", fontsize="x-small")
    return fig


def study_figures(study: Study, results: dict[str, Any], out: Path) -> list[Path]:
    """Draw every figure the study has data for into ``out``; return the files written."""
    points = study_points(study, results)
    if not points:
        return []
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_csv(out / f"{study.name}.csv", points)]
    title = f"{study.name}: {study.dataset}, standard evaluation (CE objective)"
    figures = {
        "eps": _eps_figure(points, title),
        "eta": _eta_figure(points, study.losses[0].label, title),
        "epochs": _epochs_figure(points, title),
    }
    for name, fig in figures.items():
        if fig is not None:
            written += save_figure(fig, out, f"{study.name}-{name}")
    return written
