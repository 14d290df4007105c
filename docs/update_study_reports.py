"""Rewrite the committed study reports from their committed results files.

For every study file ``results/fashion-mnist/study/<name>.toml`` whose results file exists:
``<name>.md`` is its report (``msanalysis study FILE --report``; for the baselines studies
Table 2's layout, ``msanalysis baselines FILE --report``); for the studies of
:data:`TABLE_VIEWS` also ``<name>-table1.md``/``.csv`` and ``<name>-table2.md``/``.csv``, as
``msanalysis table1/table2 FILE --report`` write them. ``tests/test_study.py`` and
``tests/test_evaluation_tables.py`` fail when a committed report differs from what this
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


def main() -> int:
    os.chdir(ROOT)  # study files name their results relative to the checkout
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from msanalysis.evaluation import baselines, study_report, tables
    from msanalysis.evaluation.study import load_results, load_study

    for path in sorted(STUDIES.glob("*.toml")):
        study = load_study(path)
        if not Path(study.results).exists():
            continue
        results = load_results(study)
        render = (
            baselines.to_markdown
            if study.name.startswith("baselines")
            else study_report.to_markdown
        )
        path.with_suffix(".md").write_text(render(study, results), encoding="utf-8")
        for table in TABLE_VIEWS.get(study.name, ()):
            base = path.with_name(f"{path.stem}-{table}")
            base.with_suffix(".md").write_text(
                tables.to_markdown(study, results, table), encoding="utf-8"
            )
            base.with_suffix(".csv").write_text(
                tables.to_csv(study, results, table), encoding="utf-8"
            )
        print(f"wrote the reports of {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
