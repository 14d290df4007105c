"""``msanalysis figures``: every figure of the paper recomputed, with the numbers behind it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..losses import ETA

HELP = (
    "make Figure 2, the toy-boundary figures, the eta phase diagram and GD trajectories (PNG, "
    "PDF, CSV)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only", default=None, help="comma-separated figure names, e.g. fig2,fig1 (default: all)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("figures"), help="output folder (default: figures)"
    )
    parser.add_argument(
        "--eta",
        type=float,
        default=ETA.default,
        help="stationary-point coefficient η > 0 (default %(default)s)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="training seeds per toy panel for the table (default 5)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=2000,
        help="full-batch Adam steps per toy training (default 2000)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import torch

    from ..errors import UsageError
    from ..figures import FIGURE_NAMES, ToyExperiment, build_figures
    from ..losses import get_loss

    only = (
        FIGURE_NAMES
        if args.only is None
        else tuple(n.strip() for n in args.only.split(",") if n.strip())
    )
    unknown = [n for n in only if n not in FIGURE_NAMES]
    if unknown or not only:
        raise UsageError(f"--only {args.only!r}: choose from {', '.join(FIGURE_NAMES)}")
    try:
        get_loss("ms").validate({"eta": args.eta})
    except ValueError as err:
        raise UsageError(f"--eta: {err}") from None
    if args.seeds < 1 or args.steps < 1:
        raise UsageError(f"--seeds {args.seeds} and --steps {args.steps} must both be at least 1")
    torch.set_num_threads(1)  # tiny networks: one thread is fastest and bit-reproducible
    written = build_figures(
        args.out,
        only=only,
        eta=args.eta,
        seeds=args.seeds,
        experiment=ToyExperiment(seeds=args.seeds, steps=args.steps),
        progress=not args.quiet,
    )
    print(f"wrote {len(written)} files to {args.out}")
    return 0
