"""Run every benchmark in bench/ and write bench/RESULTS.md with the machine's description.

Each bench_*.py measures one path against its reference in the same run on the same input
and prints its own table; this script runs them one after another (never in parallel, so
they do not disturb each other) and collects their output.

Run from the checkout root:  python bench/run.py [--only verify,sweep] [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    import numpy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (
        f"CPU {cpu}, {os.cpu_count()} cores; GPU {gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__}, numpy {numpy.__version__}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names, e.g. verify,sweep (bench_<name>.py)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {f"bench_{n}.py" for n in args.only.split(",")}
        scripts = [s for s in scripts if s.name in wanted]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
    sections = [f"# Benchmarks\n\nMachine: {machine()}\n"]
    failed = 0
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - start
        body = (
            proc.stdout.strip()
            if proc.returncode == 0
            else f"FAILED (exit {proc.returncode})\n\n```\n{proc.stderr[-2000:]}\n```"
        )
        failed += proc.returncode != 0
        sections.append(f"## {script.name} ({elapsed:.0f} s)\n\n{body}\n")
    Path(args.out).write_text("\n".join(sections), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
