"""Our FGSM and PGD-40 against torchattacks' on the same model and batch (CPU).

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/bench_attacks.py \
        [--batch 256] [--repeats 7] [--profile]

Prints min and median wall time per attack call over the repetitions and the ratio
ours / torchattacks (< 1: ours is faster). ``--profile`` prints where our PGD spends its time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from msanalysis.attacks import FGSM, PGD


def small_cnn() -> nn.Module:
    """The small CNN of the Fashion-MNIST experiments, for 1x28x28 images."""
    from msanalysis.training.models import build_model

    return build_model("small-cnn", num_classes=10, in_channels=1)


def timings(fns: list, repeats: int) -> list[list[float]]:
    """Wall times of each function, interleaved (a, b, a, b, ...) so load changes hit both alike."""
    for fn in fns:
        fn()  # warm-up
    out: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, times in zip(fns, out, strict=True):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    import torchattacks

    gen = torch.Generator().manual_seed(0)
    model = small_cnn().eval()
    x = torch.rand(args.batch, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (args.batch,), generator=gen)
    pairs = {
        "FGSM": (FGSM(model, eps=8 / 255), torchattacks.FGSM(model, eps=8 / 255)),
        "PGD-40": (
            PGD(model, steps=40, random_start=True, seed=0),
            torchattacks.PGD(model, steps=40, random_start=True),
        ),
    }
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
        f"{args.repeats} repeats"
    )
    print(
        f"{'attack':8} {'ours min':>9} {'ours med':>9} {'ta min':>9} {'ta med':>9} "
        f"{'ratio(min)':>10} {'ratio(med)':>10}"
    )
    for name, (ours, theirs) in pairs.items():
        t_ours, t_ta = timings([lambda f=ours: f(x, y), lambda f=theirs: f(x, y)], args.repeats)
        mo, mt = min(t_ours), min(t_ta)
        do, dt = statistics.median(t_ours), statistics.median(t_ta)
        print(f"{name:8} {mo:9.4f} {do:9.4f} {mt:9.4f} {dt:9.4f} {mo / mt:10.3f} {do / dt:10.3f}")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            pairs["PGD-40"][0](x, y)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
