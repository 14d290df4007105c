"""``msanalysis simulate``: gradient descent on small linear models with each loss of the family."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import asdict
from pathlib import Path

from ..losses import ETA

HELP = (
    "full-batch gradient descent on 1-D/2-D logistic models: convergence, boundary vs max "
    "margin, |w| growth"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="all", help="a data set name or 'all' (default all)")
    parser.add_argument("--loss", default="all", help="a loss name or 'all' (default all)")
    parser.add_argument(
        "--eta",
        type=float,
        default=ETA.default,
        help="η of the losses that have one (default %(default)s)",
    )
    parser.add_argument("--steps", type=int, default=20000, help="GD steps (default 20000)")
    parser.add_argument(
        "--lr", type=float, default=None, help="step size (default: 1 / Hessian-norm bound)"
    )
    parser.add_argument(
        "--parametrisation",
        choices=("plain", "odd", "both"),
        default="both",
        help="score w·x+b, the appendix's 2(w·x+b)-1, or both (default both; 2-D data use plain)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="directory for trajectories (CSV) and results (JSON)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results (without trajectories) as JSON"
    )


def _runs(args: argparse.Namespace) -> list[tuple[str, str, dict, str]]:
    from ..errors import UsageError
    from ..losses import LOSSES
    from ..simulate import DATASETS, get_dataset

    datasets = list(DATASETS) if args.dataset == "all" else [args.dataset]
    losses = list(LOSSES) if args.loss == "all" else [args.loss]
    for name in datasets:
        if name not in DATASETS:
            raise UsageError(
                f"--dataset {name!r} unknown; choose one of {', '.join(DATASETS)} or all"
            )
    for name in losses:
        if name not in LOSSES:
            raise UsageError(f"--loss {name!r} unknown; choose one of {', '.join(LOSSES)} or all")
    if args.steps < 10:
        raise UsageError(f"--steps must be >= 10; got {args.steps}")
    if args.lr is not None and not args.lr > 0:
        raise UsageError(f"--lr must be > 0; got {args.lr}")
    if not args.eta > 0:
        raise UsageError(f"--eta must be > 0; got {args.eta}")
    runs = []
    for d in datasets:
        dims = get_dataset(d).x.shape[1]
        pars = ("plain", "odd") if args.parametrisation == "both" else (args.parametrisation,)
        for p in pars if dims == 1 else ("plain",):
            for loss in losses:
                params = (
                    {"eta": args.eta} if any(q.name == "eta" for q in LOSSES[loss].params) else {}
                )
                runs.append((d, loss, params, p))
    return runs


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def run(args: argparse.Namespace) -> int:
    from ..simulate import simulate

    results = [
        simulate(d, loss, params, steps=args.steps, lr=args.lr, parametrisation=p)
        for d, loss, params, p in _runs(args)
    ]
    summaries = [{k: v for k, v in asdict(r).items() if k != "trajectory"} for r in results]
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for r in results:
            path = args.out / f"{r.dataset}_{r.loss}_{r.parametrisation}.csv"
            with path.open("w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(r.trajectory)
                writer.writerows(zip(*r.trajectory.values(), strict=True))
        (args.out / "simulations.json").write_text(
            json.dumps([asdict(r) for r in results], indent=1)
        )
    if args.json:
        print(json.dumps(summaries, indent=2))
        return 0
    cols = (
        "dataset",
        "parametrisation",
        "loss",
        "converged",
        "boundary",
        "max_margin_boundary",
        "boundary_gap",
        "angle_deg",
        "at_sample_stationary",
        "matches_symbolic",
        "w_log_slope",
    )
    print(" | ".join(cols))
    for s in summaries:
        print(" | ".join(_fmt(s[c]) for c in cols))
    return 0
