"""Peak memory (RSS) of training ResNet-18 and of PGD-40 on the CPU, each against its reference.

    OMP_NUM_THREADS=1 python bench/bench_memory.py [--train-steps 3] [--pgd-steps 40]

Each case runs in a fresh Python process, and its peak resident set (``getrusage`` maxrss,
which counts torch's native allocations that tracemalloc does not see) is that case's alone.
The ``setup`` cases build the model and the synthetic data and stop: their peak is the fixed
part (interpreter, torch, weights, data; torchattacks imported in every PGD case) the other
rows include.

Cases: ResNet-18 for CIFAR-10 (32x32x3 synthetic uint8 images, seeded), batch 128, a few
Adam steps with :func:`msanalysis.training.train.train_one_epoch` and the MS loss (fused),
with the plain loop (index, scale, forward, loss, backward, step) and the MS loss, and with
the plain loop and nn.CrossEntropyLoss; PGD (eps 8/255, alpha 2/255, 40 steps, random start)
on a batch of 256 with :class:`msanalysis.attacks.PGD` and with ``torchattacks.PGD``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from msanalysis.training.data import ImageData, batch_indices  # noqa: E402
from msanalysis.training.losses import build_loss  # noqa: E402
from msanalysis.training.train import TrainConfig, build_network, train_one_epoch  # noqa: E402

CASES = ("train setup", "train ours", "train plain ms", "train plain ce")
CASES += ("pgd setup", "pgd ours", "pgd torchattacks")


def _data(n: int) -> ImageData:
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=gen)
    return ImageData(images, torch.randint(0, 10, (n,), generator=gen), 10, "cifar10", "train")


def _train(case: str, steps: int, batch: int) -> None:
    config = TrainConfig(dataset="cifar10", model="resnet18", loss="ms", batch_size=batch)
    data = _data(steps * batch)
    torch.manual_seed(0)
    net = build_network(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    if case == "train ours":
        train_one_epoch(net, build_loss("ms"), optimizer, data, config=config, epoch=0)
    elif case.startswith("train plain"):
        loss_fn = build_loss("ms") if case.endswith("ms") else torch.nn.CrossEntropyLoss()
        net.train()
        for idx, _ in batch_indices(len(data), batch_size=batch, seed=0, epoch=0):
            loss = loss_fn(net(data.images[idx].float() / 255), data.labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def _pgd(case: str, steps: int, batch: int) -> None:
    import torchattacks  # in every PGD case, setup included: its import is part of the fixed cost

    from msanalysis.attacks import PGD

    torch.manual_seed(0)
    net = build_network(TrainConfig(dataset="cifar10", model="resnet18", loss="ce")).eval()
    data = _data(batch)
    images, labels = data.images.float() / 255, data.labels
    settings = {"eps": 8 / 255, "alpha": 2 / 255, "steps": steps}
    if case == "pgd ours":
        PGD(net, **settings, random_start=True, seed=0)(images, labels)
    elif case == "pgd torchattacks":
        torchattacks.PGD(net, **settings, random_start=True)(images, labels)


def run_case(args: argparse.Namespace) -> dict[str, float]:
    """Run ``args.case`` in this (fresh) process: its peak RSS in MB and its seconds."""
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    if args.case.startswith("train"):
        _train(args.case, args.train_steps, args.train_batch)
    else:
        _pgd(args.case, args.pgd_steps, args.pgd_batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_rss_mb": peak, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--train-batch", type=int, default=128)
    parser.add_argument("--pgd-steps", type=int, default=40)
    parser.add_argument("--pgd-batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", help="comma-separated case kinds to run: train, pgd")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # the worker
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args)))
        return
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), ResNet-18, 32x32x3 synthetic; "
        f"training: batch {args.train_batch}, {args.train_steps} steps; "
        f"PGD: batch {args.pgd_batch}, {args.pgd_steps} steps\n"
    )
    print("| case | peak RSS MB | above its setup MB | seconds |")
    print("|---|---:|---:|---:|")
    setup: dict[str, float] = {}
    kinds = args.only.split(",") if args.only else ["train", "pgd"]
    for case in (c for c in CASES if c.split()[0] in kinds):
        done = subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--case", case],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        kind = case.split()[0]
        setup.setdefault(kind, result["peak_rss_mb"])
        above = result["peak_rss_mb"] - setup[kind]
        print(f"| {case} | {result['peak_rss_mb']:,.0f} | {above:,.0f} | {result['seconds']:.1f} |")


if __name__ == "__main__":
    main()
