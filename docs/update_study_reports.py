"""Rewrite the committed study reports from their committed results files.

For every study file ``results/fashion-mnist/study/<name>.toml`` whose results file exists:
``<name>.md`` is its report (``msanalysis study FILE --report``; for the baselines studies
Table 2's layout, ``msanalysis baselines FILE --report``); for the studies of
:data:`TABLE_VIEWS` also ``<name>-table1.md``/``.csv`` and ``<name>-table2.md``/``.csv``, as
``msanalysis table1/table2 FILE --report`` write them. ``tests/test_study.py``
fails when a committed report differs from what this
script writes. Run from the repository root after a
study has run (a study writes only its results file)::

    python docs/update_study_reports.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ROOT / "results" / "fashion-mnist" / "study"
TABLE_VIEWS = {"seeds": ("table1", "table2")}  # the studies whose table views are committed


def reports(path: Path) -> dict[Path, str]:
    """Every committed report of the study file ``path`` and its text (none before it ran).

    Paths in the study file are relative to the checkout: call from its root (:func:`main`
    does)."""
    from msanalysis.evaluation import baselines, study_report, tables
    from msanalysis.evaluation.study import load_results, load_study

    study = load_study(path)
    if not Path(study.results).exists():
        return {}
    results = load_results(study)
    render = (
        baselines.to_markdown if study.name.startswith("baselines") else study_report.to_markdown
    )
    out = {path.with_suffix(".md"): render(study, results)}
    for table in TABLE_VIEWS.get(study.name, ()):
        base = path.with_name(f"{path.stem}-{table}")
        out[base.with_suffix(".md")] = tables.to_markdown(study, results, table)
        out[base.with_suffix(".csv")] = tables.to_csv(study, results, table)
    return out


def main() -> int:
    os.chdir(ROOT)  # study files name their results relative to the checkout
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for path in sorted(STUDIES.glob("*.toml")):
        written = reports(path)
        for target, text in written.items():
            target.write_text(text, encoding="utf-8")
        if written:
            print(f"wrote the reports of {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
