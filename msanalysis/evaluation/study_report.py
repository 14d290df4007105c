"""A study's results as numbers with their noise: per-loss means over seeds, paired differences.

Every comparison is against the study's *reference* loss (its first ``[[losses]]`` entry, CE
in the shipped studies) on the same test images:

- within a seed, the paired per-sample margin of the difference
  (:func:`~msanalysis.attacks.evaluate.paired_noise_margin`): test-sample noise only;
- across seeds, the mean of the per-seed differences with Student's t interval
  (:func:`~msanalysis.evaluation.statistics.seed_interval`): training-seed noise included.

A difference is called a finding only when the seed interval excludes zero (two seeds or
more); with one seed the report says so and calls nothing a finding.

A study that runs two or more of the objective variants ``standard``, ``margin`` and ``dlr``
also gets the variant ``worst-case``: a sample counts as robust only if it survives all of them.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import torch

from ..attacks.evaluate import paired_noise_margin
from .robustness import unpack_bits
from .statistics import (
    SeedInterval,
    binomial_interval,
    seed_interval,
    t_quantile,
    verdict_of_difference,
)
from .study import LossSetting, Study, eval_cells, iter_done
from .variants import WORST_CASE_OF

__all__ = [
    "Comparison",
    "comparisons",
    "format_accuracy",
    "format_difference",
    "to_markdown",
    "to_csv",
]


@dataclass(frozen=True)
class Comparison:
    """One (model, epochs, variant, row) line: a loss against the reference loss."""

    model: str
    epochs: int
    variant: str
    row: str
    loss: str
    accuracy: SeedInterval  # of this loss, over seeds (fractions)
    reference: SeedInterval  # of the reference loss, over the same seeds
    difference: SeedInterval  # per-seed (loss - reference), paired on the same images
    paired_margins: tuple[float, ...]  # per seed, test-sample noise only
    n_images: int

    @property
    def verdict(self) -> str:
        """'higher', 'lower' or 'no difference' (seed interval of the difference)."""
        return verdict_of_difference(self.difference.low, self.difference.high)


def _correct(result: dict[str, Any]) -> torch.Tensor:
    return torch.from_numpy(unpack_bits(result["bits"], result["n"]))


def comparisons(study: Study, results: dict[str, Any]) -> list[Comparison]:
    """Every loss against the reference loss, for every (model, epochs, variant, row) done."""
    table: dict[tuple, dict[int, torch.Tensor]] = defaultdict(dict)
    for cell, result in iter_done(study, results):
        t = cell.train
        table[(t.model, t.epochs, cell.variant, cell.row.name, t.loss)][t.seed] = _correct(result)
    _add_worst_case(study, table)
    reference = study.losses[0]
    out = []
    for (model, epochs, variant, row, loss), by_seed in table.items():
        if loss == reference:
            continue
        ref = table.get((model, epochs, variant, row, reference), {})
        seeds = sorted(set(by_seed) & set(ref))
        if not seeds:
            continue
        a = [by_seed[s] for s in seeds]
        b = [ref[s] for s in seeds]
        out.append(
            Comparison(
                model=model,
                epochs=epochs,
                variant=variant,
                row=row,
                loss=loss.label,
                accuracy=seed_interval([float(x.double().mean()) for x in a]),
                reference=seed_interval([float(x.double().mean()) for x in b]),
                difference=seed_interval(
                    [
                        float(x.double().mean() - y.double().mean())
                        for x, y in zip(a, b, strict=True)
                    ]
                ),
                paired_margins=tuple(paired_noise_margin(x, y) for x, y in zip(a, b, strict=True)),
                n_images=len(a[0]),
            )
        )
    return out


def _add_worst_case(study: Study, table: dict[tuple, dict[int, torch.Tensor]]) -> None:
    """Add variant ``worst-case``: per sample, robust only if robust under every variant of
    :data:`~msanalysis.evaluation.variants.WORST_CASE_OF` the study runs (two or more), for
    the (model, epochs, row, loss, seed) where all of them are done."""
    of = [v for v in WORST_CASE_OF if v in study.variants]
    if len(of) < 2:
        return
    for model, epochs, _, row, loss in [k for k in table if k[2] == of[0]]:
        parts = [table.get((model, epochs, v, row, loss), {}) for v in of]
        for seed in set.intersection(*(set(p) for p in parts)):
            worst = torch.stack([p[seed] for p in parts]).all(0)
            table[(model, epochs, "worst-case", row, loss)][seed] = worst


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.2f}"


def format_accuracy(s: SeedInterval) -> str:
    """Percent, with the std over seeds when there are two or more: ``52.00 ± 1.00``."""
    return _pct(s.mean) if s.n == 1 else f"{_pct(s.mean)} ± {_pct(s.std)}"


def format_difference(c: Comparison) -> str:
    """Points: the seed interval, ``-3.37 [-5.95, -0.78]``; with one seed only the paired
    per-sample margin, ``+20.00 (paired ±7.88, 1 seed)``."""
    d = c.difference
    if d.n == 1:
        return f"{100 * d.mean:+.2f} (paired ±{100 * c.paired_margins[0]:.2f}, 1 seed)"
    return f"{100 * d.mean:+.2f} [{100 * d.low:+.2f}, {100 * d.high:+.2f}]"


def to_markdown(study: Study, results: dict[str, Any]) -> str:
    """The study's comparisons as a Markdown table, with what counts as a difference."""
    rows = comparisons(study, results)
    ref: LossSetting = study.losses[0]
    lines = [
        f"Study `{study.name}` on {study.dataset}: robust accuracy (%) over training seeds "
        f"{', '.join(map(str, study.seeds))}; attack seed {study.attack_seed}; "
        f"reference loss `{ref.label}`.",
        "",
        "A difference (loss − reference, points) is shown with the 95% t-interval of the mean "
        "of the per-seed paired differences; it is called higher/lower only when that interval "
        "excludes 0. With one seed only the paired per-sample margin (test-sample noise, not "
        "training noise) is shown and nothing is called a difference.",
        "",
        *_two_seeds(study),
        *unfinished_lines(study, results),
        "| model | epochs | variant | attack | loss | seeds | accuracy | reference | difference "
        "| call |",
        "|---|---:|---|---|---|---:|---:|---:|---:|---|",
    ]
    for c in sorted(rows, key=lambda c: (c.model, c.epochs, c.variant, c.row, c.loss)):
        lines.append(
            f"| {c.model} | {c.epochs} | {c.variant} | {c.row} | {c.loss} | {c.accuracy.n} | "
            f"{format_accuracy(c.accuracy)} | {format_accuracy(c.reference)} | "
            f"{format_difference(c)} | {c.verdict} |"
        )
    n = {r["n"] for r in results["cells"].values() if r.get("applies")}
    lines += ["", f"Test images per cell: {', '.join(map(str, sorted(n))) or 'none yet'}."]
    skipped: dict[tuple[str, str], int] = defaultdict(int)
    for cell in eval_cells(study):
        r = results["cells"].get(cell.key)
        if r is not None and not r.get("applies"):
            skipped[(cell.variant, r.get("why", ""))] += 1
    if skipped:
        lines += [
            "",
            "Not applicable (left out): "
            + "; ".join(
                f"variant `{v}`, {n} cells ({why})" for (v, why), n in sorted(skipped.items())
            )
            + ".",
        ]
    return "\n".join(lines) + "\n"


