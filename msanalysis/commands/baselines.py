"""``msanalysis baselines``: Table 2 with its baselines trained under one protocol.

``python -m msanalysis baselines --losses ce,ms,center,lgm,mmc --seeds 0,1,2 --limit 500``
attacks ``RUNS/<dataset>-<model>-<loss>-s<seed>/best.pt`` (train them with ``msanalysis train
--loss LOSS --seed S``) with Table 2's PGD rows under the ce, margin and dlr objectives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError, UsageError
from .attack import add_common_arguments, check_common_arguments

HELP = (
    "Table 2 with SCE, MS, Center loss, L-GM and MMC trained alike: PGD-10/50 at 8/255, "
    "16/255, ce and worst-case objectives, seeds, paired differences vs CE"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="fashion-mnist",
        choices=["fashion-mnist", "mnist", "cifar10"],
        help="default: %(default)s",
    )
    parser.add_argument("--model", default="small-cnn", help="default: %(default)s")
    parser.add_argument(
        "--losses",
        default="ce,ms,center,lgm,mmc",
        help="comma-separated (default: %(default)s; ce is the reference)",
    )
    parser.add_argument("--seeds", default="0,1,2", help="training seeds (default: %(default)s)")
    parser.add_argument(
        "--objectives",
        default="ce,margin,dlr",
        help="attack objectives; the worst case is over all of them (default: %(default)s)",
    )
    parser.add_argument(
        "--runs",
        default="runs",
        help="folder of RUNS/<dataset>-<model>-<loss>-s<seed>/best.pt (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        help="output folder (default: results/DATASET/baselines): results.json, baselines.md",
    )
    add_common_arguments(parser)


def _names(text: str, flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{flag} needs at least one name")
    return names


def run(args: argparse.Namespace) -> int:
    check_common_arguments(args)
    if args.objective != "ce":
        raise UsageError("use --objectives (the table attacks with each); leave --objective out")
    if args.seed != 0:
        raise UsageError("the random starts use each model's training seed; leave --seed out")
    losses, objectives = _names(args.losses, "--losses"), _names(args.objectives, "--objectives")
    if "ce" not in objectives:
        raise UsageError("--objectives must include ce (Table 2's own objective)")
    unknown = sorted(set(objectives) - {"ce", "margin", "dlr"})
    if unknown:
        raise UsageError(f"unknown objective(s) {', '.join(unknown)}; choose from ce, margin, dlr")
    try:
        seeds = [int(s) for s in _names(args.seeds, "--seeds")]
    except ValueError:
        raise UsageError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
    from ..evaluation.baselines import run_baselines, to_markdown

    out = Path(args.out or f"results/{args.dataset}/baselines")
    out.mkdir(parents=True, exist_ok=True)
    try:
        results = run_baselines(
            runs=Path(args.runs),
            dataset=args.dataset,
            model=args.model,
            losses=losses,
            seeds=seeds,
            objectives=objectives,
            results_path=out / "results.json",
            limit=args.limit,
            batch_size=args.batch_size,
            device=args.device,
            data_dir=args.data_dir,
            progress=args.progress,
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    if not results["cells"]:
        raise InputError(f"no checkpoints found: {', '.join(results['missing'])}")
    markdown = to_markdown(results, seeds=seeds)
    (out / "baselines.md").write_text(markdown)
    print(markdown)
    print(f"written: {out / 'results.json'}, {out / 'baselines.md'}")
    return 0
