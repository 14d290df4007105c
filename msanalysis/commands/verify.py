"""``msanalysis verify``: run the claims ledger and print it."""

from __future__ import annotations

import argparse
import re
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


_RELATION = re.compile(r"(\S+) ([=<>≥≤→∈−]) (?=\S)")
_KEEP = "\u00a0"  # a space textwrap does not break at; turned back into a space after wrapping


def _fill(label: str, body: str) -> str:
    """Wrap at 100 columns, never inside a formula or a short relation such as "α = 1"."""
    kept = _RELATION.sub(lambda m: f"{m[1]}{_KEEP}{m[2]}{_KEEP}", body)
    wrapped = textwrap.fill(
        kept,
        100,
        initial_indent=f"    {label:<9}",
        subsequent_indent=" " * 13,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return wrapped.replace(_KEEP, " ")


def _text(rows) -> str:
    from ..ledger import PARTS, counts

    summary = ", ".join(f"{n} {v}" for v, n in counts(rows).items())
    out = [
        "msanalysis verify: the claims ledger of 'Multi-stationary point losses for robust model'",
        f"{len(rows)} claims: {summary}",
        "verdict: HOLDS = exact as printed, and the consequence holds",
        "         HOLDS_WITH_CORRECTION = not exact, the consequence survives the correction",
        "         FAILS = the consequence fails, exact or not ('facts' gives both per row)",
    ]
    part = None
    for r in rows:
        if r.part != part:
            part = r.part
            out += ["", PARTS[part], "=" * len(PARTS[part])]
        out.append(f"{r.verdict.value:<22} {r.id:<26} {r.source}")
        fields = [("paper", r.paper), ("derived", r.derived)]
        facts = (
            f"exact {'yes' if r.exact else 'no'}; consequence "
            f"{'holds' if r.consequence else 'fails'}"
        )
        fields += [("tests", r.consequence_tested), ("facts", facts)] + (
            [("reading", r.reading)] if r.reading else []
        )
        for label, body in (*fields, ("evidence", r.evidence)):
            out.append(_fill(label, body))
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
    from .. import ledger

    rows, errors = [], []
    for entry in ledger.CHECKS:
        try:
            rows.append(ledger.run(entry))
        except Exception as err:  # a check that cannot run is reported, never hidden
            errors.append(f"{entry.name}: {type(err).__name__}: {err}")
    if args.json:
        print(ledger.to_json(rows))
    elif args.markdown:
        print(_markdown(rows))
    elif args.summary:
        print(ledger.summary_markdown(rows))
    else:
        print(_text(rows))
    for line in errors:
        print(f"msanalysis verify: check errored: {line}", file=sys.stderr)
    return 1 if errors else 0
