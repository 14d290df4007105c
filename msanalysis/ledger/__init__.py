"""The claims ledger: each claim of the paper, what it prints, what msanalysis derives, a verdict.

A verdict is never typed in: every row computes ``exact`` and ``consequence`` with separate
code and :func:`judge` maps them (:mod:`msanalysis.ledger.rule`). Each row reads its printed
statement from :data:`msanalysis.paper.PRINTED`, so a test can substitute a wrong or the
derived one and watch the verdict move (the mutation test in ``tests/test_claims.py``).

Modules, one per part of the paper: :mod:`.gradients`, :mod:`.theorem1`, :mod:`.theorem2`,
:mod:`.boundaries`, :mod:`.theorem3`, :mod:`.section5`, :mod:`.simulations`, :mod:`.tables`;
comparisons shared by all rows in :mod:`.compare`. See docs/ledger.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from types import SimpleNamespace
from typing import Any

from ..paper import PRINTED
from . import (  # noqa: F401
    boundaries,
    gradients,
    section5,
    simulations,
    tables,
    theorem1,
    theorem2,
    theorem3,
)
from .rule import CHECKS, PARTS, Check, Claim, Verdict, judge, run_check

__all__ = [
    "Verdict",
    "Claim",
    "Check",
    "CHECKS",
    "PARTS",
    "judge",
    "run_check",
    "run",
    "ledger",
    "counts",
    "summary_markdown",
    "to_json",
    "functions",
]

_ORDER = list(PARTS)
CHECKS.sort(key=lambda c: _ORDER.index(c.fn.__module__.rsplit(".", 1)[-1]))


def run(entry: Check, printed: Mapping[str, Any] | None = None) -> Claim:
    """One row on the paper's printed data, or on substituted statements."""
    return run_check(entry, PRINTED if printed is None else {**PRINTED, **printed})


functions = SimpleNamespace(**{entry.name: partial(run, entry) for entry in CHECKS})
"""Each row by its function name, called without arguments on the paper's data:
``functions.eq8_gradient()`` is the Claim of row eq8-gradient."""


def ledger() -> list[Claim]:
    """Run every check, in order of the paper's parts. Errors propagate."""
    return [run(entry) for entry in CHECKS]


def counts(rows: list[Claim]) -> dict[str, int]:
    return {v.value: sum(r.verdict is v for r in rows) for v in Verdict}


def summary_markdown(rows: list[Claim]) -> str:
    """The README's ledger summary: counts per verdict and the rows that fail."""
    c = counts(rows)
    lines = [
        "| verdict | claims |",
        "|---|---|",
        *(f"| {v} | {n} |" for v, n in c.items()),
        "",
        "Claims that fail:",
        "",
        *(
            f"- **{r.id}** ({r.source}): the paper says {r.paper}; msanalysis derives {r.derived}."
            for r in rows
            if r.verdict is Verdict.FAILS
        ),
    ]
    return "\n".join(lines)


def to_json(rows: list[Claim]) -> str:
    return json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2)
