"""Table 2's baselines: heads, losses against their formulas, training, resume, attacks, table."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import signal
import time
from pathlib import Path

import pytest
import torch
from training_helpers import (
    assert_same_weights,
    read_metrics,
    run_in_this_process,
    run_slowly,
    weights,
    without_timing,
)

from msanalysis import cli
from msanalysis.attacks import PGD
from msanalysis.attacks.evaluate import correct_under
from msanalysis.evaluation.baselines import (
    PAPER_NAMES,
    paired_differences,
    ranking_sentence,
    run_baselines,
    summarise_baselines,
    to_markdown,
)
from msanalysis.paper import quoted_tables
from msanalysis.training.baselines import (
    BASELINES,
    CenterHead,
    DistanceHead,
    baseline_params,
    build_criterion,
    mmc_centres,
    with_baseline_head,
)
from msanalysis.training.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from msanalysis.training.models import MODELS, build_model
from msanalysis.training.train import load_checkpoint


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, write_patch_task) -> Path:
    """Tiny Fashion-MNIST files (the patch task of tests/conftest.py)."""
    return write_patch_task(tmp_path_factory.mktemp("data"), n_train=96, n_test=40)


K, D = 4, 6


def _features(n: int = 5, *, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(n, D, generator=g, dtype=torch.float64)).requires_grad_()


def _identity_embedding(head: DistanceHead) -> DistanceHead:
    """z = f, so the loss's gradient in f is the formula's gradient in z."""
    with torch.no_grad():
        head.embed.weight.copy_(torch.eye(D))
        head.embed.bias.zero_()
    return head.double()


TARGET = torch.tensor([0, 1, 3, 3, 2])


# ------------------------------------------------------------------------------ the registry split


@pytest.mark.parametrize("name", [n for n in MODELS if n not in ("densenet121", "googlenet")])
def test_every_model_is_its_head_on_its_features(name):
    """net(x) == net.head(net.forward_features(x)) exactly; feature_dim is the head's width."""
    net = build_model(name, num_classes=3).eval()
    x = torch.rand(2, *MODELS[name].input_shape, generator=torch.Generator().manual_seed(0))
    f = net.forward_features(x)
    assert f.shape == (2, net.feature_dim)
    assert torch.equal(net(x), net.head(f))


@pytest.mark.parametrize("name", ["densenet121", "googlenet"])
def test_the_large_models_expose_features_and_head(name):
    """Without a forward pass (slow on a CPU): the head is the last Linear, 1024 wide."""
    net = build_model(name)
    assert isinstance(net.head, torch.nn.Linear) and net.feature_dim == 1024


def test_ce_state_dict_keys_are_unchanged():
    """The keys checkpoints of CE/MS models were written with before the head split."""
    keys = list(build_model("small-cnn").state_dict())
    convs = [f"1.features.{i}.{p}" for i in (0, 3) for p in ("weight", "bias")]
    dense = [f"1.classifier.{i}.{p}" for i in (1, 3) for p in ("weight", "bias")]
    assert keys == ["0.mean", "0.std", *convs, *dense]


# ------------------------------------------------------------------------------ MMC centres


@pytest.mark.parametrize(("k", "extra"), itertools.product((2, 3, 10), (0, 1, 7)))
def test_mmc_centres_have_norm_c_and_equal_inner_products(k, extra):
    c = 10.0
    mu = mmc_centres(k, k - 1 + extra, c_mm=c).double()
    gram = mu @ mu.T
    expected = torch.full((k, k), -(c**2) / (k - 1), dtype=torch.float64)
    expected.fill_diagonal_(c**2)
    # float32 centres of norm 10: entries of the Gram matrix carry ~1e-5 relative rounding.
    torch.testing.assert_close(gram, expected, rtol=0, atol=1e-4)


def test_mmc_centres_below_k_minus_1_dimensions_are_an_error():
    with pytest.raises(ValueError, match=r"10 classes need a feature dimension >= 9, got 8"):
        mmc_centres(10, 8)


# ------------------------------------------------------------------------------ losses vs formulas


