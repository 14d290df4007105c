"""Rows on the paper's own tables (quoted data, msanalysis/data/paper_tables.json)."""

from __future__ import annotations

from functools import cache

import sympy as sp

from ..paper import PRINTED, quoted_tables
from .rule import Claim, Printed, check

PART = "tables"


@cache
def paper_tables() -> dict:
    """The quoted tables, read once (:func:`msanalysis.paper.quoted_tables`)."""
    return quoted_tables()


def _gains() -> dict[tuple[str, str], float]:
    accuracy = paper_tables()["table1"]["accuracy"]
    return {
        (model, attack): accuracy[model]["ms"][attack] - accuracy[model]["ce"][attack]
        for model in accuracy
        for attack in accuracy[model]["ce"]
    }


@check(
    "Section 4.2 least gain",
    corrected=lambda: {"Section 4.2 least gain": min(_gains().values())},
)
def table1_text(printed: Printed) -> Claim:
    cut = printed["Section 4.2 least gain"]
    gains = _gains()
    (worst_model, worst_attack), worst = min(gains.items(), key=lambda item: item[1])
    below = sorted(f"{m} {a} (+{g:.2f})" for (m, a), g in gains.items() if g < cut)
    return Claim(
        id="table1-text",
        part=PART,
        source="Section 4.2, Table 1",
        paper=f"MS improves the accuracy of every network under every attack by at least {cut} "
        "points",
        derived=f"the paper's own Table 1 has {len(below)} of {len(gains)} cells below +{cut}"
        + (": " + ", ".join(below) if below else ""),
        exact=worst >= cut,
        consequence=worst > 0,
        consequence_tested="MS improves every cell of Table 1",
        evidence=f"MS − CE per cell of Table 1 as printed; smallest gain {worst:.2f} points "
        f"({worst_model}, {worst_attack}). These are the paper's numbers, not a reproduction.",
    )


def _table2_cells(table: dict) -> dict[str, dict[tuple[int, int], float]]:
    """Table 2 as {method: {(steps, ε·255): accuracy}} from keys like 'pgd10@8/255'."""
    cells = {}
    for method, row in table.items():
        parsed = {}
        for key, value in row.items():
            steps, eps = key.removeprefix("pgd").split("@")
            parsed[(int(steps), int(eps.split("/")[0]))] = value
        cells[method] = parsed
    return cells


def _non_increasing(cells: dict[tuple[int, int], float]) -> bool:
    """Accuracy never rises with more steps or a larger ε (a stronger attack)."""
    return all(
        cells[a] >= cells[b]
        for a in cells
        for b in cells
        if a != b and a[0] <= b[0] and a[1] <= b[1]
    )


@check(
    "Table 2",
    wrong=lambda p: {
        "Table 2": {**p["Table 2"], "ms": {k: 100.0 - v for k, v in p["Table 2"]["ms"].items()}}
    },
)
def table2_consistency(printed: Printed) -> Claim:
    table = printed["Table 2"]
    cells = _table2_cells(table)
    monotone = {m: _non_increasing(c) for m, c in cells.items()}
    ms = cells["ms"]
    eps = min(e for _, e in ms)
    steps = sorted({s for s, e in ms if e == eps})
    low, high = ms[(steps[-1], eps)], ms[(steps[0], eps)]
    table1 = paper_tables()["table1"]["accuracy"]
    # Table 1's PGD has 40 steps at ε = 8/255: between Table 2's 10 and 50 steps at that ε.
    fits = sorted(m for m, row in table1.items() if low <= row["ms"]["pgd"] <= high)
    return Claim(
        id="table2-consistency",
        part=PART,
        source="Section 4.2, Table 2 (with Table 1)",
        paper="Table 2's adversarial accuracies under PGD (model not stated; the baselines' "
        "numbers quoted from their papers)",
        derived="accuracy non-increasing in steps and ε: "
        + ", ".join(f"{m} {ok}" for m, ok in monotone.items())
        + f"; Table 1's MS PGD-40 (ε = {eps}/255) lies between Table 2's PGD-{steps[-1]} "
        f"{low} and PGD-{steps[0]} {high} for: {', '.join(fits) or 'no model'}",
        exact=all(monotone.values()),
        consequence=bool(fits),
        consequence_tested="Table 2's MS row agrees with Table 1 for some model",
        evidence="cells read from msanalysis/data/paper_tables.json (quoted data, not a "
        "reproduction); a stronger attack (more steps, larger ε) can only lower accuracy; "
        "Table 1's PGD uses 40 steps at ε = 8/255 (Section 4.2).",
    )


