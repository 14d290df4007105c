"""``msanalysis models``: the registered networks, their input shapes and parameter counts."""

from __future__ import annotations

import argparse
import json

HELP = "list the networks: name, input shape, parameter count"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument("--num-classes", type=int, default=10, help="logits per model (default 10)")


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..training.models import model_info

    if args.num_classes < 2:
        raise UsageError(f"--num-classes={args.num_classes}: expected >= 2")
    rows = model_info(num_classes=args.num_classes)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':<12} {'input':<10} {'parameters':>12}  {'normalize':<14} description")
    for r in rows:
        shape = "x".join(map(str, r["input_shape"]))
        print(
            f"{r['name']:<12} {shape:<10} {r['parameters']:>12,}  {r['normalize'] or '-':<14} "
            f"{r['description']}"
        )
    return 0
