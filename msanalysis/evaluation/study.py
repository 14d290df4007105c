"""A robustness study: a declared grid of trainings and attacks, run and resumed cell by cell.

A study is data set × model × loss (with its parameters) × training seed × epochs, and for
every trained model a set of attack rows under a set of evaluation variants
(:mod:`~msanalysis.evaluation.variants`). It is declared in a small TOML file (or built from
command-line flags) and run by :func:`run_study`:

1. every missing training run is trained with :func:`~msanalysis.training.train.fit`
   (resumable; a run of E epochs starts from a finished shorter run of the same settings);
2. every missing (run, variant, row) cell is attacked and written at once, atomically, to the
   results file, with its per-sample correctness bit-packed, so paired statistics never need
   a rerun. A killed study resumes where it stopped; a finished one reruns in seconds.

Run folders encode every setting that changes the trained weights
(:meth:`TrainCell.folder`), so two studies share a run exactly when they would train the same
model, and never overwrite each other's. The training seed and the attack seed are separate.

Example study file::

    name = "seeds"
    dataset = "fashion-mnist"
    models = ["small-cnn"]
    seeds = [0, 1, 2]
    epochs = [3]
    attacks = ["table1", "table2"]
    variants = ["standard", "train-loss"]
    eval_limit = 1000

    [[losses]]
    name = "ce"

    [[losses]]
    name = "ms"
    eta = 1.5
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..losses import LOSSES, get_loss
from ..registry import unknown_name
from ..training.accel import Accel, machine, resolve_accel
from .robustness import pack_bits
from .variants import ROW_SETS, VARIANTS, AttackRow, attack_model, expand_rows

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "LossSetting",
    "Study",
    "TrainCell",
    "EvalCell",
    "load_study",
    "study_from_mapping",
    "train_cells",
    "eval_cells",
    "run_study",
    "load_results",
    "RunOptions",
]

RESULTS_FORMAT = 1


@dataclass(frozen=True)
class LossSetting:
    """A loss of the family or a baseline of Table 2, with its hyper-parameters (the rest take
    the registry defaults; baselines: :data:`~msanalysis.training.baselines.BASELINES`)."""

    name: str
    params: tuple[tuple[str, float], ...] = ()

    @property
    def label(self) -> str:
        """``ms-eta1.5``: the name and every given parameter, with repr'd floats (no rounding)."""
        return "-".join([self.name, *(f"{k}{v!r}" for k, v in self.params)])

    @property
    def kwargs(self) -> dict[str, float]:
        return dict(self.params)


@dataclass(frozen=True)
class Study:
    """A declared grid (see the module docstring). Paths are relative to the working folder."""

    name: str
    dataset: str
    models: tuple[str, ...]
    losses: tuple[LossSetting, ...]
    seeds: tuple[int, ...]
    epochs: tuple[int, ...]
    attacks: tuple[str, ...] = ("table1",)
    variants: tuple[str, ...] = ("standard",)
    pgd_eps255: tuple[float, ...] = (0, 2, 4, 8, 16, 32)
    attack_seed: int = 0
    eval_limit: int | None = None  # attack the first N test images (None: all)
    batch_size: int = 128
    lr: float = 1e-3
    augment: bool | None = None  # None: the data set's default (on for CIFAR-10 only)
    limit_train: int | None = None
    limit_test: int | None = None
    runs: str = "runs/study"
    results: str = "results/study.json"

    @property
    def rows(self) -> tuple[AttackRow, ...]:
        return expand_rows(self.attacks, self.pgd_eps255)

    def eval_settings(self) -> dict[str, Any]:
        """Settings every cell's meaning depends on: a results file must agree on them."""
        return {
            "format": RESULTS_FORMAT,
            "dataset": self.dataset,
            "attack_seed": self.attack_seed,
            "eval_limit": self.eval_limit,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "augment": self.augment,
            "limit_train": self.limit_train,
            "limit_test": self.limit_test,
        }


