"""Table 2 with its baselines trained, not quoted: a view of a study's results.

A baselines study (``results/fashion-mnist/study/baselines.toml``, or ``msanalysis
baselines``) trains CE (= SCE), MS, Center loss, L-GM and MMC alike and attacks each with
Table 2's PGD rows under three objectives, the study variants ``standard`` (cross-entropy,
what the paper's table uses), ``margin`` and ``dlr``. An MMC or L-GM model's logits are
negative distances; the margin and DLR objectives attack their difference, as Pang et al.'s
adaptive attack on −logit_y does. The study report's ``worst-case`` variant counts a sample
as robust only if every objective fails on it.

Every difference against CE is paired (same test images, per seed) and summarised over seeds
with Student's t interval (:mod:`~msanalysis.evaluation.study_report`); this module lays the
numbers out as Table 2, with the paper's quoted column beside them, and says whether the
paper's ranking survives.
"""

from __future__ import annotations

from typing import Any

from ..paper import quoted_tables
from .statistics import SeedInterval
from .study import Study, iter_done
from .study_report import comparisons, format_accuracy, format_difference, unfinished_lines
from .variants import ROW_SETS

__all__ = ["BASELINE_LOSSES", "LABELS", "PAPER_NAMES", "OBJECTIVES", "summary", "to_markdown"]

BASELINE_LOSSES: tuple[str, ...] = ("ce", "ms", "center", "lgm", "mmc")
#: How tables name each loss (SCE is the family's ce).
LABELS = {"ce": "SCE (ce)", "ms": "MS", "center": "Center loss", "lgm": "L-GM", "mmc": "MMC"}
#: The loss's key in the paper's quoted Table 2 (msanalysis/data/paper_tables.json).
PAPER_NAMES = {"ce": "sce", "ms": "ms", "center": "center-loss", "lgm": "l-dm", "mmc": "mmc"}
#: The table's two accuracy columns: the study variant each reads.
OBJECTIVES = {"ce": "standard", "worst": "worst-case"}
ROWS: tuple[str, ...] = tuple(row.name for row in ROW_SETS["table2"])

Entry = dict[str, Any]


def summary(study: Study, results: dict[str, Any]) -> list[Entry]:
    """One entry per (model, epochs, loss, Table 2 row, objective of :data:`OBJECTIVES`) done:
    the loss's name, its accuracy over seeds and its comparison with the reference loss (None
    for the reference itself, whose accuracy is over the seeds it shares with the first loss
    compared: all of them when every run finished)."""
    names = {loss.label: loss.name for loss in study.losses}
    reference: dict[tuple, Entry] = {}
    out: list[Entry] = []
    for c in comparisons(study, results):
        objective = next((o for o, v in OBJECTIVES.items() if v == c.variant), None)
        if objective is None or c.row not in ROWS:
            continue
        key = {"model": c.model, "epochs": c.epochs, "row": c.row, "objective": objective}
        out.append({**key, "loss": names[c.loss], "accuracy": c.accuracy, "vs_reference": c})
        reference.setdefault(
            tuple(key.values()),
            {**key, "loss": study.losses[0].name, "accuracy": c.reference, "vs_reference": None},
        )
    return [*reference.values(), *out]


def _ranking(entries: list[Entry], row: str, objective: str) -> list[str]:
    means = {
        e["loss"]: e["accuracy"].mean
        for e in entries
        if (e["row"], e["objective"]) == (row, objective)
    }
    return sorted((n for n in means if n in PAPER_NAMES), key=lambda n: -means[n])


