"""Training: one epoch, evaluation, and a resumable driver that keeps the best checkpoint.

The paper's setup (Section 4): Adam with learning rate 1e-3, 50 epochs on MNIST, 200 on
CIFAR-10, and "the most accurate model" kept. Here that is ``best.pt``, chosen by TEST
accuracy as in the paper (there is no validation split), so its accuracy is an optimistic
estimate; ``last.pt`` is the final model.

Output folder: ``metrics.jsonl`` (one JSON object per finished epoch), ``last.pt`` (after
every epoch) and ``best.pt``. A checkpoint holds the model, the optimizer, the number of
finished epochs, the CPU RNG state, the run's :class:`TrainConfig` and the metrics so far,
so a run continues from ``last.pt`` without losing or repeating an epoch: batches and
augmentation depend only on (seed, epoch) (:mod:`msanalysis.training.data`), so on a CPU the
resumed run is bit-identical to an uninterrupted one. Training never draws from a CUDA
generator (initialisation runs on the CPU, no model has dropout), so no CUDA RNG state is
stored and a checkpoint resumes on any number of GPUs.

How the model runs is an :class:`~msanalysis.training.accel.Accel` (device, precision, memory
format), the same on the CPU and on a GPU. Training steps use its precision; every reported
accuracy (``test_acc``, and so the choice of ``best.pt``) is measured in float32, as
``attack`` and the tables measure (:func:`~msanalysis.training.accel.measured`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from ..errors import UsageError
from .accel import Accel, measured, resolve_accel
from .baselines import build_criterion, load_model_state, with_baseline_head
from .checkpoint import CheckpointError, atomic_write, read_checkpoint, save_checkpoint
from .data import (
    DATASETS,
    ImageData,
    batch_indices,
    crop_flip,
    draw_crop_flip,
    epoch_generator,
    eval_batches,
    load_dataset,
    to_float,
)
from .distributed import SINGLE_PROCESS, Dist, all_reduce_sum
from .losses import CheckedLoss
from .models import build_model

__all__ = ["TrainConfig", "build_network", "train_one_epoch", "evaluate", "fit", "load_checkpoint"]

#: Where :func:`fit` trains unless told otherwise.

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
      drop_last: drop an epoch's last training batch when it is smaller than ``batch_size``
        (every step then has one shape, which torch.compile needs to keep one graph).
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
    drop_last: bool = False

    def differences(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """Fields (epochs aside: a run may be extended) where ``other`` differs:
        name -> (self, other)."""
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
    accel: Accel | None = None,
    dist: Dist = SINGLE_PROCESS,
    progress: bool = False,
    after_batch: AfterBatch | None = None,
) -> dict[str, float]:
    """Train over one epoch's batches (epoch counts from 0); returns train_loss, train_acc, images.

    ``accel`` (default: float32, contiguous, on the data's device) sets the forward pass's
    precision and the batches' memory format; model, loss and data must be on its device.
    The epoch's order and augmentation draws go to the device once, before the first step.
    """
    accel = accel or Accel(data.images.device)
    model.train()
    aug = None
    if config.augment:
        offsets, flips = draw_crop_flip(len(data), generator=epoch_generator(config.seed, epoch, 1))
        aug = offsets.to(accel.device), flips.to(accel.device)
    batches = batch_indices(
        len(data),
        batch_size=config.batch_size,
        seed=config.seed,
        epoch=epoch,
        rank=dist.rank,
        world_size=dist.world_size,
        drop_last=config.drop_last,
        device=accel.device,
    )
    checked = isinstance(loss_fn, CheckedLoss) and loss_fn.check_values == "deferred"
    if checked:
        loss_fn.reset_nonfinite()
    # loss sum, correct, images, and (last) 1 where this process saw a non-finite loss
    totals = torch.zeros(4, dtype=torch.float64, device=accel.device)
    bar = tqdm(
        batches,
        total=len(data) // config.batch_size
        if config.drop_last
        else -(-len(data) // config.batch_size),
        desc=f"epoch {epoch + 1}",
        disable=not progress,
        leave=False,
    )
    for step, (idx, global_size) in enumerate(bar):
        images, labels = data.images[idx], data.labels[idx]
        totals[2] += len(idx)
        if aug is not None:
            images = crop_flip(images, aug[0][idx], aug[1][idx])
        with accel.forward():
            logits = model(accel.images(to_float(images))).float()
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
    if checked:  # the epoch's one read of the deferred flag, summed over processes below
        totals[3] = loss_fn.nonfinite_seen().double()
    loss_sum, correct, seen, nonfinite = all_reduce_sum(totals, dist).tolist()
    if nonfinite:
        raise ValueError(
            f"epoch {epoch + 1}: the training loss was NaN/inf at some step (non-finite logits: "
            "a diverged run or bad input); this epoch is not saved, the last checkpoint stays"
        )
    if seen == 0:
        raise ValueError(
            f"epoch {epoch + 1} has no training batch: {len(data)} images, batch size "
            f"{config.batch_size}, {dist.world_size} processes, drop_last={config.drop_last}"
        )
    return {"train_loss": loss_sum / seen, "train_acc": correct / seen, "images": seen}


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    loss_fn: nn.Module,
    data: ImageData,
    *,
    batch_size: int = 512,
    accel: Accel | None = None,
    dist: Dist = SINGLE_PROCESS,
) -> dict[str, float]:
    """Mean loss and accuracy over ``data``, in float32 (each process takes its share; summed).

    Always float32 (:func:`~msanalysis.training.accel.measured`), whatever ``accel``'s
    precision: the accuracy that picks ``best.pt`` is the one ``attack`` reports. Every
    process runs the same number of forward passes of one batch shape
    (:func:`~msanalysis.training.data.eval_batches`), so none waits for another and a compiled
    model keeps one graph; padded rows are cut off before the loss.
    """
    accel = measured(accel or Accel(data.images.device))
    model.eval()
    totals = torch.zeros(3, dtype=torch.float64, device=accel.device)
    plan = eval_batches(
        len(data),
        batch_size=batch_size,
        rank=dist.rank,
        world_size=dist.world_size,
        device=accel.device,
    )
    for idx, valid in plan:
        with accel.forward():
            logits = model(accel.images(to_float(data.images[idx]))).float()
        if valid == 0:
            continue
        logits, labels = logits[:valid], data.labels[idx[:valid]]
        totals[:2] += torch.stack(
            [loss_fn(logits, labels) * valid, (logits.argmax(1) == labels).sum()]
        )
        totals[2] += valid
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
    return {
        "config": asdict(config),
        "epoch": state.epoch,
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": {"torch": torch.get_rng_state()},  # no CUDA state: see the module docstring
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
            f"{last} was made with {listed}: pass the same settings to resume, "
            "--no-resume to start over, or another --out"
        )
    load_model_state(net, checkpoint["model"], config.loss, origin=str(last))
    optimizer.load_state_dict(checkpoint["optimizer"])
    torch.set_rng_state(checkpoint["rng"]["torch"])  # older files also hold "cuda": unused
    state = _State(checkpoint["epoch"], checkpoint["metrics"], checkpoint["best"])
    if dist.is_main:
        best = out / "best.pt"
        if state.best["epoch"] == state.epoch and (
            not best.exists() or read_checkpoint(best)["epoch"] != state.epoch
        ):
            save_checkpoint(best, {k: v for k, v in checkpoint.items() if k != "format"})
        _write_metrics(out, state.metrics)  # drops a line written after last.pt by a killed run
    return state


def _prepare(
    net: nn.Module, accel: Accel, dist: Dist, compile_model: bool
) -> tuple[nn.Module, nn.Module]:
    """(training model, evaluation model): ``net`` (on ``accel``'s device) wrapped for DDP
    (training only: evaluation needs no gradient synchronisation) and torch.compile as asked."""
    model = net
    if dist.world_size > 1:
        ids = [accel.device.index] if accel.device.type == "cuda" else None
        model = nn.parallel.DistributedDataParallel(net, device_ids=ids)
    if compile_model:
        return torch.compile(model), torch.compile(net)
    return model, net


def _check_shapes(config: TrainConfig, n: int, dist: Dist) -> None:
    """Under torch.compile every training step must have one shape (one graph, no recompiles)."""
    if config.batch_size % dist.world_size:
        raise UsageError(
            f"compiled training needs a batch size divisible by the {dist.world_size} processes "
            f"(got {config.batch_size}): the processes' shares would differ in size"
        )
    if n % config.batch_size and not config.drop_last:
        raise UsageError(
            f"compiled training needs every batch of one size: {n} images are not a multiple "
            f"of the batch size {config.batch_size}; drop the last batch (drop_last, --drop-last)"
        )


def fit(
    config: TrainConfig,
    out: str | Path,
    *,
    data_dir: str | Path | None = None,
    accel: Accel | None = None,
    resume: bool = True,
    compile_model: bool = False,
    dist: Dist = SINGLE_PROCESS,
    progress: bool = True,
    after_batch: AfterBatch | None = None,
) -> list[dict[str, float]]:
    """Train ``config`` into folder ``out``, resuming from ``out/last.pt`` when asked and present.

    Args:
      config: the run (see :class:`TrainConfig`).
      out: output folder (created): metrics.jsonl, last.pt, best.pt; only rank 0 writes.
      data_dir: data root (see :func:`~msanalysis.training.data.load_dataset`).
      accel: device, precision and memory format (default ``resolve_accel("auto")``: this
        process's GPU with bf16 and channels_last when there is one, else the CPU in float32).
        Data, model and loss (its class weights) all go to its device.
      resume: continue from out/last.pt if it exists (its config must match but for epochs);
        False starts over, replacing the folder's files.
      compile_model: wrap the model in torch.compile (needs one batch shape: see drop_last).
      dist: this process's rank (from :func:`~msanalysis.training.distributed.init_distributed`).
      progress: show a progress bar (rank 0 only).
      after_batch: called as after_batch(epoch, step) after every optimizer step (tests).

    Returns:
      The metrics of every finished epoch (also in metrics.jsonl).

    Raises:
      UsageError: compile_model with training batches of more than one shape.
    """
    accel = accel or resolve_accel("auto", local_rank=dist.local_rank)
    if accel.device.type == "cuda" and accel.device.index is None:  # DDP needs one GPU's index
        accel = replace(accel, device=torch.device("cuda", dist.local_rank))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train = load_dataset(config.dataset, "train", data_dir=data_dir, limit=config.limit_train)
    test = load_dataset(config.dataset, "test", data_dir=data_dir, limit=config.limit_test)
    if compile_model:
        _check_shapes(config, len(train), dist)
    train, test = train.to(accel.device), test.to(accel.device)
    with torch.random.fork_rng(devices=[]):  # only the CPU generator is ever drawn from
        torch.manual_seed(config.seed)
        # On the device before the optimizer exists: a resumed optimizer's state then lands
        # beside the parameters (load_state_dict casts it to their device).
        net = accel.module(build_network(config))
        # Labels were checked at load; a NaN/inf loss is read once per epoch, not per step.
        loss_fn = build_criterion(config.loss, config.loss_params, net, check_values="deferred").to(
            accel.device
        )
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
        model, eval_model = _prepare(net, accel, dist, compile_model)
        for epoch in range(state.epoch, config.epochs):
            start = time.perf_counter()
            row = train_one_epoch(
                model,
                loss_fn,
                optimizer,
                train,
                config=config,
                epoch=epoch,
                accel=accel,
                dist=dist,
                progress=progress and dist.is_main,
                after_batch=after_batch,
            )
            train_seconds = time.perf_counter() - start
            row.update(evaluate(eval_model, loss_fn, test, accel=accel, dist=dist))
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
        meta = {key: checkpoint[key] for key in ("epoch", "metrics", "best")}
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"{path}: checkpoint does not describe a model we can rebuild ({err!r})"
        ) from None
    return model.to(device).eval(), {"config": config, **meta}
