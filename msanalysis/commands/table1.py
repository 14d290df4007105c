"""``msanalysis table1``: the paper's Table 1 (FGSM, BIM, PGD, UPGD x models x losses), rerun.

A thin view over ``msanalysis study``: the same flags and study files, with the table's attack
rows by default, and the paper's layout for the report::

    msanalysis table1 --models small-cnn --losses ce ms:eta=1.5 --seeds 0 1 2 --device cpu
    msanalysis table1 results/cifar10/tables.toml        # the paper's networks, on a GPU
    msanalysis table1 results/fashion-mnist/study/seeds.toml --report   # a finished study

It trains the missing runs, attacks the missing cells (both resumable) and writes the table
beside the results file, as ``<results>-table1.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from . import study as study_command

HELP = (
    "rerun the paper's Table 1 (FGSM/BIM/PGD/UPGD accuracy, models x losses x seeds) through "
    "the study machinery, resumably"
)
TABLE = "table1"


def add_table_arguments(parser: argparse.ArgumentParser, table: str) -> None:
    study_command.add_arguments(parser)
    parser.set_defaults(name=table, attacks=[table], results=f"results/{table}.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table_arguments(parser, TABLE)


def run_table(args: argparse.Namespace, table: str) -> int:
    from ..evaluation.tables import to_csv, to_markdown

    study = study_command.declared_study(args)
    if table not in study.attacks:
        raise UsageError(
            f"study {study.name!r} does not run {table}'s attacks (attacks = "
            f"{list(study.attacks)}); add {table!r} to them"
        )
    results = study_command.results_of(study, args)
    if results is None:  # --dry-run printed the cells
        return 0
    base = Path(study.results)
    md, csv_path = (base.with_name(f"{base.stem}-{table}{ext}") for ext in (".md", ".csv"))
    markdown = to_markdown(study, results, table)
    md.write_text(markdown, encoding="utf-8")
    csv_path.write_text(to_csv(study, results, table), encoding="utf-8")
    print(markdown, end="")
    print(f"written: {md}, {csv_path}")
    return 0


def run(args: argparse.Namespace) -> int:
    return run_table(args, TABLE)
