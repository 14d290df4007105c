"""Tables 1 and 2 of the paper: a view of a study's results in the paper's layout.

``msanalysis table1`` and ``table2`` declare a study (:mod:`~msanalysis.evaluation.study`)
whose attack rows are the table's (:data:`~msanalysis.evaluation.variants.ROW_SETS`), run it
(training and attacking what is missing, resumably, cell by cell) and lay its results out as
the paper's table: one column per loss, accuracy as mean ± std over the training seeds, each
loss's difference from the study's reference loss (paired on the same images, with its seed
interval: :mod:`~msanalysis.evaluation.study_report`), and the paper's reported numbers
(``msanalysis/data/paper_tables.json``) beside ours where the data set is the paper's,
labelled as the paper's.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from ..paper import quoted_tables
from .statistics import SeedInterval, seed_interval
from .study import Study, iter_done
from .study_report import Comparison, comparisons, format_accuracy, format_difference
from .variants import ROW_SETS

__all__ = ["TABLES", "accuracies", "to_markdown", "to_csv"]

TABLES = ("table1", "table2")

#: (model, epochs, variant, loss label) -> row (``clean`` too) -> {seed: (correct, n)}
Grid = dict[tuple[str, int, str, str], dict[str, dict[int, tuple[int, int]]]]


def _rows(table: str) -> list[str]:
    return ["clean", *(row.name for row in ROW_SETS[table])]


def accuracies(study: Study, results: dict[str, Any], table: str) -> Grid:
    """The finished cells of ``table``'s rows, grouped by column; ``clean`` from every run."""
    wanted = set(_rows(table))
    grid: Grid = defaultdict(lambda: defaultdict(dict))
    for cell, r in iter_done(study, results):
        if cell.row.name not in wanted:
            continue
        t = cell.train
        column = grid[(t.model, t.epochs, cell.variant, t.loss.label)]
        column[cell.row.name][t.seed] = (r["correct"], r["n"])
        column["clean"][t.seed] = (r["clean_correct"], r["n"])
    return grid


def _interval(by_seed: dict[int, tuple[int, int]]) -> SeedInterval:
    return seed_interval([k / n for k, n in by_seed.values()])


def _paper_column(study: Study, table: str, model: str, loss: str) -> dict[str, float] | None:
    """The paper's reported Table 1 numbers of (model, loss), where the data set is the
    paper's (CIFAR-10); Table 2 names no model, so it has none beside ours."""
    paper = quoted_tables()[table]
    if table != "table1" or paper["dataset"] != study.dataset:
        return None
    return paper["accuracy"].get(model, {}).get(loss)


def _block(study: Study, results: dict[str, Any], table: str, key: tuple, grid: Grid) -> list[str]:
    """One Markdown table: the rows of ``table`` for one (model, epochs, variant)."""
    model, epochs, variant = key
    labels = [loss.label for loss in study.losses if (*key, loss.label) in grid]
    names = {loss.label: loss.name for loss in study.losses}
    ref = study.losses[0].label
    versus = {
        (c.row, c.loss): c
        for c in comparisons(study, results)
        if (c.model, c.epochs, c.variant) == key
    }
    header, cols = ["attack"], []
    for label in labels:
        header.append(f"{label} (ours)")
        cols.append(lambda row, lab=label: _accuracy(_cell(grid, (*key, lab), row)))
        reported = _paper_column(study, table, model, names[label])
        if reported:
            header.append(f"{names[label]} (paper)")
            cols.append(lambda row, rep=reported: "" if row not in rep else f"{rep[row]:.2f}")
        if label != ref and ref in labels:
            header.append(f"{label} − {ref}")
            cols.append(lambda row, lab=label: _difference(versus.get((row, lab))))
    lines = [
        f"**{model}, {epochs} epochs, variant `{variant}`**",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for row in _rows(table):
        lines.append("| " + " | ".join([row, *(c(row) for c in cols)]) + " |")
    return lines


def _accuracy(s: SeedInterval | None) -> str:
    return "" if s is None else format_accuracy(s)


def _difference(c: Comparison | None) -> str:
    return "" if c is None else format_difference(c)


def _cell(grid: Grid, column: tuple, row: str) -> SeedInterval | None:
    by_seed = grid[column].get(row)
    return _interval(by_seed) if by_seed else None


def to_markdown(study: Study, results: dict[str, Any], table: str) -> str:
    """Our table (one block per model, training length and variant), then the paper's."""
    grid = accuracies(study, results, table)
    n = sorted({r["n"] for _, r in iter_done(study, results)})
    lines = [
        f"Table {table[-1]} from study `{study.name}` on {study.dataset}: accuracy (%) under "
        f"attack, mean ± std over training seeds {', '.join(map(str, study.seeds))}, attack "
        f"seed {study.attack_seed}, n = {', '.join(map(str, n)) or 'none yet'} test images. "
        "Variant `standard`: the attacks ascend cross-entropy; `train-loss`: each model's own "
        "training loss (see the study page). Differences against the reference loss are "
        "paired on the same images: the mean of the per-seed differences with its 95% "
        "t-interval over seeds (one seed: the paired per-sample margin).",
    ]
    for key in sorted({k[:3] for k in grid}):
        lines += ["", *_block(study, results, table, key, grid)]
    lines += ["", *_paper_table(table)]
    return "\n".join(lines) + "\n"


def _paper_table(table: str) -> list[str]:
    p = quoted_tables()[table]
    lines = [f"Paper's reported values ({p['caption']}; {p['settings']}):", ""]
    if table == "table1":
        cols = ["fgsm", "bim", "pgd", "upgd"]
        lines += ["| model | loss | " + " | ".join(cols) + " |", "|---|---|" + "---:|" * len(cols)]
        for model, by_loss in p["accuracy"].items():
            for loss, acc in by_loss.items():
                values = " | ".join(f"{acc[c]:.2f}" if c in acc else "" for c in cols)
                lines.append(f"| {model} | {loss} | {values} |")
        return lines
    cols = _rows("table2")[1:]
    lines += ["| loss | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for loss, acc in p["accuracy"].items():
        lines.append(
            f"| {loss} | " + " | ".join(f"{acc[c]:.2f}" if c in acc else "" for c in cols) + " |"
        )
    return lines


def to_csv(study: Study, results: dict[str, Any], table: str) -> str:
    """Long format: one line per (source, model, loss, epochs, seed, variant, attack)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["table", "source", "dataset", "model", "loss", "epochs", "seed", "variant", "attack"]
        + ["correct", "n", "accuracy_pct"]
    )
    for (model, epochs, variant, loss), rows in accuracies(study, results, table).items():
        for row, by_seed in rows.items():
            for seed, (k, n) in sorted(by_seed.items()):
                w.writerow(
                    [table, "ours", study.dataset, model, loss, epochs, seed, variant, row]
                    + [k, n, f"{100 * k / n:.2f}"]
                )
    paper = quoted_tables()[table]
    by_model = paper["accuracy"] if table == "table1" else {"not stated": paper["accuracy"]}
    for model, by_loss in by_model.items():
        for loss, acc in by_loss.items():
            for attack, value in acc.items():
                w.writerow(
                    [table, "paper (reported)", paper["dataset"], model, loss, "", "", "", attack]
                    + ["", "", value]
                )
    return buf.getvalue()