def ranking_sentence(entries: list[Entry], objective: str) -> str:
    """Whether the paper's order of the losses holds in each row, computed from the means
    (``entries`` of one model and training length)."""
    quoted = quoted_tables()["table2"]["accuracy"]
    same, rows_seen, ms_first, parts = 0, 0, 0, []
    for row in ROWS:
        ours = _ranking(entries, row, objective)
        if len(ours) < 2:
            continue
        theirs = sorted(ours, key=lambda name: -quoted[PAPER_NAMES[name]][row])
        rows_seen += 1
        same += ours == theirs
        ms_first += ours[0] == "ms"
        parts.append(
            f"{row}: ours {' > '.join(LABELS[n] for n in ours)}; "
            f"paper {' > '.join(LABELS[n] for n in theirs)}"
        )
    if not rows_seen:
        return f"Objective `{objective}`: no row has two losses evaluated, no ranking to compare."
    verdict = "survives" if same == rows_seen else "does not survive"
    has_ms = any(e["loss"] == "ms" and e["objective"] == objective for e in entries)
    ms = f"MS first in {ms_first} of {rows_seen}" if has_ms else "MS not evaluated"
    return (
        f"Objective `{objective}`: the paper's ranking {verdict} (same order in {same} of "
        f"{rows_seen} rows; {ms}). " + "; ".join(parts) + "."
    )


def _acc(s: SeedInterval | None) -> str:
    return "" if s is None else format_accuracy(s)


def _diff(entry: Entry | None) -> str:
    c = None if entry is None else entry["vs_reference"]
    if c is None:
        return ""
    return format_difference(c) + ("" if c.difference.n == 1 else f" {c.verdict}")


def to_markdown(study: Study, results: dict[str, Any]) -> str:
    """The table (ours beside the paper's quoted column) and the ranking sentences."""
    entries = summary(study, results)
    quoted = quoted_tables()["table2"]
    find = {(e["model"], e["epochs"], e["loss"], e["row"], e["objective"]): e for e in entries}
    n = sorted({r["n"] for _, r in iter_done(study, results)})
    lines = [
        f"Table 2 with trained baselines: study `{study.name}`, {study.dataset}, robust accuracy "
        f"(%) mean ± std over training seeds {', '.join(map(str, study.seeds))}, "
        f"n = {', '.join(map(str, n)) or 'none yet'} test images per seed. Δ vs "
        f"{LABELS.get(study.losses[0].name, study.losses[0].label)}: mean of the per-seed paired "
        "differences in points with its 95% t-interval over seeds, called higher/lower only "
        "when the interval excludes 0 (one seed: the paired per-sample margin, no call). "
        "`ce`: PGD on cross-entropy (the paper's objective); `worst`: per sample, the worst "
        "case over the objectives ce, margin and dlr.",
        "",
        *unfinished_lines(study, results),
        "| model | epochs | loss | attack | acc, `ce` | Δ, `ce` | acc, `worst` | Δ, `worst` "
        "| paper (quoted, CIFAR-10) |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    keys = sorted(
        {(e["model"], e["epochs"], e["loss"]) for e in entries},
        key=lambda k: (k[0], k[1], [loss.name for loss in study.losses].index(k[2])),
    )
    for model, epochs, loss in keys:
        for row in ROWS:
            ce, worst = (find.get((model, epochs, loss, row, o)) for o in OBJECTIVES)
            if ce is None and worst is None:
                continue
            paper = quoted["accuracy"].get(PAPER_NAMES.get(loss, ""), {}).get(row)
            cells = [
                _acc(ce and ce["accuracy"]),
                _diff(ce),
                _acc(worst and worst["accuracy"]),
                _diff(worst),
            ]
            lines.append(
                f"| {model} | {epochs} | {LABELS.get(loss, loss)} | {row} | "
                + " | ".join(cells)
                + f" | {'' if paper is None else f'{paper:.1f}'} |"
            )
    lines += ["", f"Paper's column: quoted, not rerun ({quoted['caption']}; {quoted['settings']})."]
    for model, epochs in dict.fromkeys(k[:2] for k in keys):
        mine = [e for e in entries if (e["model"], e["epochs"]) == (model, epochs)]
        for objective in OBJECTIVES:
            lines += ["", f"{model}, {epochs} epochs. " + ranking_sentence(mine, objective)]
    return "\n".join(lines) + "\n"