def _unattacked_columns(table: dict) -> list[str]:
    """Table 1's columns with no attack: those its quoted settings give no ε for."""
    attacked = {part.split()[0].lower() for part in table["settings"].split(";") if "eps=" in part}
    columns = {a for row in table["accuracy"].values() for loss in row.values() for a in loss}
    return sorted(columns - attacked)


@check("Abstract accuracy kept", "Table 2", corrected=lambda: {"Abstract accuracy kept": sp.false})
def accuracy_kept(printed: Printed) -> Claim:
    stated = bool(printed["Abstract accuracy kept"])
    table1 = paper_tables()["table1"]
    # "Much" has no number in the paper: the row decides whether any clean accuracy is shown.
    clean = _unattacked_columns(table1)
    table2_eps = sorted({e for row in _table2_cells(printed["Table 2"]).values() for _, e in row})
    accuracy = table1["accuracy"]
    # An attacked accuracy bounds the clean one from below (an attack only adds errors).
    floor = {m: max(row["ms"].values()) for m, row in accuracy.items()}
    never_lower = all(row["ms"][a] >= row["ce"][a] for row in accuracy.values() for a in row["ce"])
    return Claim(
        id="accuracy-kept",
        part=PART,
        source="Abstract, Sections 1 and 6",
        paper="MS gives robustness "
        + ("without losing much accuracy (shown)" if stated else "(clean accuracy not shown)"),
        derived=f"the paper's tables have {len(clean)} unattacked column(s)"
        + (f" ({', '.join(clean)})" if clean else "")
        + "; their attacked accuracies bound MS's clean accuracy below by "
        + ", ".join(f"{m} {v}" for m, v in floor.items()),
        exact=stated == bool(clean),
        consequence=never_lower,
        consequence_tested="nothing the paper reports shows MS losing accuracy (MS ≥ CE in every "
        "cell of Table 1)",
        reading="accuracy = clean (unattacked) test accuracy; no theorem of the paper is about "
        "accuracy",
        evidence="columns of Table 1 against the attacks its quoted settings list (each with an "
        f"ε); every column of Table 2 is a PGD attack, ε·255 ∈ {{{', '.join(map(str, table2_eps))}"
        "}. CE's clean accuracy is not reported, so no loss of clean accuracy can be computed; "
        f"MS ≥ CE in every cell of Table 1: {never_lower}.",
    )


@check(
    "Section 4.2 MS highest in Table 2",
    "Table 2",
    "Table 2 sources",
    # Every row measured where the MS row was: the comparison the ranking needs.
    corrected=lambda: {
        "Table 2 sources": dict.fromkeys(
            PRINTED["Table 2 sources"], PRINTED["Table 2 sources"]["ms"]
        )
    },
    wrong=lambda p: {"Section 4.2 MS highest in Table 2": sp.false},
)
def table2_baselines(printed: Printed) -> Claim:
    stated = bool(printed["Section 4.2 MS highest in Table 2"])
    cells = _table2_cells(printed["Table 2"])
    sources = printed["Table 2 sources"]
    columns = sorted(cells["ms"])
    best = {col: max(cells, key=lambda m: cells[m][col]) for col in columns}
    highest = all(method == "ms" for method in best.values())
    runner_up = {col: max(v[col] for m, v in cells.items() if m != "ms") for col in columns}
    same_source = sorted(m for m in cells if sources[m] == sources["ms"])
    return Claim(
        id="table2-baselines",
        part=PART,
        source="Section 4.2, Table 2",
        paper="MS " + ("has" if stated else "does not have") + " the highest adversarial "
        "accuracy in Table 2",
        derived="highest per column: "
        + ", ".join(f"PGD-{s} ε = {e}/255 {best[(s, e)]}" for s, e in columns)
        + "; MS's lead over the best other method: "
        + ", ".join(f"{cells['ms'][c] - runner_up[c]:+.1f}" for c in columns),
        exact=stated == highest,
        consequence=stated and len(same_source) == len(cells),
        consequence_tested="MS ranks first against baselines measured in the same setting",
        reading="Section 4.2's sources for each row (the baselines' numbers follow their "
        "original papers)",
        evidence="cells of the quoted Table 2; rows from the same source as the MS row: "
        f"{', '.join(same_source)} of {len(cells)}; the others: "
        + ", ".join(f"{m} ({sources[m]})" for m in cells if m not in same_source)
        + ". Their network, training and attack settings are those papers', not this one's "
        "(docs/baselines.md retrains them under one protocol).",
    )
