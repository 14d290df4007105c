"""Helpers shared by the training tests (test_training_train, test_baselines): not a test module.

Kept here rather than in one test module, so that no test module imports another.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from msanalysis import cli
from msanalysis.training.checkpoint import read_checkpoint

TIMING = ("seconds", "images_per_s")


def weights(path: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)["model"]


def without_timing(metrics: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k not in TIMING} for m in metrics]


def assert_same_weights(a: dict, b: dict, **tol) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if tol:
            torch.testing.assert_close(a[k], b[k], **tol, msg=lambda m, k=k: f"{k}: {m}")
        else:
            assert torch.equal(a[k], b[k]), k


def run_in_this_process(args: list[str]) -> None:
    """The CLI in this process, on one thread like the child processes (same float reductions)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert cli.main(args) == 0
    finally:
        torch.set_num_threads(threads)


def read_metrics(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def run_slowly(args: list[str]) -> None:
    """A training process that sleeps after each batch (the test-only hook), so that it can be
    killed mid-epoch."""
    os.environ["MSANALYSIS_TEST_BATCH_DELAY"] = "0.15"
    torch.set_num_threads(1)
    sys.exit(cli.main(args))
