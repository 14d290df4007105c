"""Training loop, checkpoints and resume, on tiny Fashion-MNIST-format files and small models."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
import torch

from msanalysis import cli
from msanalysis.training.checkpoint import CheckpointError, atomic_write, read_checkpoint
from msanalysis.training.data import batch_indices, load_dataset
from msanalysis.training.losses import build_loss
from msanalysis.training.train import (
    TrainConfig,
    build_network,
    evaluate,
    fit,
    load_checkpoint,
    train_one_epoch,
)

CONFIG = TrainConfig(
    dataset="fashion-mnist",
    model="small-cnn",
    loss="ms",
    loss_params={"eta": 1.5},
    epochs=2,
    batch_size=16,
    seed=3,
)
TIMING = ("seconds", "images_per_s")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, write_patch_task) -> Path:
    """A learnable 28x28 task: class k has a bright 7x7 patch at one of 10 positions, plus noise."""
    root = write_patch_task(tmp_path_factory.mktemp("data"), n_train=96, n_test=40)
    return root


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


def test_train_one_epoch_equals_a_plain_loop(data_dir):
    """Same init, same batches, same loss: the weights after one epoch are bit-identical."""
    data = load_dataset("fashion-mnist", "train", data_dir=data_dir)
    loss_fn = build_loss("ms", eta=1.5)
    nets = []
    for _ in range(2):
        with torch.random.fork_rng():
            torch.manual_seed(0)
            nets.append(build_network(CONFIG))
    ours, plain = nets
    train_one_epoch(
        ours, loss_fn, torch.optim.Adam(ours.parameters(), lr=1e-3), data, config=CONFIG, epoch=0
    )
    optimizer = torch.optim.Adam(plain.parameters(), lr=1e-3)
    for idx, _ in batch_indices(len(data), batch_size=CONFIG.batch_size, seed=CONFIG.seed, epoch=0):
        loss = loss_fn(plain(data.images[idx].float() / 255), data.labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert_same_weights(ours.state_dict(), plain.state_dict())


def test_fit_writes_metrics_and_checkpoints_that_reload(data_dir, tmp_path):
    metrics = fit(CONFIG, tmp_path, data_dir=data_dir, progress=False)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == metrics and [m["epoch"] for m in lines] == [1, 2]
    assert set(lines[0]) == {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", *TIMING}
    assert lines[-1]["train_loss"] < lines[0]["train_loss"]  # it learns the toy task
    best_epoch = max(lines, key=lambda m: m["test_acc"])["epoch"]
    test = load_dataset("fashion-mnist", "test", data_dir=data_dir)
    for name, epoch in (("last.pt", 2), ("best.pt", best_epoch)):
        model, meta = load_checkpoint(tmp_path / name)
        assert meta["config"] == CONFIG and meta["epoch"] == epoch and not model.training
        # The reloaded model reproduces the test metrics recorded for its epoch.
        again = evaluate(model, build_loss("ms", eta=1.5), test)
        assert again["test_acc"] == lines[epoch - 1]["test_acc"]
        assert again["test_loss"] == pytest.approx(lines[epoch - 1]["test_loss"], rel=1e-6)


def test_resume_continues_bit_identically(data_dir, tmp_path):
    full = fit(CONFIG, tmp_path / "full", data_dir=data_dir, progress=False)
    fit(
        dataclasses.replace(CONFIG, epochs=1), tmp_path / "split", data_dir=data_dir, progress=False
    )
    resumed = fit(CONFIG, tmp_path / "split", data_dir=data_dir, progress=False)
    assert without_timing(resumed) == without_timing(full)
    assert_same_weights(
        weights(tmp_path / "split" / "last.pt"), weights(tmp_path / "full" / "last.pt")
    )
    with pytest.raises(
        CheckpointError, match=r"last.pt was made with lr=0.001 \(now 0.01\).*--no-resume"
    ):
        fit(
            dataclasses.replace(CONFIG, lr=1e-2),
            tmp_path / "split",
            data_dir=data_dir,
            progress=False,
        )


def test_damaged_checkpoints_are_named(tmp_path):
    path = tmp_path / "last.pt"
    torch.save({"format": "msanalysis-checkpoint/1", "x": torch.zeros(1000)}, path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match=f"{path}: damaged or truncated checkpoint"):
        load_checkpoint(path)
    path.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a torch file"):
        load_checkpoint(path)
    torch.save({"weights": 1}, path)
    with pytest.raises(CheckpointError, match="not an msanalysis checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nothing.pt")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("old\n")

    def half_then_crash(f):
        f.write(b"new, half written")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half_then_crash)
    assert path.read_text() == "old\n" and list(tmp_path.iterdir()) == [path]


def test_cli_errors(data_dir, tmp_path, capsys):
    base = ["train", "--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "1"]
    assert cli.main([*base, "--eta", "-1"]) == 2
    assert "eta=-1.0 is out of range" in capsys.readouterr().err
    assert cli.main([*base, "--model", "mlp"]) == 2
    assert cli.main([*base, "--dataset", "cifar10"]) == 1
    assert "cifar-10-python.tar.gz" in capsys.readouterr().err


# ------------------------------------------------------------------------------ killed and
# parallel runs

CLI_ARGS = [
    "--model",
    "small-cnn",
    "--loss",
    "ms",
    "--eta",
    "1.5",
    "--batch-size",
    "16",
    "--seed",
    "1",
    "--no-progress",
]


def train_args(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data-dir", str(data_dir), "--out", str(out), *CLI_ARGS, *extra]


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


def _run_slowly(args: list[str]) -> None:
    """A training process that sleeps after each batch (the test-only hook).

    So it can be killed mid-epoch.
    """
    os.environ["MSANALYSIS_TEST_BATCH_DELAY"] = "0.15"
    torch.set_num_threads(1)
    sys.exit(cli.main(args))


def test_killed_run_resumes_without_losing_or_repeating_an_epoch(
    data_dir, tmp_path, kill_once_written
):
    """SIGKILL in the middle of epoch 2, then resume: same metrics and weights as no kill."""
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    run_in_this_process(train_args(data_dir, reference, "--epochs", "3"))
    # A forked child process (no second torch import); 6 batches per epoch at 0.15 s each:
    # killed 0.3 s after epoch 1's metrics appear.
    args = train_args(data_dir, killed, "--epochs", "3")
    exitcode = kill_once_written(_run_slowly, args, killed / "metrics.jsonl", delay=0.3)
    assert exitcode == -signal.SIGKILL
    assert read_checkpoint(killed / "last.pt")["epoch"] == 1  # killed during epoch 2
    run_in_this_process(train_args(data_dir, killed, "--epochs", "3"))
    assert [m["epoch"] for m in read_metrics(killed)] == [1, 2, 3]
    assert without_timing(read_metrics(killed)) == without_timing(read_metrics(reference))
    for name in ("last.pt", "best.pt"):
        assert_same_weights(weights(killed / name), weights(reference / name))
    assert sorted(p.name for p in killed.iterdir()) == ["best.pt", "last.pt", "metrics.jsonl"]


def _rank_main(rank: int, world_size: int, port: int, args: list[str]) -> None:
    """One process of a torchrun-like launch: the environment torchrun sets, then the CLI."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    sys.exit(cli.main(args))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one_process(data_dir, tmp_path):
    """Two CPU processes (gloo, DDP) over the same global batches end with the same weights."""
    single, multi = tmp_path / "single", tmp_path / "multi"
    run_in_this_process(train_args(data_dir, single, "--epochs", "1"))
    # fork, as DataLoader workers do (each sets one thread): the children need not import torch
    # again.
    torch.multiprocessing.start_processes(
        _rank_main,
        args=(2, free_port(), train_args(data_dir, multi, "--epochs", "1")),
        nprocs=2,
        start_method="fork",
    )
    # DDP sums the ranks' gradients in another order (float32 rounding, ~1e-7 relative), and
    # Adam's normalised step m/sqrt(v) magnifies that on weights whose gradient is near zero:
    # seen up to 2.5e-6 on 1 of 401,408 weights with multi-threaded BLAS, far below lr = 1e-3.
    assert_same_weights(
        weights(multi / "last.pt"), weights(single / "last.pt"), rtol=1e-4, atol=1e-5
    )
    (one,), (two,) = read_metrics(single), read_metrics(multi)
    assert two["test_acc"] == one["test_acc"]
    assert two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-5)
