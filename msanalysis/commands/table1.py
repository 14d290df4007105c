"""``msanalysis table1``: the paper's Table 1 (FGSM, BIM, PGD, UPGD x models x losses), rerun."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError, UsageError
from .attack import add_common_arguments, check_common_arguments

HELP = (
    "rerun the paper's Table 1 (FGSM/BIM/PGD/UPGD accuracy, models x losses) from trained "
    "checkpoints, resumably"
)
TABLE = "table1"


def add_table_arguments(parser: argparse.ArgumentParser, table: str) -> None:
    parser.add_argument(
        "--dataset",
        default="fashion-mnist",
        choices=["fashion-mnist", "mnist", "cifar10"],
        help="default: %(default)s (the paper's tables are CIFAR-10)",
    )
    parser.add_argument(
        "--models",
        default="small-cnn",
        help=(
            "comma-separated (paper: resnet18,resnet34,googlenet,densenet121; default: %(default)s)"
        ),
    )
    parser.add_argument(
        "--losses", default="ce,ms", help="comma-separated training losses (default: %(default)s)"
    )
    parser.add_argument(
        "--runs",
        default="runs",
        help="folder of RUNS/<dataset>-<model>-<loss>-s<seed>/best.pt (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        help=(
            f"output folder (default: results/{table}-DATASET): results.json, {table}.md, "
            f"{table}.csv"
        ),
    )
    add_common_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table_arguments(parser, TABLE)


def run_table(args: argparse.Namespace, table: str) -> int:
    check_common_arguments(args)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    losses = [n.strip() for n in args.losses.split(",") if n.strip()]
    if not models or not losses:
        raise UsageError("--models and --losses need at least one name each")
    from ..evaluation.tables import run_grid, to_csv, to_markdown

    out = Path(args.out or f"results/{table}-{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)
    try:
        results = run_grid(
            table,
            runs=Path(args.runs),
            dataset=args.dataset,
            models=models,
            losses=losses,
            results_path=out / "results.json",
            seed=args.seed,
            objective=args.objective,
            limit=args.limit,
            batch_size=args.batch_size,
            device=args.device,
            data_dir=args.data_dir,
            progress=args.progress,
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    if not results["cells"]:
        train = (
            f"python -m msanalysis train --dataset {args.dataset} --model MODEL --loss LOSS "
            f"--out {args.runs}/..."
        )
        raise InputError(
            f"no checkpoints found: {', '.join(results['missing'])} (train them with: {train})"
        )
    markdown = to_markdown(results)
    (out / f"{table}.md").write_text(markdown)
    (out / f"{table}.csv").write_text(to_csv(results))
    print(markdown)
    print(f"written: {out / 'results.json'}, {out / (table + '.md')}, {out / (table + '.csv')}")
    return 0


def run(args: argparse.Namespace) -> int:
    return run_table(args, TABLE)
