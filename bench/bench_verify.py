"""Wall and CPU time of `msanalysis verify`: a cold start (fresh process, as a user runs it) and
with the expression caches warm (the ledger run again in the same process).

Run from the checkout root:  PYTHONPATH=.:bench python bench/bench_verify.py [--repeats 3]
Compare with another checkout (cold start only):  ... bench_verify.py --checkout /tmp/verify-base
Paired against a base checkout (one cold run of each in turn, the ratio of their CPU times):
  ... bench_verify.py --pairs 6 --base /tmp/verify-base
Python function calls of one run each (a load-free proxy):  ... bench_verify.py --calls --base DIR
Rounds of --pairs saved to files, summarised together:  ... bench_verify.py --pool FILE [FILE ...]
CPU time (user + sys of the child) is reported besides wall time because on a shared machine
the wall time mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time


def _cold(checkout: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "msanalysis", "verify", "--json"],
        check=True,
        capture_output=True,
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": checkout},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def _calls(checkout: str) -> int:
    """Python function calls of one cold ``verify --json`` under cProfile (hash seed 0): a
    count that, unlike CPU time, does not move with the machine's load. A proxy only: a call
    into sympy's polynomial code and a call to a property weigh the same."""
    import pstats
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "verify.prof")
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", out, "-m", "msanalysis", "verify", "--json"],
            check=True,
            capture_output=True,
            cwd=checkout,
            env={**os.environ, "PYTHONPATH": checkout, "PYTHONHASHSEED": "0"},
        )
        return pstats.Stats(out).total_calls


def _pairs(base: str, checkout: str, n: int) -> None:
    """n cold runs of each, alternating, so that both see the same load; CPU ratios."""
    ratios, bases, checkouts = [], [], []
    print(f"base: {os.path.abspath(base)}; checkout: {os.path.abspath(checkout)}")
    print("| pair | base CPU s | checkout CPU s | ratio |")
    print("|---|---:|---:|---:|")
    for i in range(1, n + 1):
        b, c = _cold(base)[1], _cold(checkout)[1]
        ratios.append(c / b)
        bases.append(b)
        checkouts.append(c)
        print(f"| {i} | {b:.2f} | {c:.2f} | {c / b:.3f} |", flush=True)
    print(_summary(bases, checkouts))


def _summary(bases: list[float], checkouts: list[float]) -> str:
    ratios = [c / b for b, c in zip(bases, checkouts, strict=True)]
    low, high = median_interval(ratios)
    return (
        f"median ratio {statistics.median(ratios):.3f}; distribution-free 95% interval for the "
        f"median [{low:.3f}, {high:.3f}]; min base {min(bases):.2f} s, min checkout "
        f"{min(checkouts):.2f} s (ratio of minima {min(checkouts) / min(bases):.3f})"
    )


PAIR_ROW = re.compile(r"^\| (\d+) \| ([\d.]+) \| ([\d.]+) \| [\d.]+ \|$")


def pooled(paths: list[str]) -> str:
    """The summary of every pair in saved ``--pairs`` outputs together (rounds of one commit
    and one command): the CPU seconds are read back from their table rows."""
    bases, checkouts = [], []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows = [m for line in f if (m := PAIR_ROW.match(line.strip()))]
        if not rows:
            raise SystemExit(f"{path}: no '| pair | base CPU s | checkout CPU s | ratio |' rows")
        bases += [float(m[2]) for m in rows]
        checkouts += [float(m[3]) for m in rows]
    files = f"{len(paths)} file" + ("s" if len(paths) > 1 else "")
    return f"{len(bases)} pairs from {files}: " + _summary(bases, checkouts)


def median_interval(values: list[float], level: float = 0.95) -> tuple[float, float]:
    """The order-statistic interval [x_(k), x_(n+1-k)] that holds the population median with
    probability >= ``level`` for any continuous distribution (k from the Binomial(n, 1/2) tail);
    the whole range where n is too small for ``level``."""
    x, n = sorted(values), len(values)
    tail = 0.0
    k = 0
    while k < n // 2:
        tail_next = tail + math.comb(n, k) / 2**n  # P(B <= k), B ~ Binomial(n, 1/2)
        if 2 * tail_next > 1 - level:
            break
        tail, k = tail_next, k + 1
    return (x[k - 1], x[n - k]) if k else (x[0], x[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkout", default=".", help="checkout to time (cold start only)")
    parser.add_argument("--pairs", type=int, default=0, help="paired runs against --base")
    parser.add_argument("--base", help="base checkout for --pairs")
    parser.add_argument(
        "--calls", action="store_true", help="function calls of one run each, against --base"
    )
    parser.add_argument(
        "--pool", nargs="+", metavar="FILE", help="summarise saved --pairs outputs together"
    )
    args = parser.parse_args()
    if args.pool:
        print(pooled(args.pool))
        return
    if args.calls:
        if not args.base:
            parser.error("--calls needs --base CHECKOUT")
        base, ours = _calls(args.base), _calls(args.checkout)
        print(f"function calls: base {base:,}, checkout {ours:,}, ratio {ours / base:.3f}")
        return
    if args.pairs:
        if not args.base:
            parser.error("--pairs needs --base CHECKOUT")
        _pairs(args.base, args.checkout, args.pairs)
        return
    cold = [_cold(args.checkout) for _ in range(args.repeats)]
    walls, cpus = [c[0] for c in cold], [c[1] for c in cold]
    print(f"checkout: {os.path.abspath(args.checkout)}")
    print("| msanalysis verify | min s | median s |")
    print("|---|---|---|")
    print(f"| cold start, wall | {min(walls):.2f} | {statistics.median(walls):.2f} |")
    print(f"| cold start, CPU (user + sys) | {min(cpus):.2f} | {statistics.median(cpus):.2f} |")
    if args.checkout != ".":
        return
    from msanalysis import ledger

    ledger.ledger()  # fill the caches
    warm = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        ledger.ledger()
        warm.append(time.perf_counter() - start)
    print(f"| caches warm (same process), wall | {min(warm):.2f} | {statistics.median(warm):.2f} |")


if __name__ == "__main__":
    main()
