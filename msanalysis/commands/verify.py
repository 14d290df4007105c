"""``msanalysis verify``: run the claims ledger and print it."""

from __future__ import annotations

import argparse
import sys
import textwrap

HELP = "derive and judge every claim of the paper (the claims ledger)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the ledger as a JSON list")
    form.add_argument(
        "--markdown", action="store_true", help="print the ledger as a Markdown table"
    )
    form.add_argument(
        "--summary",
        action="store_true",
        help="print the README's summary: counts per verdict, failing rows",
    )


def _text(rows) -> str:
    out = []
    for r in rows:
        out.append(f"{r.verdict.value:<22} {r.id:<26} {r.source}")
        for label, body in (("paper", r.paper), ("derived", r.derived), ("evidence", r.evidence)):
            out.append(
                textwrap.fill(
                    body, 100, initial_indent=f"    {label:<9}", subsequent_indent=" " * 13
                )
            )
    return "\n".join(out)


def _markdown(rows) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| id | source | paper | derived | verdict | evidence |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {r.id} | {cell(r.source)} | {cell(r.paper)} | {cell(r.derived)} | "
        f"**{r.verdict.value}** | {cell(r.evidence)} |"
        for r in rows
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from .. import claims

    rows, errors = [], []
    for fn in claims.CHECKS:
        try:
            rows.append(claims.run_check(fn))
        except Exception as err:  # a check that cannot run is reported, never hidden
            errors.append(f"{fn.__name__}: {type(err).__name__}: {err}")
    if args.json:
        print(claims.to_json(rows))
    elif args.markdown:
        print(_markdown(rows))
    elif args.summary:
        print(claims.summary_markdown(rows))
    else:
        print(_text(rows))
        counts = claims.counts(rows)
        print("\n" + ", ".join(f"{n} {v}" for v, n in counts.items()) + f" ({len(rows)} claims)")
    for line in errors:
        print(f"msanalysis verify: check errored: {line}", file=sys.stderr)
    return 1 if errors else 0
