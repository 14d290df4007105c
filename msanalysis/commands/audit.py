"""``msanalysis audit``: gradient-masking checks of a checkpoint, against a CE reference."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .attack import add_common_arguments, check_common_arguments

HELP = (
    "gradient-masking audit (eps sweep, steps, restarts, margin/APGD, Square, transfer) "
    "of a checkpoint vs a CE reference"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", required=True, help="the model to audit (e.g. trained with ms)"
    )
    parser.add_argument(
        "--reference-checkpoint",
        help="a CE-trained checkpoint: gains are measured against it, "
        "and transfer attacks are crafted on it",
    )
    parser.add_argument(
        "--steps", type=int, default=40, help="PGD steps (default: %(default)s, the paper's)"
    )
    parser.add_argument(
        "--long-steps",
        type=int,
        default=100,
        help="PGD steps of the 'more steps' check (default: %(default)s)",
    )
    parser.add_argument(
        "--restarts",
        type=int,
        default=5,
        help="random restarts of the restarts check (default: %(default)s)",
    )
    parser.add_argument(
        "--apgd-steps", type=int, default=100, help="APGD iterations (default: %(default)s)"
    )
    parser.add_argument(
        "--sweep-steps",
        type=int,
        default=20,
        help="PGD steps at each eps of the sweep (default: %(default)s)",
    )
    parser.add_argument(
        "--square-queries",
        type=int,
        default=1000,
        help="Square attack queries (default: %(default)s)",
    )
    parser.add_argument("--json", help="write the report to this JSON file")
    add_common_arguments(parser)
    parser.set_defaults(limit=1000)


def run(args: argparse.Namespace) -> int:
    check_common_arguments(args)
    for name in ("steps", "long_steps", "restarts", "apgd_steps", "sweep_steps", "square_queries"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.objective != "ce":
        raise UsageError(
            "the audit chooses its own objectives (ce, margin, dlr); leave --objective out"
        )
    from tqdm.auto import tqdm

    from ..evaluation.audit import AuditSettings, format_report, run_audit, summarise
    from ..evaluation.robustness import load_target, objective_for, write_json_atomic

    settings = AuditSettings(
        steps=args.steps,
        long_steps=args.long_steps,
        restarts=args.restarts,
        apgd_steps=args.apgd_steps,
        sweep_steps=args.sweep_steps,
        square_queries=args.square_queries,
        seed=args.seed,
    )
    target = load_target(
        args.checkpoint, limit=args.limit, data_dir=args.data_dir, device=args.device
    )
    reference, losses = None, {"model": objective_for(target, "train-loss")}
    if args.reference_checkpoint:
        ref = load_target(
            args.reference_checkpoint, limit=args.limit, data_dir=args.data_dir, device=args.device
        )
        if ref.dataset != target.dataset:
            raise UsageError(
                f"the reference is a {ref.dataset} model, the audited one a {target.dataset} model"
            )
        reference, losses["reference"] = ref.model, objective_for(ref, "train-loss")
    with tqdm(disable=not args.progress, unit="img", leave=False) as bar:

        def progress(name: str, k: int) -> None:
            bar.set_description(name, refresh=False)
            bar.update(k)

        run_result = run_audit(
            target.model,
            target.images,
            target.labels,
            settings,
            reference=reference,
            training_losses=losses,
            batch_size=args.batch_size,
            progress=progress,
        )
    report = summarise(run_result, settings)
    report = {
        "model": target.describe(),
        "reference": args.reference_checkpoint,
        "settings": settings.__dict__ | {"sweep": list(settings.sweep)},
        **report,
    }
    print(format_report(report))
    if args.json:
        write_json_atomic(args.json, report)
    return 0
