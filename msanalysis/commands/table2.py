"""``msanalysis table2``: the paper's Table 2 (PGD-10/50 at eps 8/255 and 16/255), rerun.

As ``msanalysis table1`` (a thin view over ``msanalysis study``), with Table 2's rows.
"""

from __future__ import annotations

import argparse

from .table1 import add_table_arguments, run_table

HELP = (
    "rerun the paper's Table 2 (PGD-10/50 at eps 8/255, 16/255; models x losses x seeds) "
    "through the study machinery, resumably"
)
TABLE = "table2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table_arguments(parser, TABLE)


def run(args: argparse.Namespace) -> int:
    return run_table(args, TABLE)
