"""``msanalysis check-gradients``: sympy vs torch autograd vs numpy for every loss of the family."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

HELP = (
    "cross-check each loss's symbolic gradients and values against torch autograd and numpy "
    "(float64)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--n-random", type=int, default=32, help="random logit rows per set and K (default 32)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random logits (default 0)")


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..gradient_check import REL_FLOOR, check_gradients

    if args.n_random < 1:
        raise UsageError(f"--n-random must be >= 1; got {args.n_random}")
    checks = check_gradients(n_random=args.n_random, seed=args.seed)
    if args.json:
        rows = [{**asdict(c), "max_rel_error": c.max_rel_error} for c in checks]
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"error = |a - b| / max(|b|, {REL_FLOOR:g}); reference: sympy at 100 digits; K = 2, 3, 10"
    )
    heads = ("dl/dxi", "dl/do_t", "dl/do_j", "L torch", "L numpy", "max")
    print(f"{'loss':22} {'points':>6} " + " ".join(f"{h:>9}" for h in heads) + "  non-finite")
    for c in checks:
        values = (c.grad_xi, c.grad_true, c.grad_other, c.loss_torch, c.loss_numpy, c.max_rel_error)
        bad = ", ".join(f"{form} {n}" for form, n in c.nonfinite.items() if n) or "none"
        print(f"{c.name:22} {c.n_points:>6} " + " ".join(f"{v:9.2e}" for v in values) + f"  {bad}")
    return 0