@dataclass(frozen=True)
class TrainCell:
    """One training run of a study."""

    study: Study
    model: str
    loss: LossSetting
    seed: int
    epochs: int

    def config(self):
        from ..training.train import TrainConfig

        return TrainConfig(
            dataset=self.study.dataset,
            model=self.model,
            loss=self.loss.name,
            loss_params=self.loss.kwargs,
            epochs=self.epochs,
            batch_size=self.study.batch_size,
            lr=self.study.lr,
            seed=self.seed,
            augment=_augment(self.study),
            limit_train=self.study.limit_train,
            limit_test=self.study.limit_test,
        )

    @property
    def key(self) -> str:
        return f"{self.model}/{self.loss.label}/e{self.epochs}/s{self.seed}"

    def folder(self) -> Path:
        """``RUNS/<dataset>-<model>-<loss label>-e<epochs>-s<seed>[-<other settings>]``."""
        s = self.study
        extra = [
            f"{name}{value!r}"
            for name, value, default in (
                ("bs", s.batch_size, 128),
                ("lr", s.lr, 1e-3),
                ("aug", _augment(s), s.dataset == "cifar10"),
                ("ntrain", s.limit_train, None),
                ("ntest", s.limit_test, None),
            )
            if value != default
        ]
        name = "-".join(
            [s.dataset, self.model, self.loss.label, f"e{self.epochs}", f"s{self.seed}", *extra]
        )
        return Path(s.runs) / name


@dataclass(frozen=True)
class EvalCell:
    """One attacked number: a training run under one variant and one attack row."""

    train: TrainCell
    variant: str
    row: AttackRow

    @property
    def key(self) -> str:
        return f"{self.train.key}/{self.variant}/{self.row.name}"


def _augment(study: Study) -> bool:
    return study.dataset == "cifar10" if study.augment is None else study.augment


# -- declaring a study -------------------------------------------------------------------------

_LIST_FIELDS = {"models", "seeds", "epochs", "attacks", "variants", "pgd_eps255"}


def study_from_mapping(data: Mapping[str, Any], *, where: str = "study") -> Study:
    """A :class:`Study` from parsed TOML (or any mapping), every name and value checked.

    Raises:
      UsageError: an unknown key, model, loss, loss parameter, attack set or variant, or a
        value of the wrong type; the message names it and lists the choices.
    """
    from ..training.data import DATASETS
    from ..training.models import MODELS

    data = dict(data)
    known = {f.name for f in Study.__dataclass_fields__.values()}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    for key in ("name", "dataset", "models", "losses", "seeds", "epochs"):
        if key not in data:
            raise UsageError(f"{where}: missing key {key!r}")
    _choose(where, "dataset", [data["dataset"]], DATASETS)
    _choose(
        where,
        "model",
        data["models"],
        [m for m, spec in MODELS.items() if len(spec.input_shape) == 3],
    )
    _choose(where, "attack set", data.get("attacks", ()), [*ROW_SETS, "pgd-eps"])
    _choose(where, "variant", data.get("variants", ()), VARIANTS)
    losses = tuple(_loss_setting(where, entry) for entry in data["losses"])
    if len({loss.label for loss in losses}) != len(losses):
        raise UsageError(f"{where}: the same loss setting is listed twice")
    for key in _LIST_FIELDS & set(data):
        if not isinstance(data[key], list) or not data[key]:
            raise UsageError(f"{where}: {key} must be a non-empty list")
        data[key] = tuple(data[key])
    for key in ("seeds", "epochs"):
        if any(not isinstance(v, int) or v < 0 + (key == "epochs") for v in data[key]):
            raise UsageError(f"{where}: {key} must be whole numbers (epochs >= 1)")
    try:
        return Study(**{**data, "losses": losses})
    except TypeError as err:  # pragma: no cover - guarded by the key check above
        raise UsageError(f"{where}: {err}") from None


