"""Images/s and peak memory of our train_one_epoch against a minimal plain PyTorch loop.

Both train the same model from the same initial weights on the same batches (the index order
of :func:`msanalysis.training.data.batch_indices`) with the same loss module; the plain loop
is the textbook one: index, scale to [0, 1], forward, loss, backward, step. Ours adds the
progress bar (shown, to stderr), metric accumulation and the DDP loss weight.

Speed: one process, the two loops' epochs interleaved (order swapped every other round) after
one warm-up epoch each, so both see the same machine load; the medians are compared. Memory:
each loop once more in its own fresh process, whose peak RSS (``getrusage`` maxrss) is then
that loop's alone.

    OMP_NUM_THREADS=1 python bench/bench_train.py --limit 4096 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from msanalysis.training.data import ImageData, batch_indices, load_dataset  # noqa: E402
from msanalysis.training.losses import build_loss  # noqa: E402
from msanalysis.training.train import TrainConfig, build_network, train_one_epoch  # noqa: E402


def plain_epoch(
    net, loss_fn, optimizer, data: ImageData, *, config: TrainConfig, epoch: int
) -> None:
    """The reference: the shortest correct loop over the same batches."""
    net.train()
    for idx, _ in batch_indices(
        len(data), batch_size=config.batch_size, seed=config.seed, epoch=epoch
    ):
        loss = loss_fn(net(data.images[idx].float() / 255), data.labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def our_epoch(net, loss_fn, optimizer, data: ImageData, *, config: TrainConfig, epoch: int) -> None:
    train_one_epoch(net, loss_fn, optimizer, data, config=config, epoch=epoch, progress=True)


LOOPS: dict[str, Callable[..., None]] = {"ours": our_epoch, "plain": plain_epoch}


def setup(args: argparse.Namespace):
    """Config, data, and a function making a fresh (model, optimizer) with the same init."""
    torch.set_num_threads(args.threads)
    config = TrainConfig(
        dataset=args.dataset,
        model=args.model,
        loss="ms",
        loss_params={"eta": 1.5},
        batch_size=args.batch_size,
        limit_train=args.limit,
    )
    data = load_dataset(config.dataset, "train", limit=config.limit_train)

    def fresh():
        torch.manual_seed(0)
        net = build_network(config)
        return net, torch.optim.Adam(net.parameters(), lr=config.lr)

    return config, data, fresh


def peak_rss_mb(args: argparse.Namespace) -> float:
    """Run one epoch of ``args.loop`` in this (fresh) process; its peak RSS in MB."""
    config, data, fresh = setup(args)
    net, optimizer = fresh()
    LOOPS[args.loop](net, build_loss("ms", eta=1.5), optimizer, data, config=config, epoch=0)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(args: argparse.Namespace) -> dict[str, list[float]]:
    """Images/s of each loop over ``args.rounds`` interleaved epochs (after one warm-up each)."""
    config, data, fresh = setup(args)
    loss_fn = build_loss("ms", eta=1.5)
    state = {name: fresh() for name in LOOPS}
    rates: dict[str, list[float]] = {name: [] for name in LOOPS}
    for epoch in range(args.rounds + 1):
        for name in list(LOOPS)[:: 1 if epoch % 2 else -1]:
            net, optimizer = state[name]
            start = time.perf_counter()
            LOOPS[name](net, loss_fn, optimizer, data, config=config, epoch=epoch)
            if epoch > 0:
                rates[name].append(len(data) / (time.perf_counter() - start))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--model", default="small-cnn")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=4096, help="training images per epoch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per loop")
    parser.add_argument("--loop", choices=list(LOOPS), help=argparse.SUPPRESS)  # memory worker
    args = parser.parse_args()
    if args.loop:
        print(json.dumps(peak_rss_mb(args)))
        return
    rates = throughput(args)
    for name in LOOPS:
        done = subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--loop", name],
            capture_output=True,
            text=True,
            check=True,
        )
        rss = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{name:5s}: median {statistics.median(rates[name]):7.1f} images/s "
            f"(min {min(rates[name]):.1f}, max {max(rates[name]):.1f}), peak RSS {rss:.0f} MB"
        )
    ratio = statistics.median(rates["ours"]) / statistics.median(rates["plain"])
    print(
        f"ours / plain median throughput: {ratio:.3f} ({args.model}, batch {args.batch_size}, "
        f"{args.limit} images, {args.threads} thread(s), {args.rounds} rounds)"
    )


if __name__ == "__main__":
    main()
