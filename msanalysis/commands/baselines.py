"""``msanalysis baselines``: Table 2 with its baselines trained under one protocol.

A thin view over ``msanalysis study``: the same flags and study files, with defaults that
declare Table 2's grid (CE, MS, Center loss, L-GM and MMC, three training seeds, Table 2's PGD
rows under the ce, margin and dlr objectives), and Table 2's layout for the report::

    msanalysis baselines results/fashion-mnist/study/baselines.toml --device cpu
    msanalysis baselines --seeds 0 --eval-limit 200 --results results/my-baselines.json

It trains the missing runs, attacks the missing cells (both resumable) and writes the table
beside the results file (``<results>.md``) as well as printing it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import study as study_command

HELP = (
    "Table 2 with SCE, MS, Center loss, L-GM and MMC trained alike: PGD-10/50 at 8/255, "
    "16/255, ce and worst-case objectives, seeds, paired differences vs CE"
)

DEFAULTS = {
    "name": "baselines",
    "losses": ["ce", "ms:eta=1.5", "center", "lgm", "mmc"],
    "seeds": [0, 1, 2],
    "attacks": ["table2"],
    "variants": ["standard", "margin", "dlr"],
    "results": "results/baselines.json",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    study_command.add_arguments(parser)
    parser.set_defaults(**DEFAULTS)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.baselines import to_markdown

    study = study_command.declared_study(args)
    results = study_command.results_of(study, args)
    if results is None:  # --dry-run printed the cells
        return 0
    markdown = to_markdown(study, results)
    out = Path(study.results).with_suffix(".md")
    out.write_text(markdown, encoding="utf-8")
    print(markdown, end="")
    print(f"written: {study.results}, {out}")
    return 0
