"""``msanalysis train``: train a network with one loss of the family, resumably.

Single process: ``python -m msanalysis train --dataset fashion-mnist --model small-cnn --loss ms
--eta 1.5 --epochs 3``. Several GPUs (or CPU processes): the same arguments after
``torchrun --nproc_per_node N -m msanalysis``.
"""

from __future__ import annotations

import argparse
import os

from ..errors import UsageError

HELP = "train a network on Fashion-MNIST, MNIST or CIFAR-10 with a loss of the family (Adam, paper setup)"

# Paper, Section 4: 50 epochs on MNIST, 200 on CIFAR-10 (Fashion-MNIST: as MNIST).
PAPER_EPOCHS = {"mnist": 50, "fashion-mnist": 50, "cifar10": 200}
# Tests only: seconds to sleep after every batch, so that a test can kill a run mid-epoch.
BATCH_DELAY_ENV = "MSANALYSIS_TEST_BATCH_DELAY"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="fashion-mnist",
        choices=sorted(PAPER_EPOCHS),
        help="default: %(default)s",
    )
    parser.add_argument(
        "--model",
        default="small-cnn",
        help="resnet18, resnet34, googlenet, densenet121, small-cnn (default)",
    )
    parser.add_argument(
        "--loss",
        default="ms",
        help="a loss of the family: ce, focal, ms (default), ms-focal, centred-ce; or a "
        "Table 2 baseline: center, lgm, mmc (docs/baselines.md)",
    )
    parser.add_argument(
        "--eta", type=float, help="η of ms, ms-focal, centred-ce (default: the loss's, 1.5)"
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
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue from OUT/last.pt when it exists (default); --no-resume starts over",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )


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


def _device(name: str, local_rank: int):
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank)


def _batch_delay():
    delay = float(os.environ.get(BATCH_DELAY_ENV, "0"))
    if delay <= 0:
        return None
    import time

    return lambda epoch, step: time.sleep(delay)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..training.distributed import close_distributed, init_distributed
    from ..training.train import fit

    config = _config(args)
    _check_model_and_loss(config)
    use_cuda = args.device != "cpu" and torch.cuda.is_available()
    dist = init_distributed(use_cuda=use_cuda)
    try:
        device = _device(args.device, dist.local_rank)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        out = args.out or os.path.join(
            "runs", f"{config.dataset}-{config.model}-{config.loss}-s{config.seed}"
        )
        metrics = fit(
            config,
            out,
            data_dir=args.data_dir,
            device=device,
            resume=args.resume,
            compile_model=args.compile,
            dist=dist,
            progress=args.progress,
            after_batch=_batch_delay(),
        )
    except BaseException:
        close_distributed(dist, wait=False)
        raise
    close_distributed(dist)
    if dist.is_main and metrics:
        best = max(metrics, key=lambda m: m["test_acc"])
        print(
            f"{out}: {len(metrics)} epochs; best test accuracy {best['test_acc']:.4f} at epoch {best['epoch']} (best.pt)"
        )
    return 0
