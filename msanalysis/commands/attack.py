"""``msanalysis attack``: clean and adversarial accuracy of one trained checkpoint."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .train import add_accel_arguments, resolve_accel_arguments

HELP = (
    "clean and adversarial accuracy (FGSM, BIM, PGD, UPGD with the paper's settings) "
    "of a checkpoint"
)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by attack, table1, table2 and audit."""
    parser.add_argument(
        "--objective",
        default="ce",
        choices=["ce", "margin", "dlr", "train-loss"],
        help="loss the attacks ascend; train-loss: the checkpoint's own training loss "
        "(default: %(default)s)",
    )
    parser.add_argument("--limit", type=int, help="attack only the first N test images")
    parser.add_argument("--batch-size", type=int, default=256, help="default: %(default)s")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of random starts (default: %(default)s)"
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="default: cuda if available",
    )
    parser.add_argument(
        "--data-dir", help="data root (default: $MSANALYSIS_DATA_DIR, then /usr/share/datasets)"
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )


def check_common_arguments(args: argparse.Namespace) -> None:
    for name in ("limit", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {value}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", required=True, help="a best.pt or last.pt of msanalysis train"
    )
    parser.add_argument(
        "--attacks",
        default="fgsm,bim,pgd,upgd",
        help="comma-separated subset of fgsm,bim,pgd,upgd (default: all)",
    )
    parser.add_argument("--json", help="write the results to this JSON file")
    add_common_arguments(parser)
    add_accel_arguments(
        parser, what="attacks' gradient steps (accuracy is always measured in fp32)"
    )


def parse_attack_names(text: str) -> list[str]:
    from ..attacks import PAPER_ATTACKS

    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PAPER_ATTACKS]
    if unknown or not names:
        raise UsageError(
            f"--attacks: unknown or empty {unknown or text!r}; "
            f"choose from {', '.join(PAPER_ATTACKS)}"
        )
    return names


def run(args: argparse.Namespace) -> int:
    check_common_arguments(args)
    names = parse_attack_names(args.attacks)
    from ..attacks import paper_attack
    from ..evaluation.robustness import (
        accuracies,
        count_correct,
        describe_loss,
        load_target,
        objective_for,
        pack_bits,
        write_json_atomic,
    )

    target = load_target(
        args.checkpoint,
        limit=args.limit,
        data_dir=args.data_dir,
        accel=resolve_accel_arguments(args),
    )
    objective = objective_for(target, args.objective)
    attacks = {
        n: paper_attack(n, target.attack_model, objective=objective, seed=args.seed) for n in names
    }
    correct = accuracies(target, attacks, batch_size=args.batch_size, progress=args.progress)
    clean = count_correct(correct["clean"])
    result = {
        **target.describe(),
        "objective": args.objective,
        "clean_accuracy": clean["accuracy"],
        "clean_correct": clean["correct"],
        "clean_bits": pack_bits(correct["clean"]),
        "attacks": {
            n: {
                "settings": a.settings(),
                **count_correct(correct[n]),
                "bits": pack_bits(correct[n]),
            }
            for n, a in attacks.items()
        },
        "convention": (
            "a sample counts as robust only if classified correctly both clean and attacked"
        ),
        "bits": (
            "per-sample correctness of the first n test images, base64 of numpy.packbits "
            "(msanalysis.evaluation.robustness.unpack_bits reads it)"
        ),
    }
    print(
        f"{target.dataset} {target.model_name} trained with "
        f"{describe_loss(target.loss, target.loss_params)}; "
        f"n={len(target.labels)}, objective={args.objective}, data from {target.data}"
    )
    print(f"{'attack':8} {'accuracy %':>10}  settings")
    print(f"{'clean':8} {100 * result['clean_accuracy']:10.2f}")
    for n, r in result["attacks"].items():
        settings = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["settings"].items()
        )
        print(f"{n:8} {100 * r['accuracy']:10.2f}  {settings}")
    if args.json:
        write_json_atomic(args.json, result)
    return 0
