"""Robust accuracy of trained checkpoints: the engine of ``attack``, ``table1`` and ``table2``.

A checkpoint of ``msanalysis train`` names its data set, model and training loss; the test
split of that data set is attacked. Results are plain dicts, ready for JSON.

Accuracy is always measured in float32 (:func:`~msanalysis.training.accel.measured`), as
training's evaluation is; the attacks' own forward and backward passes run in the chosen
precision (bf16 speeds up the gradient steps only; every adversarial image is then judged
by the float32 model).

An accuracy is stored as its integer counts and their exact fraction (:func:`count_correct`),
and per-sample correctness compactly (:func:`pack_bits`), so that paired statistics between
two models on the same images never need a rerun.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..attacks import Attack, family_objective
from ..attacks.evaluate import correct_under
from ..training.accel import Accel, AcceleratedModel, measured, resolve_accel

__all__ = [
    "Target",
    "describe_loss",
    "count_correct",
    "pack_bits",
    "unpack_bits",
    "load_target",
    "objective_for",
    "accuracies",
    "write_json_atomic",
]


@dataclass
class Target:
    """A trained model and the test images it is evaluated on.

    ``model`` measures accuracy (float32); ``attack_model`` is the same weights run in the
    settings' precision, for the attacks' gradients.
    """

    model: nn.Module
    attack_model: nn.Module
    accel: Accel
    images: torch.Tensor  # (N, C, H, W) float in [0, 1], on accel.device
    labels: torch.Tensor  # (N,) int64
    dataset: str
    model_name: str
    loss: str
    loss_params: dict[str, float]
    checkpoint: str
    data: str = ""  # the folder the test split was read from

    def describe(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "data": self.data,
            "dataset": self.dataset,
            "model": self.model_name,
            "loss": self.loss,
            "loss_params": self.loss_params,
            "n": len(self.labels),
            "attack_precision": self.accel.precision,
            "measured_precision": measured(self.accel).precision,
            "memory_format": self.accel.memory_format,
        }


_SYMBOLS = {"eta": "η", "alpha": "α", "gamma": "γ", "lam": "λ"}


def describe_loss(loss: str, params: dict[str, float]) -> str:
    """A training loss for people: ``ms (η = 1.5)``, ``focal (α = 1, γ = 2)``, ``ce``.

    >>> describe_loss("ms", {"eta": 1.5}), describe_loss("ce", {})
    ('ms (η = 1.5)', 'ce')
    """
    if not params:
        return loss
    inside = ", ".join(f"{_SYMBOLS.get(k, k)} = {v:g}" for k, v in params.items())
    return f"{loss} ({inside})"


def pack_bits(correct: torch.Tensor) -> str:
    """(N,) bool -> base64 of numpy.packbits (N/8 bytes): per-sample correctness, compactly.

    >>> pack_bits(torch.tensor([True, False, True]))
    'oA=='
    """
    return base64.b64encode(np.packbits(correct.cpu().numpy().astype(bool))).decode("ascii")


def unpack_bits(data: str, n: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: an (n,) bool array.

    >>> unpack_bits("oA==", 3).tolist()
    [True, False, True]
    """
    return np.unpackbits(np.frombuffer(base64.b64decode(data), dtype=np.uint8))[:n].astype(bool)


def count_correct(correct: torch.Tensor) -> dict[str, Any]:
    """Counts and their exact fraction, for JSON: ``{"correct": k, "n": n, "accuracy": k / n}``.

    The fraction is computed in Python from the integer counts (a float32 mean would store
    0.7049999833106995 for 705 / 1000).

    Args:
      correct: (N,) bool, per-sample correctness.

    >>> count_correct(torch.tensor([True] * 705 + [False] * 295))
    {'correct': 705, 'n': 1000, 'accuracy': 0.705}
    """
    k, n = int(correct.sum()), int(correct.numel())
    return {"correct": k, "n": n, "accuracy": k / n if n else float("nan")}


def load_target(
    checkpoint: str | os.PathLike,
    *,
    limit: int | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    accel: Accel | None = None,
) -> Target:
    """The checkpoint's model (eval mode) and the first ``limit`` images of its test split.

    ``accel`` (default: ``device`` in float32, contiguous) says where and how the model runs;
    model and images are put on its device once.
    """
    from ..training.data import find_dataset, load_dataset, to_float
    from ..training.train import load_checkpoint

    accel = accel or resolve_accel(device, precision="fp32", memory_format="contiguous")
    net, meta = load_checkpoint(checkpoint, device=accel.device)
    accel.module(net)
    config = meta["config"]
    folder = find_dataset(config.dataset, "test", data_dir=data_dir)
    data = load_dataset(config.dataset, "test", data_dir=data_dir, limit=limit).to(accel.device)
    return Target(
        model=AcceleratedModel(net, measured(accel)).eval(),
        attack_model=AcceleratedModel(net, accel).eval(),
        accel=accel,
        images=to_float(data.images),
        labels=data.labels,
        dataset=config.dataset,
        model_name=config.model,
        loss=config.loss,
        loss_params=dict(config.loss_params),
        checkpoint=str(checkpoint),
        data=str(folder),
    )


def objective_for(target: Target, objective: str):
    """An attack objective by name; ``'train-loss'`` is the checkpoint's own training loss."""
    from ..training.baselines import BASELINES, baseline_objective

    if objective == "train-loss" and target.loss in BASELINES:
        return baseline_objective(target.loss, target.model)  # its head's loss, per sample
    if objective == "train-loss":
        return family_objective(target.loss, **target.loss_params)
    return objective


def accuracies(
    target: Target,
    attacks: dict[str, Attack],
    *,
    batch_size: int = 256,
    progress: bool = True,
    on_result: Callable[[str, torch.Tensor], None] | None = None,
) -> dict[str, torch.Tensor]:
    """Per-sample correctness, clean (key ``'clean'``) and under each attack, with a tqdm bar."""
    from tqdm.auto import tqdm

    out: dict[str, torch.Tensor] = {}
    runs: dict[str, Any] = {"clean": None, **attacks}
    with tqdm(
        total=len(target.labels) * len(runs), disable=not progress, unit="img", leave=False
    ) as bar:
        for name, attack in runs.items():
            bar.set_description(name)
            out[name] = correct_under(
                target.model,
                target.images,
                target.labels,
                attack,
                batch_size=batch_size,
                progress=bar.update,
            )
            if on_result is not None:
                on_result(name, out[name])
    return out


def write_json_atomic(path: str | os.PathLike, payload: Any) -> None:
    """Write JSON so a reader (or a killed run) never sees half a file."""
    from ..training.checkpoint import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(payload, indent=1, sort_keys=False) + "\n").encode()
    atomic_write(path, lambda f: f.write(data))
