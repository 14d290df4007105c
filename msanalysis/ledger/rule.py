"""The verdict rule and the row type of the claims ledger.

Every row computes two facts with separate code:

* ``exact``: the printed statement, as printed, is what msanalysis derives;
* ``consequence``: what the paper *uses* the statement for (named in ``consequence_tested``)
  survives when the derived statement replaces the printed one.

:func:`judge` maps them to a verdict and nothing overrides it: ``FAILS`` if the consequence
fails (an exact statement whose use does not follow fails too), else ``HOLDS`` if exact and
``HOLDS_WITH_CORRECTION`` if not.

>>> judge(exact=False, consequence=True).value
'HOLDS_WITH_CORRECTION'
>>> judge(exact=True, consequence=False).value
'FAILS'
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["Verdict", "judge", "Claim", "Check", "CHECKS", "PARTS", "check", "run_check"]


class Verdict(str, enum.Enum):
    HOLDS = "HOLDS"
    HOLDS_WITH_CORRECTION = "HOLDS_WITH_CORRECTION"
    FAILS = "FAILS"


def judge(*, exact: bool, consequence: bool) -> Verdict:
    """The verdict from the two computed facts (see the module docstring)."""
    if not consequence:
        return Verdict.FAILS
    return Verdict.HOLDS if exact else Verdict.HOLDS_WITH_CORRECTION


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One row of the ledger; its verdict is computed from ``exact`` and ``consequence``.

    Attributes:
      id: stable row name; part: the part of the paper (a key of :data:`PARTS`);
      source: equation, theorem or section.
      paper, derived: the printed statement and the derived one, as sentences.
      exact, consequence: the two computed facts (see the module docstring).
      consequence_tested: what the paper uses the statement for, the thing ``consequence``
        checks (e.g. "the η threshold").
      reading: which reading of the paper the row uses, where there is more than one.
      evidence: how both facts were computed, built from the results.
      seconds: wall time of the check.
    """

    id: str
    part: str
    source: str
    paper: str
    derived: str
    exact: bool
    consequence: bool
    consequence_tested: str
    evidence: str
    reading: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("exact", "consequence"):  # sympy booleans -> plain bools, for JSON
            object.__setattr__(self, name, bool(getattr(self, name)))

    @property
    def verdict(self) -> Verdict:
        return judge(exact=self.exact, consequence=self.consequence)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict.value}


Printed = Mapping[str, Any]


@dataclass(frozen=True)
class Check:
    """A registered row: its function of the printed statements, and how to mutate them.

    Attributes:
      fn: ``fn(printed) -> Claim``; ``printed`` maps keys of :data:`msanalysis.paper.PRINTED`
        to values, so a test can substitute any statement.
      keys: the keys of ``printed`` the row reads.
      corrected: the derived statements in the printed form (keys -> values): substituting
        them must make the row HOLD. None for a row that HOLDS as printed.
      wrong: deliberately wrong statements (keys -> values) that must make the row FAIL.
    """

    fn: Callable[[Printed], Claim]
    keys: tuple[str, ...]
    corrected: Callable[[], dict[str, Any]] | None = None
    wrong: Callable[[Printed], dict[str, Any]] | None = field(default=None)

    @property
    def name(self) -> str:
        return self.fn.__name__


PARTS: dict[str, str] = {
    "gradients": "Losses and their gradients (eqs. 1-8, Figure 2)",
    "theorem1": "Theorem 1: cross-entropy (eqs. 9-16, Section 3.2)",
    "theorem2": "Theorem 2: MS loss on two points (eqs. 17-30)",
    "boundaries": "Sections 3-4: boundaries, imbalance",
    "theorem3": "Theorem 3: the η threshold (Section 5, eqs. 31-36)",
    "section5": "Section 5: related losses and readings",
    "simulations": "Gradient-descent simulations",
    "tables": "The paper's tables",
}

CHECKS: list[Check] = []


def check(
    *keys: str,
    corrected: Callable[[], dict[str, Any]] | None = None,
    wrong: Callable[[Printed], dict[str, Any]] | None = None,
) -> Callable[[Callable[[Printed], Claim]], Callable[[Printed], Claim]]:
    """Register a row reading ``keys`` of the printed data; rows run in definition order."""

    def register(fn: Callable[[Printed], Claim]) -> Callable[[Printed], Claim]:
        CHECKS.append(Check(fn, keys, corrected, wrong))
        return fn

    return register


def run_check(entry: Check, printed: Printed) -> Claim:
    """Run one row on ``printed`` and record its wall time."""
    start = time.perf_counter()
    row = entry.fn(printed)
    return replace(row, seconds=round(time.perf_counter() - start, 3))
