"""Images/s and peak memory of our train_one_epoch against a minimal plain PyTorch loop.

Both train the same model from the same initial weights on the same batches (the same
index order from :func:`msanalysis.training.data.batch_indices`) with the same loss module;
the plain loop is the textbook one: index, scale to [0, 1], forward, loss, backward, step.
Ours adds the progress bar (shown, to stderr), metric accumulation and the DDP loss weight.

Each measurement runs in its own process, so peak RSS (``getrusage`` maxrss) is that loop's
alone; ours and plain alternate, and the best of ``--repeats`` is kept per loop (the machine
is shared, so the best is the least disturbed).

    OMP_NUM_THREADS=1 python bench/bench_train.py --limit 4096 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(args: argparse.Namespace) -> dict[str, float]:
    """Train one epoch with ``args.loop`` and measure it (runs in a fresh process)."""
    import torch

    sys.path.insert(0, str(ROOT))
    from msanalysis.training.data import batch_indices, load_dataset
    from msanalysis.training.losses import build_loss
    from msanalysis.training.train import TrainConfig, build_network, train_one_epoch

    torch.set_num_threads(args.threads)
    config = TrainConfig(dataset=args.dataset, model=args.model, loss="ms", loss_params={"eta": 1.5},
                         batch_size=args.batch_size, limit_train=args.limit)
    data = load_dataset(config.dataset, "train", limit=config.limit_train)
    torch.manual_seed(0)
    net = build_network(config)
    loss_fn = build_loss(config.loss, **config.loss_params)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    start = time.perf_counter()
    if args.loop == "ours":
        train_one_epoch(net, loss_fn, optimizer, data, config=config, epoch=0, progress=True)
    else:
        net.train()
        for idx, _ in batch_indices(len(data), batch_size=config.batch_size, seed=config.seed, epoch=0):
            loss = loss_fn(net(data.images[idx].float() / 255), data.labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    return {"images_per_s": len(data) / seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--model", default="small-cnn")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=4096, help="training images per epoch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop", choices=["ours", "plain"], help=argparse.SUPPRESS)  # worker mode
    args = parser.parse_args()
    if args.loop:
        print(json.dumps(worker(args)))
        return
    argv = [a for a in sys.argv[1:]]
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeats):
        for loop in ("ours", "plain"):
            done = subprocess.run([sys.executable, __file__, *argv, "--loop", loop], capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if loop not in best or result["images_per_s"] > best[loop]["images_per_s"]:
                best[loop] = result
    for loop, result in best.items():
        print(f"{loop:5s}: {result['images_per_s']:8.1f} images/s, peak RSS {result['peak_rss_mb']:.0f} MB")
    ratio = best["ours"]["images_per_s"] / best["plain"]["images_per_s"]
    print(f"ours / plain throughput: {ratio:.3f} ({args.model}, batch {args.batch_size}, {args.limit} images, {args.threads} thread(s))")


if __name__ == "__main__":
    main()
