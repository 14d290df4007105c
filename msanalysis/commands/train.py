"""``msanalysis train``: train a network with one loss of the family, resumably.

Single process: ``python -m msanalysis train --dataset fashion-mnist --model small-cnn --loss ms
--eta 1.5 --epochs 3``. Several GPUs (or CPU processes): the same arguments after
``torchrun --nproc_per_node N -m msanalysis``.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from ..errors import UsageError
from ..losses import ETA

HELP = (
    "train a network on Fashion-MNIST, MNIST or CIFAR-10 with a loss of the family "
    "(Adam, paper setup)"
)

# Paper, Section 4: 50 epochs on MNIST, 200 on CIFAR-10 (Fashion-MNIST: as MNIST).
PAPER_EPOCHS = {"mnist": 50, "fashion-mnist": 50, "cifar10": 200}
# Tests only: seconds to sleep after every batch, so that a test can kill a run mid-epoch.
BATCH_DELAY_ENV = "MSANALYSIS_TEST_BATCH_DELAY"


class _RegistryHelp(argparse.HelpFormatter):
    """Help whose --model and --loss lists come from the registries, read only when help is
    printed (they import torch, which ``msanalysis verify`` must not pay for)."""

    def _expand_help(self, action: argparse.Action) -> str:
        if action.dest == "model":
            from ..training.models import MODELS

            names = [n for n, spec in MODELS.items() if len(spec.input_shape) == 3]
            return f"an image model: {', '.join(names)} (default: {action.default})"
        if action.dest == "loss":
            from ..training.baselines import BASELINES
            from ..training.losses import TRAINING_LOSSES

            return (
                f"a loss of the family: {', '.join(TRAINING_LOSSES)} (default: {action.default}); "
                f"or a Table 2 baseline: {', '.join(BASELINES)} (docs/baselines.md)"
            )
        return super()._expand_help(action)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = _RegistryHelp
    parser.add_argument(
        "--dataset",
        default="fashion-mnist",
        choices=sorted(PAPER_EPOCHS),
        help="default: %(default)s",
    )
    parser.add_argument("--model", default="small-cnn", help="listed from the model registry")
    parser.add_argument("--loss", default="ms", help="listed from the loss registry")
    parser.add_argument(
        "--eta",
        type=float,
        help=f"η of ms, ms-focal, centred-ce (default: the loss's, {ETA.default})",
    )
    parser.add_argument("--alpha", type=float, help="α of focal, ms-focal; margin α of lgm (0.3)")
    parser.add_argument("--lambda", dest="lam", type=float, help="λ of center (0.003), lgm (0.1)")
    parser.add_argument("--c-mm", type=float, help="centre norm C_MM of mmc (10)")
    parser.add_argument("--gamma", type=float, help="γ of focal, ms-focal")
    parser.add_argument(
        "--epochs", type=int, help="default: the paper's, 50 for (Fashion-)MNIST, 200 for CIFAR-10"
    )
    parser.add_argument(
        "--batch-size", type=int, default=128, help="global batch size (default: %(default)s)"
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=1e-3,
        help="Adam learning rate (default: %(default)s, the paper's)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds init, shuffling, augmentation (default: %(default)s)",
    )
    parser.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        help="random crop (pad 4) + horizontal flip; default: on for CIFAR-10 only",
    )
    parser.add_argument(
        "--data-dir",
        help="data root holding fashion-mnist/, mnist/, cifar-10-batches-py/ "
        "(default: $MSANALYSIS_DATA_DIR, then /usr/share/datasets)",
    )
    parser.add_argument("--out", help="output folder (default: runs/DATASET-MODEL-LOSS-sSEED)")
    parser.add_argument("--limit-train", type=int, help="use only the first N training images")
    parser.add_argument("--limit-test", type=int, help="use only the first N test images")
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="default: cuda if available",
    )
    add_accel_arguments(parser, what="training steps (evaluation is always fp32)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument(
        "--drop-last",
        action=argparse.BooleanOptionalAction,
        help="drop each epoch's last, smaller batch (one step shape); default: on with --compile",
    )
    parser.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue from OUT/last.pt when it exists (default); --no-resume starts over",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )


def add_accel_arguments(parser: argparse.ArgumentParser, *, what: str) -> None:
    """--precision and --memory-format (see :mod:`msanalysis.training.accel`)."""
    parser.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help=f"precision of the {what}; auto: bf16 on CUDA, fp32 on the CPU",
    )
    parser.add_argument(
        "--memory-format",
        default="auto",
        choices=["auto", "contiguous", "channels_last"],
        help="auto: channels_last on CUDA, contiguous on the CPU",
    )


def resolve_accel_arguments(args: argparse.Namespace, *, local_rank: int = 0):
    """The :class:`~msanalysis.training.accel.Accel` of --device, --precision, --memory-format."""
    from ..training.accel import resolve_accel

    try:
        return resolve_accel(
            args.device,
            precision=args.precision,
            memory_format=args.memory_format,
            local_rank=local_rank,
        )
    except ValueError as err:
        raise UsageError(f"--device {args.device}: {err}") from None


def _config(args: argparse.Namespace):
    from ..training.train import TrainConfig

    for name in ("epochs", "batch_size", "limit_train", "limit_test"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if not args.lr > 0:
        raise UsageError(f"--lr must be > 0, got {args.lr}")
    params = {
        k: getattr(args, k)
        for k in ("eta", "alpha", "gamma", "lam", "c_mm")
        if getattr(args, k) is not None
    }
    return TrainConfig(
        dataset=args.dataset,
        model=args.model,
        loss=args.loss,
        loss_params=params,
        epochs=args.epochs or PAPER_EPOCHS[args.dataset],
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        augment=args.dataset == "cifar10" if args.augment is None else args.augment,
        limit_train=args.limit_train,
        limit_test=args.limit_test,
        drop_last=args.compile if args.drop_last is None else args.drop_last,
    )


def _check_model_and_loss(config) -> None:
    """Fail fast, as usage errors, on names and hyper-parameters the builders reject."""
    from ..training.baselines import BASELINES, baseline_params
    from ..training.losses import build_loss
    from ..training.models import get_model

    try:
        if len(get_model(config.model).input_shape) != 3:
            raise ValueError(
                f"model {config.model!r} takes feature vectors, not images; choose an image model"
            )
        if config.loss in BASELINES:
            baseline_params(config.loss, config.loss_params)
        else:
            build_loss(config.loss, **config.loss_params)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _batch_delay():
    delay = float(os.environ.get(BATCH_DELAY_ENV, "0"))
    if delay <= 0:
        return None
    import time

    return lambda epoch, step: time.sleep(delay)


def _first_new_folder(out: Path) -> Path | None:
    """The outermost folder that ``out.mkdir(parents=True)`` would create; None if it exists."""
    new = None
    for folder in (out, *out.parents):
        if folder.exists():
            break
        new = folder
    return new


def _remove_if_unfinished(new: Path | None, out: Path) -> None:
    """After a failed run: remove the folders this run created, unless an epoch finished in
    them (then last.pt is there and the run can be resumed)."""
    if new is not None and new.is_dir() and not (out / "last.pt").exists():
        shutil.rmtree(new, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..training.data import find_dataset
    from ..training.distributed import close_distributed, init_distributed
    from ..training.train import fit

    config = _config(args)
    _check_model_and_loss(config)
    folders = {find_dataset(config.dataset, s, data_dir=args.data_dir) for s in ("train", "test")}
    out = Path(args.out or f"runs/{config.dataset}-{config.model}-{config.loss}-s{config.seed}")
    new = _first_new_folder(out)
    use_cuda = args.device != "cpu" and torch.cuda.is_available()
    dist = init_distributed(use_cuda=use_cuda)
    try:
        accel = resolve_accel_arguments(args, local_rank=dist.local_rank)
        if accel.device.type == "cuda":  # CUDA-only: cuDNN picks the fastest kernels per shape
            torch.backends.cudnn.benchmark = True
        if dist.is_main:
            print(f"{out}: training on {config.dataset} from {', '.join(map(str, folders))}")
        metrics = fit(
            config,
            out,
            data_dir=args.data_dir,
            accel=accel,
            resume=args.resume,
            compile_model=args.compile,
            dist=dist,
            progress=args.progress,
            after_batch=_batch_delay(),
        )
    except BaseException:
        close_distributed(dist, wait=False)
        if dist.is_main:
            _remove_if_unfinished(new, out)
        raise
    close_distributed(dist)
    if dist.is_main and metrics:
        best = max(metrics, key=lambda m: m["test_acc"])
        print(
            f"{out}: {len(metrics)} epochs; best test accuracy {best['test_acc']:.4f} "
            f"at epoch {best['epoch']} (best.pt)"
        )
    return 0
