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
from training_helpers import (
    TIMING,
    assert_same_weights,
    read_metrics,
    run_in_this_process,
    run_slowly,
    weights,
    without_timing,
)

from msanalysis import cli
from msanalysis.errors import UsageError
from msanalysis.training.accel import resolve_accel
from msanalysis.training.checkpoint import (
    CheckpointError,
    atomic_write,
    read_checkpoint,
    save_checkpoint,
)
from msanalysis.training.data import batch_indices, load_dataset
from msanalysis.training.distributed import Dist
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
# Every test names its device: on a machine with a CUDA build, "auto" would initialise CUDA,
# and the tests below that fork (SIGKILL resume, two gloo processes) must not inherit that.
CPU = resolve_accel("cpu")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, write_patch_task) -> Path:
    """A learnable 28x28 task: class k has a bright 7x7 patch at one of 10 positions, plus noise."""
    root = write_patch_task(tmp_path_factory.mktemp("data"), n_train=96, n_test=40)
    return root


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
    metrics = fit(CONFIG, tmp_path, data_dir=data_dir, accel=CPU, progress=False)
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


def test_a_nan_in_an_epoch_fails_that_epoch_once_and_keeps_the_previous_checkpoint(
    data_dir, tmp_path, monkeypatch
):
    """fit checks the loss through the deferred device flag (no host sync per step): a NaN
    weight from the second epoch's first step on raises at that epoch's end, for a family loss
    and a baseline head alike, and last.pt stays the first epoch's."""
    import msanalysis.training.train as train_module

    modes = []
    build = train_module.build_criterion

    def spy(*args, **kwargs):
        modes.append(kwargs.get("check_values"))
        return build(*args, **kwargs)

    monkeypatch.setattr(train_module, "build_criterion", spy)
    for loss, params in (("ms", {"eta": 1.5}), ("mmc", {})):
        config = dataclasses.replace(CONFIG, loss=loss, loss_params=params)
        out = tmp_path / loss
        nets = []

        def poison(epoch: int, step: int, nets=nets) -> None:
            if epoch == 1 and step == 0:
                with torch.no_grad():
                    next(nets[0].parameters()).fill_(float("nan"))

        real_prepare = train_module._prepare
        monkeypatch.setattr(
            train_module,
            "_prepare",
            lambda net, *a, real=real_prepare, nets=nets: (nets.append(net), real(net, *a))[1],
        )
        with pytest.raises(ValueError, match=r"epoch 2: the training loss was NaN/inf"):
            fit(config, out, data_dir=data_dir, accel=CPU, progress=False, after_batch=poison)
        assert read_checkpoint(out / "last.pt")["epoch"] == 1
        assert [m["epoch"] for m in read_metrics(out)] == [1]
    assert modes == ["deferred", "deferred"]


def test_resume_continues_bit_identically(data_dir, tmp_path):
    full = fit(CONFIG, tmp_path / "full", data_dir=data_dir, accel=CPU, progress=False)
    fit(
        dataclasses.replace(CONFIG, epochs=1), tmp_path / "split", data_dir=data_dir, progress=False
    )
    resumed = fit(CONFIG, tmp_path / "split", data_dir=data_dir, accel=CPU, progress=False)
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
            accel=CPU,
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


def test_a_flipped_byte_in_a_checkpoint_is_caught_by_its_digest(tmp_path):
    """torch does not check its zip records' CRC-32; the digest saved with the file does."""
    path = tmp_path / "last.pt"
    weights = torch.full((256,), 1.2345)
    save_checkpoint(path, {"model": {"w": weights}, "config": {"lr": 1e-3}, "epoch": 1})
    assert torch.equal(read_checkpoint(path)["model"]["w"], weights)  # intact: loads
    data = bytearray(path.read_bytes())
    at = bytes(data).index(weights[:4].numpy().tobytes())
    data[at + 5] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"^{path}: damaged checkpoint: .* SHA-256 digest"):
        read_checkpoint(path)
    torch.save({"format": "msanalysis-checkpoint/1", "epoch": 2}, path)  # no digest: older file
    assert read_checkpoint(path) == {"format": "msanalysis-checkpoint/1", "epoch": 2}


def test_a_folder_given_as_checkpoint_is_named_as_one(tmp_path):
    with pytest.raises(CheckpointError, match=f"^{tmp_path}: is a folder, not a checkpoint file$"):
        load_checkpoint(tmp_path)
    (tmp_path / "best.pt").write_bytes(b"")
    (tmp_path / "last.pt").write_bytes(b"")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path)
    assert str(err.value).endswith(
        f"did you mean {tmp_path / 'best.pt'} or {tmp_path / 'last.pt'}?"
    )


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
    base += ["--device", "cpu"]
    assert cli.main([*base, "--eta", "-1"]) == 2
    assert "eta=-1.0 is out of range" in capsys.readouterr().err
    assert cli.main([*base, "--model", "mlp"]) == 2
    assert cli.main([*base, "--dataset", "cifar10"]) == 1
    assert "cifar-10-python.tar.gz" in capsys.readouterr().err


