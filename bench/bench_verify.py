"""Wall time of `msanalysis verify`: a cold start (fresh process, as a user runs it) and with
the expression caches warm (the ledger run again in the same process).

Run from the checkout root:  PYTHONPATH=.:bench python bench/bench_verify.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from msanalysis import ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cold = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "msanalysis", "verify", "--json"],
            check=True,
            capture_output=True,
        )
        cold.append(time.perf_counter() - start)
    ledger.ledger()  # fill the caches
    warm = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        ledger.ledger()
        warm.append(time.perf_counter() - start)
    print("| msanalysis verify | min s | median s |")
    print("|---|---|---|")
    print(f"| cold start (new process) | {min(cold):.2f} | {statistics.median(cold):.2f} |")
    print(f"| caches warm (same process) | {min(warm):.2f} | {statistics.median(warm):.2f} |")
    print(f"\nwarm / cold (median): {statistics.median(warm) / statistics.median(cold):.2f}")


if __name__ == "__main__":
    main()