def test_center_loss_value_and_gradient_match_the_formula():
    lam = 0.3
    head = CenterHead(D, K, lam=lam).double()
    with torch.no_grad():
        head.centres.normal_(generator=torch.Generator().manual_seed(1))
    f = _features()
    loss = build_criterion("center", {}, _Wrap(head))(head(f), TARGET)
    logits = f @ head.linear.weight.T + head.linear.bias
    p = torch.softmax(logits, 1).detach()
    onehot = torch.nn.functional.one_hot(TARGET, K).double()
    diff = f - head.centres[TARGET]
    direct = (-(logits.log_softmax(1) * onehot).sum(1) + lam / 2 * diff.pow(2).sum(1)).mean()
    torch.testing.assert_close(loss, direct)
    grad_f, grad_c = torch.autograd.grad(loss, (f, head.centres))
    n = len(TARGET)
    torch.testing.assert_close(grad_f, ((p - onehot) @ head.linear.weight + lam * diff) / n)
    torch.testing.assert_close(grad_c, -lam * onehot.T @ diff.detach() / n)


def test_lgm_loss_value_and_gradient_match_the_formula():
    alpha, lam = 0.3, 0.1
    mu = torch.randn(K, D, generator=torch.Generator().manual_seed(2))
    head = _identity_embedding(
        DistanceHead(D, mu, learnable=True, scale=0.5, margin=alpha, lam=lam)
    )
    f = _features()
    logits = head(f)
    d = (f[:, None, :] - head.means[None]).pow(2).sum(-1)
    torch.testing.assert_close(logits, -d / 2)  # the model's output: -(1/2) d_k
    loss = build_criterion("lgm", {}, _Wrap(head))(logits, TARGET)
    onehot = torch.nn.functional.one_hot(TARGET, K).double()
    s = -(1 + alpha * onehot) * d / 2  # training logits: d_y scaled by (1 + alpha)
    direct = (-(s.log_softmax(1) * onehot).sum(1) + lam * (d * onehot).sum(1) / 2).mean()
    torch.testing.assert_close(loss, direct)
    (grad_f,) = torch.autograd.grad(loss, f)
    p = torch.softmax(s, 1).detach()
    zmu = (f[:, None, :] - head.means[None]).detach()  # (N, K, D)
    ds_dz = -(1 + alpha * onehot)[..., None] * zmu
    expected = ((p - onehot)[..., None] * ds_dz).sum(1) + lam * zmu[torch.arange(5), TARGET]
    torch.testing.assert_close(grad_f, expected / len(TARGET))


def test_mmc_loss_value_and_gradient_match_the_formula():
    mu = mmc_centres(K, D)
    head = _identity_embedding(DistanceHead(D, mu, learnable=False, scale=1.0))
    f = _features(scale=5.0)
    logits = head(f)
    d = (f[:, None, :] - head.centres[None]).pow(2).sum(-1)
    torch.testing.assert_close(logits, -d)
    loss = build_criterion("mmc", {}, _Wrap(head))(logits, TARGET)
    direct = 0.5 * (f - head.centres[TARGET]).pow(2).sum(1).mean()
    torch.testing.assert_close(loss, direct)
    (grad_f,) = torch.autograd.grad(loss, f)
    torch.testing.assert_close(grad_f, (f - head.centres[TARGET]).detach() / len(TARGET))


@pytest.mark.parametrize("name", ["center", "lgm"])
@pytest.mark.parametrize("scale", [1e2, 1e4])
def test_losses_stay_finite_for_large_features(name, scale):
    """Features of norm up to 1e4 (float32, as in training): finite loss, finite gradients."""
    net = with_baseline_head(build_model("mlp", num_classes=K, in_channels=2, hidden=D), name, {})
    f = torch.randn(8, D, generator=torch.Generator().manual_seed(3))
    f = (scale * f / f.norm(dim=1, keepdim=True)).requires_grad_()
    target = torch.arange(8) % K
    loss = build_criterion(name, {}, net)(net.head(f), target)
    grads = torch.autograd.grad(loss, [f, *net.head.parameters()])
    assert torch.isfinite(loss) and all(torch.isfinite(g).all() for g in grads)


