"""The first command a GPU owner runs: the accelerated path end to end, one JSON line per figure.

ResNet-18 on CIFAR-shaped synthetic tensors (uint8 3x32x32 images, 10 classes, held on the
device), through the package's own training loop (:func:`msanalysis.training.train.train_one_epoch`,
MS loss at the paper's η) in three settings: fp32 / contiguous, bf16 / channels_last, and
bf16 / channels_last + torch.compile; then PGD-40 (eps 8/255, step 2/255, random start),
ours against torchattacks' on the same model and images. Each figure is one JSON line on
stdout: training images/s per setting, PGD-40 images/s per implementation, and (CUDA only)
the peak GPU memory of each stage. On a GPU with the defaults it takes a few minutes at most
(compilation included)::

    python bench/gpu_check.py                    # --device auto: the GPU when there is one
    python bench/gpu_check.py --device cpu --batch 4 --steps 1 --pgd-batch 2 --pgd-steps 2 \\
        --compile-backend aot_eager              # the CPU path at tiny size (the test suite's)

Timing: one warm-up epoch per setting (it compiles under torch.compile), then one timed epoch
of ``--steps`` batches, synchronised with the device before the clock stops.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from msanalysis.attacks import PGD  # noqa: E402
from msanalysis.training.accel import Accel, AcceleratedModel, resolve_device  # noqa: E402
from msanalysis.training.data import ImageData  # noqa: E402
from msanalysis.training.losses import build_loss  # noqa: E402
from msanalysis.training.train import TrainConfig, build_network, train_one_epoch  # noqa: E402

SETTINGS = {  # name -> (precision, memory format, compiled)
    "fp32": ("fp32", "contiguous", False),
    "bf16+channels_last": ("bf16", "channels_last", False),
    "bf16+channels_last+compile": ("bf16", "channels_last", True),
}


def synthetic(n: int, *, device: torch.device, seed: int) -> ImageData:
    """n CIFAR-shaped uint8 images with random labels, on ``device`` (drawn on the CPU)."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    return ImageData(images, labels, 10, "cifar10", "train").to(device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":  # CUDA-only: kernels run asynchronously
        torch.cuda.synchronize(device)


def _measure(device: torch.device, run: Callable[[], None]) -> tuple[float, float | None]:
    """(seconds, peak GPU MiB or None off CUDA) of ``run()``, synchronised before and after."""
    cuda = device.type == "cuda"
    if cuda:  # CUDA-only: the allocator's peak counter
        torch.cuda.reset_peak_memory_stats(device)
    _sync(device)
    start = time.perf_counter()
    run()
    _sync(device)
    seconds = time.perf_counter() - start
    return seconds, (torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None)


def train_figures(args: argparse.Namespace, device: torch.device) -> Iterator[dict]:
    config = TrainConfig(
        dataset="cifar10",
        model=args.model,
        loss="ms",
        batch_size=args.batch,
        seed=args.seed,
        drop_last=True,
    )
    data = synthetic(args.batch * args.steps, device=device, seed=args.seed)
    for name, (precision, memory_format, compiled) in SETTINGS.items():
        if compiled and args.compile_backend == "none":
            continue
        accel = Accel(device, precision, memory_format)
        torch.manual_seed(args.seed)
        net = accel.module(build_network(config))
        model = torch.compile(net, backend=args.compile_backend) if compiled else net
        loss_fn = build_loss("ms").to(device)
        optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)

        def epoch(e: int, model=model, loss_fn=loss_fn, optimizer=optimizer, accel=accel):
            train_one_epoch(model, loss_fn, optimizer, data, config=config, epoch=e, accel=accel)

        warmup, _ = _measure(device, lambda: epoch(0))
        seconds, peak = _measure(device, lambda: epoch(1))
        yield {
            "figure": "train_images_per_s",
            "setting": name,
            "value": len(data) / seconds,
            "warmup_seconds": warmup,
            "peak_gpu_memory_mib": peak,
            "model": args.model,
            "batch": args.batch,
            "steps": args.steps,
            "compile_backend": args.compile_backend if compiled else None,
        }


def pgd_figures(args: argparse.Namespace, device: torch.device) -> Iterator[dict]:
    import torchattacks

    config = TrainConfig(dataset="cifar10", model=args.model, loss="ce")
    torch.manual_seed(args.seed)
    data = synthetic(args.pgd_batch, device=device, seed=args.seed + 1)
    images = data.images.float() / 255
    eps, alpha = 8 / 255, 2 / 255
    for precision, memory_format in (("fp32", "contiguous"), ("bf16", "channels_last")):
        accel = Accel(device, precision, memory_format)
        model = AcceleratedModel(accel.module(build_network(config)), accel).eval()
        attacks = {
            "ours": PGD(model, eps=eps, alpha=alpha, steps=args.pgd_steps, seed=args.seed),
            "torchattacks": torchattacks.PGD(
                model, eps=eps, alpha=alpha, steps=args.pgd_steps, random_start=True
            ),
        }
        for impl, attack in attacks.items():
            attack(images, data.labels)  # warm-up
            seconds, peak = _measure(device, lambda attack=attack: attack(images, data.labels))
            yield {
                "figure": f"pgd{args.pgd_steps}_images_per_s",
                "implementation": impl,
                "setting": f"{precision}+{memory_format}",
                "value": len(images) / seconds,
                "peak_gpu_memory_mib": peak,
                "model": args.model,
                "batch": args.pgd_batch,
            }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--batch", type=int, default=128, help="training batch (default 128)")
    parser.add_argument("--steps", type=int, default=50, help="timed training steps (default 50)")
    parser.add_argument("--pgd-batch", type=int, default=256, help="PGD batch (default 256)")
    parser.add_argument("--pgd-steps", type=int, default=40, help="PGD steps (default 40)")
    parser.add_argument(
        "--compile-backend",
        default="inductor",
        help="torch.compile backend (default inductor; aot_eager traces without building "
        "kernels; none skips the compiled setting)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("batch", "steps", "pgd_batch", "pgd_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    device = resolve_device(args.device)
    if device.type == "cuda":  # CUDA-only: cuDNN picks the fastest kernels per shape
        torch.backends.cudnn.benchmark = True
    machine = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    for figure in itertools.chain(train_figures(args, device), pgd_figures(args, device)):
        print(json.dumps({**figure, **machine}), flush=True)


if __name__ == "__main__":
    main()
