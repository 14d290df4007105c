"""Shared test data: tiny IDX data sets, a tiny CNN and image batches, as fixtures.

Helpers live here, not in test modules, so no test module imports another. Each fixture
returns a function (session scope: they hold no state, and hypothesis tests may use them).
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings
from torch import nn

# ---- hypothesis profiles (issue 18) ---------------------------------------------------------
# CI runs the "ci" profile. MSANALYSIS_FUZZ=long selects the long fuzzing run of
# tests/test_fuzz.py (docs/reliability-fuzzing.md): its tests take shares of max_examples.
settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile(
    "long",
    max_examples=35_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("MSANALYSIS_FUZZ", "ci"))
# ---- end of hypothesis profiles --------------------------------------------------------------


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)


def _write_patch_task(root: Path, *, n_train: int, n_test: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder = root / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for image, k in zip(images, labels, strict=True):
            r, c = divmod(int(k), 5)
            image[3 + 12 * r : 10 + 12 * r, 1 + 5 * c : 8 + 5 * c] = 220
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


def _tiny_cnn(seed: int = 0) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(6 * 8 * 8, 10),
    )
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
        model[1].running_mean.copy_(torch.randn(6, generator=gen) * 0.1)
        model[1].running_var.copy_(torch.rand(6, generator=gen) + 0.5)
    return model


def _batch(n: int = 64, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=gen), torch.randint(0, 10, (n,), generator=gen)


def _kill_once_written(
    target: Callable[[list[str]], None], args: list[str], path: Path, *, delay: float
) -> None:
    proc = multiprocessing.get_context("fork").Process(target=target, args=(args,))
    proc.start()
    try:
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline and proc.is_alive():
            time.sleep(0.01)
        time.sleep(delay)
        proc.kill()  # SIGKILL: no cleanup of any kind runs
    finally:
        proc.join()
    return proc.exitcode


@pytest.fixture(scope="session")
def write_idx() -> Callable[[Path, np.ndarray], None]:
    """``write_idx(path, array)``: an IDX file of unsigned bytes (gzipped if path ends .gz).

    The format: magic 0x0000 08 ndim, big-endian sizes, then the data.
    """
    return _write_idx


@pytest.fixture(scope="session")
def write_patch_task() -> Callable[..., Path]:
    """``write_patch_task(root, n_train=, n_test=, seed=0)``: a learnable Fashion-MNIST stand-in.

    Class k has a bright 7x7 patch at one of 10 positions, plus noise; written as IDX files
    under ``root/fashion-mnist``. Returns ``root``, the data root for ``--data-dir``.
    """
    return _write_patch_task


@pytest.fixture(scope="session")
def tiny_cnn() -> Callable[..., nn.Module]:
    """``tiny_cnn(seed=0)``: a CNN with BatchNorm and Dropout (so eval mode matters); 10 classes
    on 1x8x8 images, weights drawn from ``seed``."""
    return _tiny_cnn


@pytest.fixture(scope="session")
def batch() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """``batch(n=64, seed=1)``: n random 1x8x8 images in [0, 1] and labels in 0..9."""
    return _batch


@pytest.fixture(scope="session")
def kill_once_written() -> Callable[..., int | None]:
    """``kill_once_written(target, args, path, delay=)``: run ``target(args)`` in a forked child
    (no second torch import), SIGKILL it ``delay`` s after ``path`` appears (60 s at most).

    Returns the child's exit code (``-signal.SIGKILL`` when the kill landed).
    """
    return _kill_once_written