class _Wrap(torch.nn.Module):
    """A stand-in network whose head is ``head`` (for build_criterion)."""

    def __init__(self, head: torch.nn.Module) -> None:
        super().__init__()
        self.head = head


# ------------------------------------------------------------------------------ bad input


def test_unknown_parameter_and_wrong_feature_dim_are_named():
    with pytest.raises(ValueError, match=r"mmc takes c_mm; got unknown parameter\(s\) eta"):
        baseline_params("mmc", {"eta": 1.5})
    with pytest.raises(ValueError, match=r"center: lam must be >= 0"):
        baseline_params("center", {"lam": -1.0})
    net = build_model("small-cnn")
    with pytest.raises(
        ValueError, match=r"head CenterHead takes 64 features, but SmallCNN has 128"
    ):
        net.set_head(CenterHead(64, 10, lam=0.1))


def test_cli_rejects_an_unknown_parameter_in_one_line(data_dir, tmp_path, capsys):  # noqa: F811
    args = ["train", "--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "1"]
    assert cli.main([*args, "--loss", "lgm", "--c-mm", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lgm takes alpha, lam; got unknown parameter(s) c_mm" in err


def test_checkpoint_of_another_head_is_named(data_dir, tmp_path, capsys):  # noqa: F811
    run_in_this_process(_train_args(data_dir, tmp_path / "mmc", "mmc", "--epochs", "1"))
    checkpoint = read_checkpoint(tmp_path / "mmc" / "best.pt")
    checkpoint.pop("format")
    for other in ("center", "lgm", "ce"):
        checkpoint["config"]["loss"] = other
        save_checkpoint(tmp_path / f"as-{other}.pt", checkpoint)
        with pytest.raises(CheckpointError, match=rf"not those of a '{other}' model.*another head"):
            load_checkpoint(tmp_path / f"as-{other}.pt")
    assert cli.main(["audit", "--checkpoint", str(tmp_path / "as-ce.pt")]) == 1
    assert capsys.readouterr().err.count("\n") == 1


# ------------------------------------------------------------------------------ train, kill, resume


def _train_args(data_dir, out, loss: str, *extra: str) -> list[str]:  # noqa: F811
    return [
        "train",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
        "--loss",
        loss,
        "--batch-size",
        "16",
        "--seed",
        "1",
        "--no-progress",
        *extra,
    ]


@pytest.mark.parametrize("loss", sorted(BASELINES))
def test_baseline_trains_resumes_after_a_kill_and_is_attacked(loss, data_dir, tmp_path):  # noqa: F811
    """One tiny epoch per run; SIGKILL during epoch 2; resume equals the run without a kill."""
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    run_in_this_process(_train_args(data_dir, reference, loss, "--epochs", "2"))
    proc = multiprocessing.get_context("fork").Process(
        target=run_slowly, args=(_train_args(data_dir, killed, loss, "--epochs", "2"),)
    )
    proc.start()
    try:
        deadline = time.monotonic() + 60
        while (
            not (killed / "metrics.jsonl").exists()
            and time.monotonic() < deadline
            and proc.is_alive()
        ):
            time.sleep(0.01)
        time.sleep(0.3)  # 6 batches per epoch at 0.15 s each: in the middle of epoch 2
        proc.kill()
    finally:
        proc.join()
    assert proc.exitcode == -signal.SIGKILL
    assert read_checkpoint(killed / "last.pt")["epoch"] == 1
    run_in_this_process(_train_args(data_dir, killed, loss, "--epochs", "2"))
    assert without_timing(read_metrics(killed)) == without_timing(read_metrics(reference))
    assert_same_weights(weights(killed / "last.pt"), weights(reference / "last.pt"))
    head_keys = [k for k in weights(killed / "last.pt") if "centres" in k or "means" in k]
    assert head_keys  # the head's centres travel with the checkpoint

    model, meta = load_checkpoint(killed / "last.pt")
    assert meta["config"].loss == loss
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = model(x).argmax(1)  # the model's own labels: every sample is clean-correct
    clean = correct_under(model, x, y)
    attacked = correct_under(model, x, y, PGD(model, eps=0.3, steps=10, seed=0))
    assert clean.all() and attacked.sum() < clean.sum()  # eps = 0.3 breaks a 1-epoch model


# ------------------------------------------------------------------------------ the table


def test_paired_differences_t_interval():
    """Per-seed differences +0.1, +0.2, +0.3: mean 0.2, half-width t(0.975, 2)·0.1/sqrt(3)."""
    from scipy import stats

    ones = torch.ones(10, dtype=torch.bool)
    model = [torch.arange(10) < k for k in (2, 3, 4)]
    ref = [torch.arange(10) < 1] * 3
    out = paired_differences(model, ref)
    assert out["diff"] == pytest.approx(0.2)
    assert out["half_width"] == pytest.approx(stats.t.ppf(0.975, 2) * 0.1 / 3**0.5)
    assert paired_differences([ones], [ones])["half_width"] is None


def _fake_results(acc, n: int = 1000) -> dict:
    """Results where a loss is correct on the first acc(loss, row)·n images of a row."""
    cells = {}
    for loss in PAPER_NAMES:
        cells[f"{loss}/s0/clean"] = {"correct": "1" * n}
        for row in ("pgd10@8/255", "pgd50@8/255", "pgd10@16/255", "pgd50@16/255"):
            k = round(acc(loss, row) * n)
            bits = "1" * k + "0" * (n - k)
            for obj in ("ce", "margin"):
                cells[f"{loss}/s0/{row}/{obj}"] = {"correct": bits}
    return {"config": {"dataset": "fashion-mnist", "model": "small-cnn"}, "cells": cells}


def test_ranking_sentence_is_computed_from_the_means():
    quoted = quoted_tables()["table2"]["accuracy"]
    as_paper = lambda loss, row: quoted[PAPER_NAMES[loss]][row] / 100  # noqa: E731
    summary = summarise_baselines(_fake_results(as_paper), seeds=[0])
    sentence = ranking_sentence(summary, "worst")
    assert "ranking survives (same order in 4 of 4 rows; MS first in 4 of 4)" in sentence
    order = {"ms": 0.005, "mmc": 0.4, "lgm": 0.3, "center": 0.2, "ce": 0.1}
    flipped = lambda loss, row: order[loss]  # noqa: E731
    summary = summarise_baselines(_fake_results(flipped), seeds=[0])
    sentence = ranking_sentence(summary, "ce")
    assert "does not survive (same order in 0 of 4 rows; MS first in 0 of 4)" in sentence
    assert "ours MMC > L-GM > Center loss > SCE (ce) > MS" in sentence
    markdown = to_markdown(_fake_results(flipped), seeds=[0])
    assert "| MS | 0 | pgd10@8/255 | 0.50 | -9.50 | 0.50 | -9.50 | 47.8 |" in markdown


def test_baselines_command_runs_and_resumes(data_dir, tmp_path):  # noqa: F811
    runs = tmp_path / "runs"
    for loss in ("ce", "mmc"):
        out = runs / f"fashion-mnist-small-cnn-{loss}-s1"
        run_in_this_process(_train_args(data_dir, out, loss, "--epochs", "1"))
    args = ["--runs", str(runs), "--data-dir", str(data_dir), "--seeds", "1", "--limit", "8"]
    results_path = tmp_path / "table" / "results.json"
    assert cli.main(["baselines", *args, "--out", str(tmp_path / "table"), "--no-progress"]) == 0
    cells = json.loads(results_path.read_text())["cells"]
    assert len(cells) == 2 * (1 + 4 * 3)  # 2 losses x (clean + 4 rows x 3 objectives)
    assert all(len(c["correct"]) == 8 for c in cells.values())
    again = run_baselines(
        runs=runs,
        dataset="fashion-mnist",
        model="small-cnn",
        losses=["ce", "mmc"],
        seeds=[1],
        objectives=["ce", "margin", "dlr"],
        results_path=results_path,
        limit=8,
        data_dir=str(data_dir),
        progress=False,
    )
    assert again["cells"] == cells  # nothing recomputed
    assert "| MMC | 1 | pgd50@16/255 |" in (tmp_path / "table" / "baselines.md").read_text()
