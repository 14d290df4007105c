"""Training: one epoch, evaluation, and a resumable driver that keeps the best checkpoint.

The paper's setup (Section 4): Adam with learning rate 1e-3, 50 epochs on MNIST, 200 on
CIFAR-10, and "the most accurate model" kept. Here that is ``best.pt``, chosen by TEST
accuracy as in the paper (there is no validation split), so its accuracy is an optimistic
estimate; ``last.pt`` is the final model.

Output folder: ``metrics.jsonl`` (one JSON object per finished epoch), ``last.pt`` (after
every epoch) and ``best.pt``. A checkpoint holds the model, the optimizer, the number of
finished epochs, the RNG state, the run's :class:`TrainConfig` and the metrics so far, so a
run continues from ``last.pt`` without losing or repeating an epoch: batches and augmentation
depend only on (seed, epoch) (:mod:`msanalysis.training.data`), so on a CPU the resumed run is
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from .baselines import build_criterion, load_model_state, with_baseline_head
from .checkpoint import CheckpointError, atomic_write, read_checkpoint, save_checkpoint
from .data import (
    DATASETS,
    ImageData,
    batch_indices,
    crop_flip,
    draw_crop_flip,
    epoch_generator,
    load_dataset,
    shard,
    to_float,
)
from .distributed import Dist, all_reduce_sum
from .models import build_model

__all__ = ["TrainConfig", "build_network", "train_one_epoch", "evaluate", "fit", "load_checkpoint"]

AfterBatch = Callable[[int, int], None]  # (epoch, step) -> None


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run's result (device, paths and speed options excluded).

    Attributes:
      dataset: a name of :data:`~msanalysis.training.data.DATASETS`.
      model: a name of :data:`~msanalysis.training.models.MODELS` (an image model).
      loss: a name of :data:`~msanalysis.losses.LOSSES`; ``loss_params`` its hyper-parameters.
      epochs: number of epochs to train in all.
      batch_size: global batch size (split across processes under torchrun).
      lr: Adam's learning rate.
      seed: seeds initialisation, shuffling and augmentation.
      augment: random crop (4-pixel padding) and horizontal flip of training images.
      limit_train, limit_test: keep only the first N images of a split (None: all).
    """

    dataset: str
    model: str
    loss: str
    loss_params: dict[str, float] = field(default_factory=dict)
    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    augment: bool = False
    limit_train: int | None = None
    limit_test: int | None = None

    def differences(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """Fields (epochs aside: a run may be extended) where ``other`` differs: name -> (self, other)."""
        mine, theirs = asdict(self), asdict(other)
        return {k: (mine[k], theirs[k]) for k in mine if k != "epochs" and mine[k] != theirs[k]}


def build_network(config: TrainConfig) -> nn.Module:
    """The untrained model of ``config``, sized for its dataset, normalisation inside."""
    spec = DATASETS[config.dataset]
    net = build_model(
        config.model,
        num_classes=spec.num_classes,
        in_channels=spec.shape[0],
        normalize=config.dataset,
    )
    return with_baseline_head(net, config.loss, config.loss_params)  # Table 2's baselines


def train_one_epoch(
    model: nn.Module,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: ImageData,
    *,
    config: TrainConfig,
    epoch: int,
    dist: Dist = Dist(),
    progress: bool = False,
    after_batch: AfterBatch | None = None,
) -> dict[str, float]:
    """Train over one epoch's batches (epoch counts from 0); returns train_loss, train_acc, images."""
    model.train()
    device, cuda = data.images.device, data.images.device.type == "cuda"
    aug = (
        draw_crop_flip(len(data), generator=epoch_generator(config.seed, epoch, 1))
        if config.augment
        else None
    )
    batches = batch_indices(
        len(data),
        batch_size=config.batch_size,
        seed=config.seed,
        epoch=epoch,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, images
    bar = tqdm(
        batches,
        total=-(-len(data) // config.batch_size),
        desc=f"epoch {epoch + 1}",
        disable=not progress,
        leave=False,
    )
    for step, (idx, global_size) in enumerate(bar):
        on_device = idx.to(device, non_blocking=True)
        images, labels = data.images[on_device], data.labels[on_device]
        totals[2] += len(idx)
        if aug is not None:
            images = crop_flip(images, aug[0][idx], aug[1][idx])
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            logits = model(to_float(images, channels_last=cuda)).float()
        loss = loss_fn(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        # DDP averages gradients over processes; this weight makes that the global batch's mean.
        (loss * (len(idx) * dist.world_size / global_size)).backward()
        optimizer.step()
        totals[:2] += torch.stack([loss.detach() * len(idx), (logits.argmax(1) == labels).sum()])
        if progress and step % 10 == 0:
            loss_sum, correct, seen = totals.tolist()
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}")
        if after_batch is not None:
            after_batch(epoch, step)
    loss_sum, correct, seen = all_reduce_sum(totals, dist).tolist()
    return {"train_loss": loss_sum / seen, "train_acc": correct / seen, "images": seen}


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    loss_fn: nn.Module,
    data: ImageData,
    *,
    batch_size: int = 512,
    dist: Dist = Dist(),
) -> dict[str, float]:
    """Mean loss and accuracy over ``data`` (each process takes its share; results summed)."""
    model.eval()
    device, cuda = data.images.device, data.images.device.type == "cuda"
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    for idx in shard(len(data), batch_size=batch_size, rank=dist.rank, world_size=dist.world_size):
        idx = idx.to(device, non_blocking=True)
        images, labels = data.images[idx], data.labels[idx]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            logits = model(to_float(images, channels_last=cuda)).float()
        totals[:2] += torch.stack(
            [loss_fn(logits, labels) * len(idx), (logits.argmax(1) == labels).sum()]
        )
        totals[2] += len(idx)
    loss_sum, correct, seen = all_reduce_sum(totals, dist).tolist()
    return {"test_loss": loss_sum / seen, "test_acc": correct / seen}


@dataclass
class _State:
    """What a run carries from epoch to epoch (and what a checkpoint restores)."""

    epoch: int = 0  # finished epochs
    metrics: list[dict[str, float]] = field(default_factory=list)
    best: dict[str, float] = field(default_factory=lambda: {"epoch": 0, "test_acc": -1.0})


def _checkpoint(
    config: TrainConfig, net: nn.Module, optimizer: torch.optim.Optimizer, state: _State
) -> dict[str, Any]:
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return {
        "config": asdict(config),
        "epoch": state.epoch,
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": rng,
        "metrics": state.metrics,
        "best": state.best,
    }


def _stored_config(checkpoint: dict[str, Any], path: Path) -> TrainConfig:
    try:
        return TrainConfig(**checkpoint["config"])
    except (KeyError, TypeError) as err:
        raise CheckpointError(
            f"{path}: checkpoint has no usable run configuration ({err})"
        ) from None


def _write_metrics(out: Path, metrics: list[dict[str, float]]) -> None:
    atomic_write(
        out / "metrics.jsonl",
        lambda f: f.write("".join(json.dumps(m) + "\n" for m in metrics).encode()),
    )


def _save_epoch(out: Path, checkpoint: dict[str, Any]) -> None:
    """last.pt, then best.pt when this epoch is the best, then metrics.jsonl.

    In this order a kill between two writes is repaired by :func:`_resume`: last.pt is the
    truth, and when it is also the best its model IS best.pt's.
    """
    save_checkpoint(out / "last.pt", checkpoint)
    if checkpoint["best"]["epoch"] == checkpoint["epoch"]:
        save_checkpoint(out / "best.pt", checkpoint)
    _write_metrics(out, checkpoint["metrics"])


def _resume(
    out: Path, config: TrainConfig, net: nn.Module, optimizer: torch.optim.Optimizer, dist: Dist
) -> _State:
    """Restore model, optimizer, RNG and metrics from out/last.pt, after checking the config."""
    last = out / "last.pt"
    checkpoint = read_checkpoint(last)
    diff = config.differences(_stored_config(checkpoint, last))
    if diff:
        listed = ", ".join(f"{k}={old!r} (now {new!r})" for k, (new, old) in diff.items())
        raise CheckpointError(
            f"{last} was made with {listed}: pass the same settings to resume, --no-resume to start over, or another --out"
        )
    load_model_state(net, checkpoint["model"], config.loss, origin=str(last))
    optimizer.load_state_dict(checkpoint["optimizer"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    if "cuda" in checkpoint["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(checkpoint["rng"]["cuda"])
    state = _State(checkpoint["epoch"], checkpoint["metrics"], checkpoint["best"])
    if dist.is_main:
        best = out / "best.pt"
        if state.best["epoch"] == state.epoch and (
            not best.exists() or read_checkpoint(best)["epoch"] != state.epoch
        ):
            save_checkpoint(best, {k: v for k, v in checkpoint.items() if k != "format"})
        _write_metrics(out, state.metrics)  # drops a line written after last.pt by a killed run
    return state


def _prepare(net: nn.Module, device: torch.device, dist: Dist, compile_model: bool) -> nn.Module:
    """The network on its device, wrapped for DDP and torch.compile as asked."""
    model = (
        net.to(device, memory_format=torch.channels_last)
        if device.type == "cuda"
        else net.to(device)
    )
    if dist.world_size > 1:
        model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    return torch.compile(model) if compile_model else model


def fit(
    config: TrainConfig,
    out: str | Path,
    *,
    data_dir: str | Path | None = None,
    device: torch.device = torch.device("cpu"),
    resume: bool = True,
    compile_model: bool = False,
    dist: Dist = Dist(),
    progress: bool = True,
    after_batch: AfterBatch | None = None,
) -> list[dict[str, float]]:
    """Train ``config`` into folder ``out``, resuming from ``out/last.pt`` when asked and present.

    Args:
      config: the run (see :class:`TrainConfig`).
      out: output folder (created): metrics.jsonl, last.pt, best.pt; only rank 0 writes.
      data_dir: data root (see :func:`~msanalysis.training.data.load_dataset`).
      device: where to train; CUDA gets bf16 autocast and channels_last.
      resume: continue from out/last.pt if it exists (its config must match but for epochs);
        False starts over, replacing the folder's files.
      compile_model: wrap the model in torch.compile.
      dist: this process's rank (from :func:`~msanalysis.training.distributed.init_distributed`).
      progress: show a progress bar (rank 0 only).
      after_batch: called as after_batch(epoch, step) after every optimizer step (tests).

    Returns:
      The metrics of every finished epoch (also in metrics.jsonl).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train = load_dataset(config.dataset, "train", data_dir=data_dir, limit=config.limit_train).to(
        device
    )
    test = load_dataset(config.dataset, "test", data_dir=data_dir, limit=config.limit_test).to(
        device
    )
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(config.seed)
        net = build_network(config).to(device)
        loss_fn = build_criterion(config.loss, config.loss_params, net)
        optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
        if resume and (out / "last.pt").exists():
            state = _resume(out, config, net, optimizer, dist)
        else:
            state = _State()
            if dist.is_main:
                for name in ("metrics.jsonl", "last.pt", "best.pt"):
                    (out / name).unlink(missing_ok=True)
        if dist.is_main:
            for stale in out.glob(".*.tmp"):  # left by a run killed while writing
                stale.unlink()
        model = _prepare(net, device, dist, compile_model)
        for epoch in range(state.epoch, config.epochs):
            start = time.perf_counter()
            row = train_one_epoch(
                model,
                loss_fn,
                optimizer,
                train,
                config=config,
                epoch=epoch,
                dist=dist,
                progress=progress and dist.is_main,
                after_batch=after_batch,
            )
            train_seconds = time.perf_counter() - start
            row.update(evaluate(model, loss_fn, test, dist=dist))
            images = row.pop("images")
            row = {
                "epoch": epoch + 1,
                **row,
                "seconds": time.perf_counter() - start,
                "images_per_s": images / train_seconds,
            }
            state.epoch, state.metrics = epoch + 1, [*state.metrics, row]
            if row["test_acc"] > state.best["test_acc"]:
                state.best = {"epoch": epoch + 1, "test_acc": row["test_acc"]}
            if dist.is_main:
                _save_epoch(out, _checkpoint(config, net, optimizer, state))
                tqdm.write(
                    " ".join(
                        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()
                    )
                )
    return state.metrics


def load_checkpoint(
    path: str | Path, *, device: torch.device | str = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the trained model of a checkpoint (best.pt or last.pt), in eval mode.

    Args:
      path: the checkpoint file.
      device: where to put the model.

    Returns:
      (model, meta): meta has ``config`` (a :class:`TrainConfig`), ``epoch`` (finished epochs
      of this model), ``metrics`` (per epoch, up to this one) and ``best`` (epoch and test
      accuracy of the best epoch so far).

    Raises:
      CheckpointError: missing, damaged, or its weights do not fit the model it names.
    """
    checkpoint = read_checkpoint(path)
    config = _stored_config(checkpoint, Path(path))
    try:
        model = build_network(config)
        load_model_state(model, checkpoint["model"], config.loss, origin=str(path))
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"{path}: checkpoint does not describe a model we can rebuild ({err})"
        ) from None
    meta = {
        "config": config,
        "epoch": checkpoint["epoch"],
        "metrics": checkpoint["metrics"],
        "best": checkpoint["best"],
    }
    return model.to(device).eval(), meta
