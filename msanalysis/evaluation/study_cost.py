"""``msanalysis study --dry-run``: the cells of a study, which are done, and what the rest cost.

The estimate comes from a short timed probe on this machine, per model: a few training steps
of a real batch and a few attack gradient steps (forward + input gradient) on an evaluation
batch, both on random inputs of the data set's shape. Training cost = epochs × batches ×
step time; attack cost = gradient steps of the row × evaluation batches × step time. It is an
order of magnitude, not a promise: data loading, evaluation passes and other load are left out.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ..training.data import DATASETS
from .study import Study, eval_cells, load_results, train_cells

__all__ = ["dry_run", "probe_seconds"]

_EVAL_BATCH = 256
#: (train, test) images of each data set's standard splits, for the estimate only.
_SPLIT_SIZES = {
    "fashion-mnist": (60_000, 10_000),
    "mnist": (60_000, 10_000),
    "cifar10": (50_000, 10_000),
}
_GRADIENT_STEPS = {"fgsm": 1, "bim": 10, "pgd": 40, "upgd": 40}  # the paper's (attacks/__init__)


def probe_seconds(
    model_name: str, dataset: str, *, batch_size: int, device: str = "cpu", repeats: int = 3
) -> tuple[float, float]:
    """(seconds per training step, seconds per attack gradient step) measured on this machine."""
    from ..training.accel import resolve_device
    from ..training.losses import build_loss
    from ..training.models import build_model

    dev = resolve_device(device)
    spec = DATASETS[dataset]
    model = build_model(
        model_name, num_classes=spec.num_classes, in_channels=spec.shape[0], normalize=dataset
    ).to(dev)
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = build_loss("ce")
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((batch_size, *spec.shape), generator=gen).to(dev)
    y = torch.randint(0, spec.num_classes, (batch_size,), generator=gen).to(dev)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    xe = torch.rand((_EVAL_BATCH, *spec.shape), generator=gen).to(dev).requires_grad_(True)
    ye = torch.randint(0, spec.num_classes, (_EVAL_BATCH,), generator=gen).to(dev)

    def attack_step() -> None:
        torch.autograd.grad(torch.nn.functional.cross_entropy(model(xe), ye), xe)

    return _time(train_step, repeats, dev), _time(attack_step, repeats, dev)


def _time(step, repeats: int, device: torch.device) -> float:
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def _steps(row) -> int:
    return row.steps if row.steps is not None else _GRADIENT_STEPS.get(row.kind, 1)


def dry_run(study: Study, *, device: str = "auto", data_dir: str | None = None) -> str:
    """A listing of the study's cells (done / to do) and the estimated cost of the rest."""
    del data_dir  # the probe uses random inputs of the data set's shape
    results = load_results(study, missing_ok=True)
    train_size, test_size = _SPLIT_SIZES[study.dataset]
    n_train = min(study.limit_train or train_size, train_size)
    n_eval = min(study.eval_limit or study.limit_test or test_size, test_size)
    probes = {
        m: probe_seconds(m, study.dataset, batch_size=study.batch_size, device=device)
        for m in study.models
    }
    lines, total = [f"study {study.name!r}: results file {study.results}"], 0.0
    for cell in train_cells(study):
        done = Path(cell.folder(), "last.pt").exists() and (
            results["train"].get(cell.key, {}).get("epochs") == cell.epochs
        )
        cost = (
            0.0 if done else cell.epochs * -(-n_train // study.batch_size) * probes[cell.model][0]
        )
        total += cost
        lines.append(f"  train {cell.key:<40} {'done' if done else f'~{cost:,.0f} s'}")
    todo = [c for c in eval_cells(study) if c.key not in results["cells"]]
    for cell in todo:
        cost = _steps(cell.row) * -(-n_eval // _EVAL_BATCH) * probes[cell.train.model][1]
        total += cost
    lines.append(
        f"  attack cells: {len(eval_cells(study)) - len(todo)} done, {len(todo)} to do "
        f"({n_eval} test images each)"
    )
    lines.append(f"estimated cost of what is left: ~{total / 60:,.1f} min on {device} (probe)")
    return "\n".join(lines)
