"""Robust accuracy of trained checkpoints: the engine of ``attack``, ``table1`` and ``table2``.

A checkpoint of ``msanalysis train`` names its data set, model and training loss; the test
split of that data set is attacked. Results are plain dicts, ready for JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..attacks import Attack, family_objective
from ..attacks.evaluate import correct_under

__all__ = [
    "Target",
    "load_target",
    "resolve_device",
    "objective_for",
    "accuracies",
    "write_json_atomic",
]


@dataclass
class Target:
    """A trained model and the test images it is evaluated on."""

    model: nn.Module
    images: torch.Tensor  # (N, C, H, W) float in [0, 1]
    labels: torch.Tensor  # (N,) int64
    dataset: str
    model_name: str
    loss: str
    loss_params: dict[str, float]
    checkpoint: str

    def describe(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "dataset": self.dataset,
            "model": self.model_name,
            "loss": self.loss,
            "loss_params": self.loss_params,
            "n": len(self.labels),
        }


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU; 'cpu' / 'cuda' as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def load_target(
    checkpoint: str | os.PathLike,
    *,
    limit: int | None = None,
    data_dir: str | None = None,
    device: str = "auto",
) -> Target:
    """The checkpoint's model (eval mode) and the first ``limit`` images of its test split."""
    from ..training.data import load_dataset, to_float
    from ..training.train import load_checkpoint

    dev = resolve_device(device)
    model, meta = load_checkpoint(checkpoint, device=dev)
    config = meta["config"]
    data = load_dataset(config.dataset, "test", data_dir=data_dir, limit=limit)
    return Target(
        model=model,
        images=to_float(data.images),
        labels=data.labels,
        dataset=config.dataset,
        model_name=config.model,
        loss=config.loss,
        loss_params=dict(config.loss_params),
        checkpoint=str(checkpoint),
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
