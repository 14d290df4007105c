"""Time the vectorised η sweep against a plain Python loop over η (same GD, same steps).

The loop runs :func:`msanalysis.sweep.sweep_eta` with a one-point grid for each η, so both
sides execute the same GD code; only the batch differs (n_eta × n_init rows at once vs n_init).
Both times are the GD loop alone (``SweepResult.seconds``: no sympy set-up). The loop is timed
on ``--subset`` evenly spaced η values and scaled to the full grid, which this script prints.

Run from the checkout root:
  OMP_NUM_THREADS=1 PYTHONPATH=. python bench/bench_sweep.py \
      [--loss ms] [--n-eta 2001] [--steps 10000] [--subset 20]
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

from msanalysis.sweep import sweep_eta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", default="ms")
    parser.add_argument("--n-eta", type=int, default=2001)
    parser.add_argument("--eta-step", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--subset", type=int, default=20, help="η values timed in the Python loop")
    args = parser.parse_args()

    full = sweep_eta(args.loss, n_eta=args.n_eta, eta_step=args.eta_step, steps=args.steps)
    etas = full.etas[np.linspace(0, args.n_eta - 1, args.subset).astype(int)]
    looped = [
        sweep_eta(args.loss, n_eta=1, eta_step=float(eta), steps=args.steps, lr=full.lr)
        for eta in etas
    ]
    loop_seconds = sum(r.seconds for r in looped) * args.n_eta / args.subset
    same = all(
        np.array_equal(r.z_final[0], full.z_final[np.argmin(np.abs(full.etas - r.etas[0]))])
        for r in looped
    )
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}")
    print(f"{args.loss}: {args.n_eta} η x {len(full.inits)} inits x {args.steps} steps")
    print(f"vectorised: {full.seconds:.2f} s")
    scaled = f"timed {args.subset} η values, scaled by {args.n_eta}/{args.subset}"
    print(f"python loop over η: {loop_seconds:.1f} s ({scaled})")
    print(
        f"ratio loop / vectorised: {loop_seconds / full.seconds:.0f}x; identical final logits on "
        f"the subset: {same}"
    )


if __name__ == "__main__":
    main()
