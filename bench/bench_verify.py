"""Wall and CPU time of `msanalysis verify`: a cold start (fresh process, as a user runs it) and
with the expression caches warm (the ledger run again in the same process).

Run from the checkout root:  PYTHONPATH=.:bench python bench/bench_verify.py [--repeats 3]
Compare with another checkout (cold start only):  ... bench_verify.py --checkout /tmp/verify-base
CPU time (user + sys of the child) is reported besides wall time because on a shared machine
the wall time mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkout", default=".", help="checkout to time (cold start only)")
    args = parser.parse_args()
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
