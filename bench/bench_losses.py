"""Forward + backward time of the family's torch losses against nn.CrossEntropyLoss.

    OMP_NUM_THREADS=1 python bench/bench_losses.py [--reps 1000] [--threads 1]

Times loss(logits, target).backward() for N=512 float32 logits with K=10 and K=1000 on the
CPU, repetitions interleaved across the losses (so load on a shared machine hits all of them
alike), and prints min and median per call and their ratio to nn.CrossEntropyLoss as a
Markdown table. The last rows put the loss inside a training step (small-cnn, batch 512,
forward + backward), the workload the loss is paid in. The fused rows are the default
(FamilyLoss(..., fused=True)); 'deferred' is the check mode a training loop uses. The last
lines compare the ratios (by min) with the goal of issue 18: MS at most 1.2x CE at K = 10
and 1.05x at K = 1000.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from msanalysis.losses import ETA
from msanalysis.training.losses import FamilyLoss, StationaryTransform
from msanalysis.training.models import build_model


def _time_interleaved(
    steps: dict[str, Callable[[], None]], reps: int, warmup: int = 20
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(warmup):
        for step in steps.values():
            step()
    for _ in range(reps):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def _loss_steps(k: int, seed: int) -> dict[str, Callable[[], None]]:
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(512, k, generator=gen).requires_grad_(True)
    target = torch.randint(0, k, (512,), generator=gen)
    losses = {
        "nn.CrossEntropyLoss": torch.nn.CrossEntropyLoss(),
        "ce (family, fused)": FamilyLoss("ce"),
        "ms, eq. 7 (eta=1.5), fused, eager checks": FamilyLoss("ms"),
        "ms, fused, deferred checks": FamilyLoss("ms", check_values="deferred"),
        "ms, fused, no checks": FamilyLoss("ms", check_values="off"),
        "ms, autograd, eager checks": FamilyLoss("ms", fused=False),
        "ms-focal, eq. 4, fused, deferred": FamilyLoss("ms-focal", check_values="deferred"),
        "StationaryTransform(ce), fused, deferred": StationaryTransform(
            "ce", eta=ETA.default, check_values="deferred"
        ),
    }

    def step(fn: torch.nn.Module) -> Callable[[], None]:
        def run() -> None:
            logits.grad = None
            fn(logits, target).backward()

        return run

    return {name: step(fn) for name, fn in losses.items()}


def _training_steps(seed: int) -> dict[str, Callable[[], None]]:
    torch.manual_seed(seed)
    model = build_model("small-cnn")
    images = torch.rand(512, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    target = torch.randint(0, 10, (512,), generator=torch.Generator().manual_seed(seed))
    losses = {
        "small-cnn step, nn.CrossEntropyLoss": torch.nn.CrossEntropyLoss(),
        "small-cnn step, ms (fused, deferred)": FamilyLoss("ms", check_values="deferred"),
        "small-cnn step, ms (autograd, eager)": FamilyLoss("ms", fused=False),
    }

    def step(fn: torch.nn.Module) -> Callable[[], None]:
        def run() -> None:
            model.zero_grad(set_to_none=True)
            fn(model(images), target).backward()

        return run

    return {name: step(fn) for name, fn in losses.items()}


def _rows(label: str, times: dict[str, list[float]]) -> list[str]:
    base_name = next(iter(times))
    base_min, base_med = min(times[base_name]), statistics.median(times[base_name])
    rows = []
    for name, ts in times.items():
        lo, med = min(ts), statistics.median(ts)
        cells = (name, label, f"{lo * 1e6:,.0f}", f"{med * 1e6:,.0f}")
        ratios = (f"{lo / base_min:.2f}", f"{med / base_med:.2f}")
        rows.append("| " + " | ".join(cells + ratios) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps", type=int, default=1000, help="timed repetitions per loss (default 1000)"
    )
    parser.add_argument(
        "--step-reps", type=int, default=15, help="repetitions of the training step (default 15)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {args.threads} thread(s), N=512, float32, CPU\n")
    print("| loss | K | min µs | median µs | min / CE | median / CE |")
    print("|---|---|---:|---:|---:|---:|")
    ratios = {}
    for k, goal in ((10, 1.2), (1000, 1.05)):
        times = _time_interleaved(_loss_steps(k, seed=k), args.reps)
        for row in _rows(f"{k}", times):
            print(row)
        ratios[k] = (
            goal,
            {n: min(ts) / min(times["nn.CrossEntropyLoss"]) for n, ts in times.items()},
        )
    for row in _rows("10", _time_interleaved(_training_steps(seed=0), args.step_reps, warmup=3)):
        print(row)
    print()
    for k, (goal, by_name) in ratios.items():
        for name in ("ms, fused, deferred checks", "ms, eq. 7 (eta=1.5), fused, eager checks"):
            verdict = "met" if by_name[name] <= goal else "NOT met"
            print(f"K={k}: {name}: {by_name[name]:.2f}x CE (min), goal <= {goal}x: {verdict}")


if __name__ == "__main__":
    main()
