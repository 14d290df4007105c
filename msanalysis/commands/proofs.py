"""``msanalysis proofs``: regenerate the Markdown derivations in ``proofs/``."""

from __future__ import annotations

import argparse

HELP = "regenerate proofs/: one Markdown derivation per theorem and one for the gradients"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="proofs", help="output folder (default: proofs)")


def run(args: argparse.Namespace) -> int:
    from ..proofs import write

    for path in write(args.out):
        print(path)
    return 0
