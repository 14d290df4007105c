"""``msanalysis study``: train and attack a declared grid, resumably; report it with its noise.

``msanalysis study FILE.toml`` runs the study file (see :mod:`msanalysis.evaluation.study`);
without a file, the flags declare one (``--losses ce ms:eta=1.5 --seeds 0 1 2 ...``).
``--dry-run`` lists the cells and an estimate of their cost; ``--report`` prints the table of
a (partly) finished study without running anything; ``--figures DIR`` draws its figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError

HELP = (
    "train and attack a declared grid (seeds x eta x epochs x models), resumably, with statistics"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="a study TOML file (else: the flags below)")
    grid = parser.add_argument_group("a study from flags (when no FILE is given)")
    grid.add_argument("--name", default="study")
    grid.add_argument("--dataset", default="fashion-mnist")
    grid.add_argument("--models", nargs="+", default=["small-cnn"])
    grid.add_argument(
        "--losses", nargs="+", default=["ce", "ms"], help="e.g. ce ms:eta=1.5 ms-focal:gamma=2"
    )
    grid.add_argument("--seeds", nargs="+", type=int, default=[0])
    grid.add_argument("--epochs", nargs="+", type=int, default=[3])
    grid.add_argument(
        "--attacks", nargs="+", default=["table1"], help="table1, table2, pgd-eps, ..."
    )
    grid.add_argument("--variants", nargs="+", default=["standard"])
    grid.add_argument("--eval-limit", type=int, help="attack only the first N test images")
    grid.add_argument("--runs", default="runs/study", help="where the trained runs go")
    grid.add_argument("--results", default="results/study.json", help="the results file")
    run = parser.add_argument_group("how to run")
    run.add_argument("--dry-run", action="store_true", help="list cells and estimated cost")
    run.add_argument("--report", action="store_true", help="print the results table only")
    run.add_argument("--figures", metavar="DIR", help="draw the study's figures into DIR")
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    run.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="of training steps and attack gradients; accuracy is measured in fp32",
    )
    run.add_argument(
        "--memory-format", choices=("auto", "contiguous", "channels_last"), default="auto"
    )
    run.add_argument("--data-dir", help="data root (see msanalysis train --help)")
    run.add_argument(
        "--executor",
        choices=("inline", "submitit-local", "slurm"),
        default="inline",
        help="where training cells run (submitit: pip install 'msanalysis[cluster]')",
    )
    run.add_argument(
        "--slurm",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="submitit parameters for --executor slurm, e.g. slurm_partition=gpu gpus_per_node=1",
    )
    run.add_argument("--no-progress", dest="progress", action="store_false")


def _loss_entry(text: str) -> dict[str, object]:
    name, _, rest = text.partition(":")
    entry: dict[str, object] = {"name": name}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        try:
            entry[key] = float(value)
        except ValueError:
            raise UsageError(
                f"--losses {text!r}: write parameters as name:key=number,..."
            ) from None
        if not sep:
            raise UsageError(f"--losses {text!r}: write parameters as name:key=number,...")
    return entry


def _slurm_parameters(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--slurm {item!r}: write KEY=VALUE")
        out[key] = int(value) if value.isdigit() else value
    return out


def declared_study(args: argparse.Namespace):
    """The study of ``args``: its file, else the one the flags declare."""
    from ..evaluation.study import load_study, study_from_mapping

    if args.file:
        return load_study(args.file)
    data = {
        "name": args.name,
        "dataset": args.dataset,
        "models": args.models,
        "losses": [_loss_entry(t) for t in args.losses],
        "seeds": args.seeds,
        "epochs": args.epochs,
        "attacks": args.attacks,
        "variants": args.variants,
        "eval_limit": args.eval_limit,
        "runs": args.runs,
        "results": args.results,
    }
    return study_from_mapping({k: v for k, v in data.items() if v is not None}, where="flags")


def results_of(study, args: argparse.Namespace) -> dict | None:
    """Run ``study`` as ``args`` say and return its results: None after ``--dry-run`` (which
    prints the cells and their cost); only read them with ``--report`` or ``--figures``; else
    train and attack what is missing. ``--figures DIR`` also draws the study's figures."""
    from ..evaluation.study import RunOptions, load_results, run_study

    if args.dry_run:
        from ..evaluation.study_cost import dry_run

        print(dry_run(study, device=args.device, data_dir=args.data_dir))
        return None
    if args.report or args.figures:
        results = load_results(study)
    else:
        opts = RunOptions(
            device=args.device,
            precision=args.precision,
            memory_format=args.memory_format,
            data_dir=args.data_dir,
            progress=args.progress,
            executor=args.executor,
            slurm=_slurm_parameters(args.slurm),
        )
        results = run_study(study, opts)
    if args.figures:
        from ..figures.study import study_figures

        for path in study_figures(study, results, Path(args.figures)):
            print(f"wrote {path}")
    return results


def run(args: argparse.Namespace) -> int:
    from ..evaluation.study_report import to_markdown

    study = declared_study(args)
    results = results_of(study, args)
    if results is not None:
        print(to_markdown(study, results), end="")
    return 0