def _choose(where: str, what: str, names: Any, known: Any) -> None:
    for name in names:
        if name not in known:
            raise UsageError(f"{where}: {unknown_name(name, known, kind=what)}")


def _loss_setting(where: str, entry: Any) -> LossSetting:
    if not isinstance(entry, Mapping) or "name" not in entry:
        raise UsageError(f'{where}: each [[losses]] entry needs a name, e.g. name = "ms"')
    from ..training.baselines import BASELINES, baseline_params

    name = entry["name"]
    _choose(where, "loss", [name], [*LOSSES, *BASELINES])
    params = {k: v for k, v in entry.items() if k != "name"}
    try:  # unknown names and out-of-range values (η > 0, λ >= 0, ...)
        if name in BASELINES:
            baseline_params(name, params)
        else:
            get_loss(name).validate(params)
    except (TypeError, ValueError) as err:
        raise UsageError(f"{where}: {err}") from None
    return LossSetting(name, tuple(sorted((k, float(v)) for k, v in params.items())))


def load_study(path: str | Path) -> Study:
    """Read a study TOML file (see the module docstring)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such study file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: not a valid TOML study file ({err})") from None
    return study_from_mapping(data, where=str(path))


# -- the grid ----------------------------------------------------------------------------------


def train_cells(study: Study) -> list[TrainCell]:
    """Every training run, seed by seed (so a study stopped half-way holds every loss and
    length of its first seeds, paired), shorter runs first (so longer ones start from them)."""
    cells = [
        TrainCell(study, model, loss, seed, epochs)
        for seed in study.seeds
        for epochs in sorted(study.epochs)
        for model in study.models
        for loss in study.losses
    ]
    folders = [c.folder() for c in cells]
    if len(set(folders)) != len(folders):  # pragma: no cover - folder() encodes every field
        raise UsageError(f"study {study.name!r}: two runs of the grid map to one folder")
    return cells


def eval_cells(study: Study) -> list[EvalCell]:
    return [cell for train in train_cells(study) for cell in _cells_of(train)]


def _cells_of(run: TrainCell) -> list[EvalCell]:
    """The attack cells of one training run: every variant × row of its study."""
    return [EvalCell(run, variant, row) for variant in run.study.variants for row in run.study.rows]


# -- results file ------------------------------------------------------------------------------


def load_results(study: Study, *, missing_ok: bool = False) -> dict[str, Any]:
    """The study's results file, checked against its settings (empty when absent and
    ``missing_ok``).

    Raises:
      InputError: the file is missing (unless ``missing_ok``) or damaged.
      UsageError: the file holds results of other settings.
    """
    path = Path(study.results)
    fresh = {"settings": study.eval_settings(), "studies": [], "train": {}, "cells": {}}
    if not path.exists():
        if missing_ok:
            return fresh
        raise InputError(f"{path}: no results yet; run the study first")
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: damaged results file ({err}); nothing was overwritten") from None
    if old.get("settings") != study.eval_settings():
        raise UsageError(
            f"{path} holds results for other settings ({old.get('settings')}, not "
            f"{study.eval_settings()}); choose another results file"
        )
    return old


def _write_results(study: Study, results: dict[str, Any]) -> None:
    from .robustness import write_json_atomic

    write_json_atomic(study.results, results)


# -- running -----------------------------------------------------------------------------------


@dataclass
class RunOptions:
    """How (not what) to run: device, progress, the executor for training cells."""

    device: str = "auto"
    precision: str = "auto"  # of training steps and attack gradients; accuracy is fp32 always
    memory_format: str = "auto"
    data_dir: str | None = None
    progress: bool = True
    executor: str = "inline"  # "inline", "submitit-local" or "slurm"
    executor_folder: str = "runs/submitit"
    slurm: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def accel(self) -> Accel:
        return resolve_accel(
            self.device, precision=self.precision, memory_format=self.memory_format
        )


def train_one(
    cell: TrainCell,
    *,
    accel: Accel | None = None,
    data_dir: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train ``cell`` (resuming; from a finished shorter run of the same settings if any).

    ``accel`` None resolves "auto" where the function runs (a SLURM job picks its node's GPU).
    """
    from ..training.train import fit

    out = cell.folder()
    if not (out / "last.pt").exists():
        _start_from_shorter(cell)
    accel = accel or resolve_accel("auto")
    start = time.perf_counter()
    metrics = fit(cell.config(), out, data_dir=data_dir, accel=accel, progress=progress)
    return {
        "folder": str(out),
        "epochs": len(metrics),
        "best_epoch": max(metrics, key=lambda m: m["test_acc"])["epoch"],
        "seconds_this_call": round(time.perf_counter() - start, 1),
        # Where this call trained: CPU floats depend on the thread count (docs/study.md).
        "machine": {**accel.describe(), **machine()},
    }


