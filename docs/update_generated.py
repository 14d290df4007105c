"""Rewrite the generated findings blocks of README.md and docs/findings.md from the ledger.

docs/findings.md gets ``msanalysis.ledger.summary_markdown`` (what ``msanalysis verify
--summary`` prints); README.md gets :func:`readme_findings`, the counts and the failing claims'
names only. Each block sits between its marker comments; ``tests/test_docs.py`` and
``tests/test_claims.py`` fail when a committed block differs from what this script writes.
Run from the repository root::

    python docs/update_generated.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_MARKERS = ("<!-- findings-short:start -->", "<!-- findings-short:end -->")
FINDINGS_MARKERS = ("<!-- ledger-summary:start -->", "<!-- ledger-summary:end -->")


def readme_findings(rows: list) -> str:
    """Counts per verdict and the ids of the failing claims, for the landing page."""
    from msanalysis import ledger

    failing = [r for r in rows if r.verdict is ledger.Verdict.FAILS]
    counts = ", ".join(f"{v} {n}" for v, n in ledger.counts(rows).items())
    names = ", ".join(f"`{r.id}` ({r.source})" for r in failing)
    return (
        f"Of the paper's {len(rows)} claims checked by `msanalysis verify`: {counts}.\n\n"
        f"The {len(failing)} that fail: {names}."
    )


def block(text: str, markers: tuple[str, str]) -> str:
    """The text between two marker comments, stripped."""
    start, end = markers
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def replace_block(text: str, markers: tuple[str, str], new: str) -> str:
    start, end = markers
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    return f"{head}{start}\n{new.strip()}\n{end}{tail}"


def main() -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from msanalysis import ledger

    rows = ledger.ledger()
    for path, markers, new in (
        (ROOT / "README.md", README_MARKERS, readme_findings(rows)),
        (ROOT / "docs" / "findings.md", FINDINGS_MARKERS, ledger.summary_markdown(rows)),
    ):
        path.write_text(replace_block(path.read_text(encoding="utf-8"), markers, new), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