def _two_seeds(study: Study) -> list[str]:
    """A caveat for two seeds: a t-interval with one degree of freedom is weak evidence."""
    if len(study.seeds) != 2:
        return []
    return [
        f"With two seeds the interval has one degree of freedom (t quantile {t_quantile(2):.2f}): "
        "it is wide, and two equal paired differences give it zero width, so a call made "
        "from two seeds is weak evidence.",
        "",
    ]


def unfinished_lines(study: Study, results: dict[str, Any]) -> list[str]:
    """A line saying how much of the grid is done, when not all of it is."""
    cells = eval_cells(study)
    done = sum(c.key in results["cells"] for c in cells)
    if done == len(cells):
        return []
    return [
        f"**Unfinished:** {done} of {len(cells)} attack cells done. Each row compares the "
        "seeds done for both losses.",
        "",
    ]


def to_csv(study: Study, results: dict[str, Any]) -> str:
    """Long format, one line per finished cell, with its exact binomial 95% interval."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "model",
            "loss",
            "epochs",
            "seed",
            "variant",
            "attack",
            "correct",
            "n",
            "accuracy",
            "ci_low",
            "ci_high",
            "checkpoint_epoch",
        ]
    )
    for cell, r in iter_done(study, results):
        low, high = binomial_interval(r["correct"], r["n"])
        t = cell.train
        w.writerow(
            [
                t.model,
                t.loss.label,
                t.epochs,
                t.seed,
                cell.variant,
                cell.row.name,
                r["correct"],
                r["n"],
                f"{r['correct'] / r['n']:.6f}",
                f"{low:.6f}",
                f"{high:.6f}",
                r["epoch"],
            ]
        )
    return buf.getvalue()