def _start_from_shorter(cell: TrainCell) -> None:
    """Copy the longest finished shorter run of the same settings into the new folder.

    Batches and augmentation depend only on (seed, epoch), so continuing it equals training
    from scratch (bit for bit on one CPU machine); the first epochs are not paid twice."""
    shorter = sorted((e for e in cell.study.epochs if e < cell.epochs), reverse=True)
    for epochs in shorter:
        source = replace(cell, epochs=epochs).folder()
        if (source / "last.pt").exists() and (source / "best.pt").exists():
            out = cell.folder()
            out.mkdir(parents=True, exist_ok=True)
            for name in ("last.pt", "best.pt", "metrics.jsonl"):
                shutil.copy2(source / name, out / name)
            return


def _train_missing(
    study: Study, results: dict[str, Any], opts: RunOptions, cells: list[TrainCell]
) -> None:
    todo = [c for c in cells if _needs_training(c, results)]
    if not todo:
        return
    for cell in todo:
        if results["train"].get(cell.key, {}).get("epochs") == cell.epochs:
            # Trained elsewhere, checkpoints gone: CPU training is bit-identical on one machine,
            # not across CPU models, so the cells of the lost weights go with them.
            opts.log(f"{cell.key}: checkpoints gone; retraining and re-attacking its cells")
            for e in _cells_of(cell):
                results["cells"].pop(e.key, None)
            # At once, so that the file never pairs the lost run's cells with newer ones.
            _write_results(study, results)
    if opts.executor == "inline":
        for cell in todo:
            opts.log(f"train {cell.key} -> {cell.folder()}")
            results["train"][cell.key] = train_one(
                cell, accel=opts.accel(), data_dir=opts.data_dir, progress=opts.progress
            )
            _write_results(study, results)
        return
    for cell, info in zip(todo, _submit(todo, opts), strict=True):
        results["train"][cell.key] = info
    _write_results(study, results)


def _needs_training(cell: TrainCell, results: dict[str, Any]) -> bool:
    """Not trained to its epochs yet, or trained on another machine (its checkpoints gone)
    while some of its attack cells are still to do."""
    if results["train"].get(cell.key, {}).get("epochs") != cell.epochs:
        return True
    pending = any(e.key not in results["cells"] for e in _cells_of(cell))
    return pending and not (cell.folder() / "last.pt").exists()


def _submit(cells: list[TrainCell], opts: RunOptions) -> list[dict[str, Any]]:
    """Train cells as submitit jobs (its local executor, or SLURM) and wait for them."""
    try:
        import submitit
    except ImportError:
        raise UsageError(
            f"--executor {opts.executor} needs submitit: pip install 'msanalysis[cluster]'"
        ) from None
    cluster = "local" if opts.executor == "submitit-local" else "slurm"
    executor = submitit.AutoExecutor(folder=opts.executor_folder, cluster=cluster)
    executor.update_parameters(**({"timeout_min": 60 * 24} | opts.slurm))
    # The local executor runs on this machine's CPU (the tests); a SLURM job resolves "auto"
    # on its own node.
    accel = resolve_accel("cpu") if cluster == "local" else None
    jobs = [executor.submit(train_one, cell, accel=accel, data_dir=opts.data_dir) for cell in cells]
    for cell, job in zip(cells, jobs, strict=True):
        opts.log(f"submitted {cell.key} as job {job.job_id}")
    return [job.result() for job in jobs]


