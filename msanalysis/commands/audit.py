"""``msanalysis audit``: gradient-masking checks of a checkpoint, against a CE reference."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .attack import add_common_arguments, check_common_arguments

HELP = (
    "gradient-masking audit (eps sweep, steps, restarts, margin/APGD, Square, transfer) of a "
    "checkpoint vs a CE reference"
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

    from ..evaluation.audit import AuditSettings, run_audit, summarise
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
    print_report(report)
    if args.json:
        write_json_atomic(args.json, report)
    return 0


def print_report(report: dict) -> None:
    m = report["model"]
    print(
        f"audit of {m['checkpoint']} ({m['dataset']} {m['model']}, loss {m['loss']} "
        f"{m['loss_params'] or ''}), n={m['n']}"
        + (f"; reference {report['reference']}" if report["reference"] else "")
    )
    print(
        f"{'attack':36} {'group':10} {'model %':>8} {'ref %':>8} {'gain':>7} {'margin':>7}  gain "
        "survives?"
    )
    for r in report["rows"]:
        line = f"{r['attack']:36} {r['group']:10} {100 * r['model']:8.2f}"
        if "gain" in r:
            line += (
                f" {100 * r['reference']:8.2f} {100 * r['gain']:7.2f} "
                f"{100 * r['noise_margin']:7.2f}  {'yes' if r['gain_survives'] else 'NO'}"
            )
        print(line)
    for name, sentence in report["verdict"].items():
        print(f"\nverdict under {name}: {sentence}")
    for role, checks in report["checks"].items():
        print(f"\nsanity checks of the evaluation ({role}):")
        for c in checks:
            print(f"  [{'pass' if c['passed'] else 'FAIL'}] {c['check']}: {c['numbers']}")
    for reason in report["skipped"].values():
        print(f"\n{reason}")
    print("\ngradient statistics at the clean images (CE objective):")
    for role, stats in report["gradient_statistics"].items():
        print(f"  {role}: " + ", ".join(f"{k}={v:.4f}" for k, v in stats.items()))
