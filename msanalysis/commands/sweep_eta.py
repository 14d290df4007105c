"""``msanalysis sweep-eta``: the η threshold of the MS family, found by vectorised GD."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

HELP = (
    "GD on a grid of η (vectorised): empirical threshold of finite convergence vs sympy's "
    "eta_threshold"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--losses",
        default="ms,centred-ce,ms-focal",
        help="comma-separated losses with an η (default ms,centred-ce,ms-focal)",
    )
    parser.add_argument(
        "--n-eta", type=int, default=2001, help="grid size, η = k·step for k = 1..n (default 2001)"
    )
    parser.add_argument("--eta-step", type=float, default=1e-3, help="grid step (default 0.001)")
    parser.add_argument("--steps", type=int, default=10000, help="GD steps (default 10000)")
    parser.add_argument(
        "--out", type=Path, default=None, help="directory for sweep.csv and phases.md"
    )
    parser.add_argument("--json", action="store_true", help="print thresholds per loss as JSON")


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..losses import LOSSES
    from ..sweep import phase_table, sweep_eta

    names = [n.strip() for n in args.losses.split(",") if n.strip()]
    for name in names:
        if name not in LOSSES or "eta" not in {p.name for p in LOSSES[name].params}:
            with_eta = [n for n, s in LOSSES.items() if any(p.name == "eta" for p in s.params)]
            raise UsageError(
                f"--losses: {name!r} is not a loss with η; choose from {', '.join(with_eta)}"
            )
    if args.n_eta < 2 or args.steps < 10 or not args.eta_step > 0:
        got = f"{args.n_eta}, {args.steps}, {args.eta_step}"
        raise UsageError(f"need --n-eta >= 2, --steps >= 10, --eta-step > 0; got {got}")
    results = [
        sweep_eta(name, n_eta=args.n_eta, eta_step=args.eta_step, steps=args.steps)
        for name in names
    ]
    table = phase_table(results)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        with (args.out / "sweep.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            inits = results[0].inits
            writer.writerow(
                ["loss", "eta", "certified", "naive", *(f"z_final_from_{z:g}" for z in inits)]
            )
            for r in results:
                for i, eta in enumerate(r.etas):
                    writer.writerow(
                        [
                            r.loss,
                            f"{eta:.6g}",
                            bool(r.certified[i]),
                            bool(r.naive[i]),
                            *r.z_final[i],
                        ]
                    )
        (args.out / "phases.md").write_text(table + "\n")
    if args.json:
        print(
            json.dumps(
                {
                    r.loss: {
                        "threshold_empirical": r.threshold_empirical,
                        "threshold_symbolic": r.threshold_symbolic,
                        "threshold_naive": r.threshold_naive,
                        "eta_step": r.eta_step,
                        "agrees": r.agrees,
                        "monotone_phases": r.monotone_phases,
                        "lr": r.lr,
                        "steps": r.steps,
                        "seconds": r.seconds,
                    }
                    for r in results
                },
                indent=2,
            )
        )
        return 0
    print(table)
    size = f"{args.n_eta} η x {len(results[0].inits)} inits x {args.steps} steps"
    print("\n" + ", ".join(f"{r.loss}: {r.seconds:.2f} s" for r in results) + f" of GD for {size}")
    return 0