def _evaluate_missing(
    study: Study, results: dict[str, Any], opts: RunOptions, runs: list[TrainCell]
) -> None:
    from tqdm.auto import tqdm

    from ..attacks.evaluate import correct_under
    from .robustness import load_target, objective_for

    by_run: dict[tuple[str, str], list[EvalCell]] = {}
    for cell in (c for run in runs for c in _cells_of(run)):
        if cell.key not in results["cells"]:
            which = VARIANTS[cell.variant].checkpoint
            by_run.setdefault((cell.train.key, which), []).append(cell)
    for (_, which), cells in by_run.items():
        path = cells[0].train.folder() / f"{which}.pt"
        target = load_target(
            path, limit=study.eval_limit, data_dir=opts.data_dir, device=opts.device
        )
        clean = correct_under(target.model, target.images, target.labels)
        epoch = _epoch_of(path)  # once per checkpoint, not once per cell
        for cell in cells:
            variant = VARIANTS[cell.variant]
            seen = attack_model(variant, target.attack_model)
            if seen is None:
                results["cells"][cell.key] = {"applies": False, "why": "the model has no BatchNorm"}
                _write_results(study, results)
                continue
            model, eps_scale = seen
            attack = cell.row.build(
                model, objective_for(target, variant.objective), study.attack_seed, eps_scale
            )
            start = time.perf_counter()
            with tqdm(
                total=len(target.labels),
                desc=cell.key,
                disable=not opts.progress,
                leave=False,
                unit="img",
            ) as bar:
                ok = correct_under(
                    target.model, target.images, target.labels, attack, progress=bar.update
                )
            results["cells"][cell.key] = {
                "applies": True,
                "correct": int(ok.sum()),
                "clean_correct": int(clean.sum()),
                "n": len(ok),
                "bits": pack_bits(ok),
                "checkpoint": str(path),
                "epoch": epoch,
                "attack": attack.settings()
                | {"class": type(attack).__name__, "seed": getattr(attack, "seed", None)},
                "seconds": round(time.perf_counter() - start, 1),
            }
            _write_results(study, results)


def _epoch_of(path: Path) -> int:
    from ..training.checkpoint import read_checkpoint

    return int(read_checkpoint(path)["epoch"])


def run_study(study: Study, opts: RunOptions | None = None) -> dict[str, Any]:
    """Train and attack every missing cell of ``study``; return the results (also on disk)."""
    opts = opts or RunOptions()
    results = load_results(study, missing_ok=True)
    declared = _declaration(study)
    if declared not in results["studies"]:
        results["studies"].append(declared)
    runs = train_cells(study)
    if opts.executor == "inline":
        # Each run is attacked as soon as it is trained: a study spread over several sittings
        # (machines whose runs/ folder does not survive) keeps every finished run's cells.
        for run in runs:
            _train_missing(study, results, opts, [run])
            _evaluate_missing(study, results, opts, [run])
    else:  # the engine trains the runs in parallel; the attacks follow here
        _train_missing(study, results, opts, runs)
        _evaluate_missing(study, results, opts, runs)
    _write_results(study, results)
    return results


def _declaration(study: Study) -> dict[str, Any]:
    d = asdict(study)
    d["losses"] = [{"name": loss.name, **loss.kwargs} for loss in study.losses]
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def iter_done(study: Study, results: dict[str, Any]) -> Iterator[tuple[EvalCell, dict[str, Any]]]:
    """The finished cells of ``study`` that apply, with their results."""
    for cell in eval_cells(study):
        got = results["cells"].get(cell.key)
        if got is not None and got.get("applies"):
            yield cell, got