def test_cli_says_which_data_folder_it_read(data_dir, tmp_path, capsys):
    args = ["train", "--data-dir", str(data_dir), "--out", str(tmp_path / "o"), "--epochs", "1"]
    assert cli.main([*args, "--batch-size", "32", "--no-progress", "--device", "cpu"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"{tmp_path / 'o'}: training on fashion-mnist from {data_dir / 'fashion-mnist'}"


def test_cli_named_data_dir_is_honoured(tmp_path, capsys):
    """A --data-dir without the data fails in one line, even where /usr/share/datasets has it."""
    out = tmp_path / "runs" / "o"
    args = ["train", "--data-dir", str(tmp_path / "none"), "--out", str(out), "--device", "cpu"]
    assert cli.main(args) == 1
    assert capsys.readouterr().err == (
        f"msanalysis train: data root {tmp_path / 'none'} (from --data-dir) does not exist\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_run_failing_before_its_first_epoch_leaves_no_folder(data_dir, tmp_path, monkeypatch):
    import msanalysis.training.train as train_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train_one_epoch", interrupted)
    (tmp_path / "kept").mkdir()
    out = tmp_path / "kept" / "runs" / "o"
    assert (
        cli.main(
            [
                "train",
                "--data-dir",
                str(data_dir),
                "--out",
                str(out),
                "--no-progress",
                "--device",
                "cpu",
            ]
        )
        == 130
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "kept"]  # what existed before stays
    assert list((tmp_path / "kept").iterdir()) == []


# ------------------------------------------------------------------------- killed and parallel runs

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
    "--device",
    "cpu",
]


def train_args(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data-dir", str(data_dir), "--out", str(out), *CLI_ARGS, *extra]


def test_killed_run_resumes_without_losing_or_repeating_an_epoch(
    data_dir, tmp_path, kill_once_written
):
    """SIGKILL in the middle of epoch 2, then resume: same metrics and weights as no kill."""
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    run_in_this_process(train_args(data_dir, reference, "--epochs", "3"))
    # A forked child process (no second torch import); 6 batches per epoch at 0.15 s each:
    # killed 0.3 s after epoch 1's metrics appear.
    args = train_args(data_dir, killed, "--epochs", "3")
    exitcode = kill_once_written(run_slowly, args, killed / "metrics.jsonl", delay=0.3)
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
    # --limit-test 1: the second process has no test image and still runs the same passes.
    run_in_this_process(train_args(data_dir, single, "--epochs", "1", "--limit-test", "1"))
    # fork, as DataLoader workers do (each sets one thread): the children need not import torch
    # again.
    torch.multiprocessing.start_processes(
        _rank_main,
        args=(2, free_port(), train_args(data_dir, multi, "--epochs", "1", "--limit-test", "1")),
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


# ---------------------------------------------------------------- the accelerated path on the CPU

FAST = resolve_accel("cpu", precision="bf16", memory_format="channels_last")
TINY = dataclasses.replace(CONFIG, augment=True, limit_train=40, limit_test=20)  # 16 + 16 + 8


def test_auto_picks_the_cuda_defaults_only_on_a_gpu(monkeypatch):
    cpu = resolve_accel("auto") if not torch.cuda.is_available() else resolve_accel("cpu")
    assert (cpu.device.type, cpu.precision, cpu.memory_format) == ("cpu", "fp32", "contiguous")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # torch.device() needs no GPU
    gpu = resolve_accel("cuda", local_rank=1)
    # A bare "cuda" names the process's GPU: DDP's device_ids must not be [None].
    assert (str(gpu.device), gpu.precision, gpu.memory_format) == (
        "cuda:1",
        "bf16",
        "channels_last",
    )
    assert resolve_accel("auto", precision="fp32").precision == "fp32"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_accel("cuda")
    with pytest.raises(ValueError, match="precision 'fp16'"):
        resolve_accel("cpu", precision="fp16")


def test_training_runs_bf16_channels_last_and_evaluation_float32(data_dir):
    """The same loop on the CPU: autocast makes the convolutions bf16, the batches are
    channels_last; evaluation (which picks best.pt) stays float32 whatever the settings."""
    data = load_dataset("fashion-mnist", "train", data_dir=data_dir, limit=TINY.limit_train)
    net = FAST.module(build_network(TINY))
    conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    seen = []
    conv.register_forward_hook(
        lambda m, inputs, out: seen.append(
            (out.dtype, inputs[0].is_contiguous(memory_format=torch.channels_last))
        )
    )
    loss_fn = build_loss("ms", eta=1.5)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    row = train_one_epoch(net, loss_fn, optimizer, data, config=TINY, epoch=0, accel=FAST)
    assert row["images"] == 40 and seen == [(torch.bfloat16, True)] * 3
    seen.clear()
    evaluate(net, loss_fn, data, batch_size=16, accel=FAST)
    assert seen == [(torch.float32, True)] * 3  # 40 images: 3 padded batches of 16


def test_accelerated_run_resumes_bit_identically(data_dir, tmp_path):
    """bf16 + channels_last + augmentation, stopped after epoch 1 and resumed from a
    checkpoint that (as older files do) carries CUDA generator states: same as no stop."""
    full = fit(TINY, tmp_path / "full", data_dir=data_dir, accel=FAST, progress=False)
    split = tmp_path / "split"
    fit(dataclasses.replace(TINY, epochs=1), split, data_dir=data_dir, accel=FAST, progress=False)
    checkpoint = read_checkpoint(split / "last.pt")
    assert set(checkpoint["rng"]) == {"torch"}  # no CUDA state: resumes on any number of GPUs
    checkpoint["rng"]["cuda"] = [torch.zeros(16, dtype=torch.uint8)] * 8  # an 8-GPU machine's
    torch.save(checkpoint, split / "last.pt")
    resumed = fit(TINY, split, data_dir=data_dir, accel=FAST, progress=False)
    assert without_timing(resumed) == without_timing(full)
    assert_same_weights(weights(split / "last.pt"), weights(tmp_path / "full" / "last.pt"))


def test_compiled_training_needs_one_batch_shape(data_dir, tmp_path):
    with pytest.raises(UsageError, match="not a multiple of the batch size 16.*--drop-last"):
        fit(TINY, tmp_path, data_dir=data_dir, accel=CPU, compile_model=True, progress=False)
    with pytest.raises(UsageError, match="divisible by the 3 processes"):
        fit(
            dataclasses.replace(TINY, drop_last=True),
            tmp_path,
            data_dir=data_dir,
            compile_model=True,
            accel=CPU,
            dist=Dist(rank=0, world_size=3),
            progress=False,
        )


@pytest.mark.slow
def test_compiled_fit_keeps_one_graph_for_training_and_one_for_evaluation(
    data_dir, tmp_path, monkeypatch
):
    """Two epochs of 16 + 16 (+ 8 dropped) training images and 20 test images: dynamo traces
    the training step once and the evaluation once, never again (no recompiles). The
    aot_eager backend traces exactly as inductor does but compiles no C++ (seconds, not
    minutes); inductor itself is the next test."""
    from torch._dynamo.utils import counters

    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda m: compile_(m, backend="aot_eager"))
    torch._dynamo.reset()
    counters.clear()
    config = dataclasses.replace(TINY, drop_last=True)
    run = dict(data_dir=data_dir, accel=FAST, progress=False)
    compiled = fit(config, tmp_path / "compiled", compile_model=True, **run)
    assert counters["stats"]["unique_graphs"] == 2 and counters["frames"]["ok"] == 2
    eager = fit(config, tmp_path / "eager", **run)
    # aot_eager runs the same ATen ops in the same order: equal up to bf16 rounding of
    # recomputed intermediates (a bf16 ulp is 2**-8 relative).
    for a, b in zip(compiled, eager, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-2)
        assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-2)


@pytest.mark.slow
def test_one_inductor_compiled_step_under_bf16_and_channels_last():
    """torch.compile's default backend (inductor, C++ kernels built with gcc) on one training
    step of a tiny network; tens of seconds on a loaded 2-core machine."""
    import shutil

    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("torch.compile's inductor backend on the CPU needs a C compiler (gcc/cc)")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 8 * 8, 10),
    )
    FAST.module(net)
    x, y = torch.rand(4, 1, 8, 8), torch.randint(0, 10, (4,))
    loss_fn = build_loss("ms", eta=1.5)

    def step(model):
        with FAST.forward():
            logits = model(FAST.images(x)).float()
        loss = loss_fn(logits, y)
        (grad,) = torch.autograd.grad(loss, net[0].weight)
        return loss.detach(), grad

    (loss_c, grad_c), (loss_e, grad_e) = step(torch.compile(net)), step(net)
    # bf16 autocast: inductor may fuse and round at other points; 2 bf16 ulps (2**-7).
    torch.testing.assert_close(loss_c, loss_e, rtol=2**-7, atol=1e-3)
    torch.testing.assert_close(grad_c, grad_e, rtol=2**-7, atol=1e-3)
