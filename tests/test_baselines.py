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
from msanalysis.evaluation.baselines import PAPER_NAMES, ranking_sentence, summary, to_markdown
from msanalysis.evaluation.robustness import pack_bits
from msanalysis.evaluation.study import eval_cells, study_from_mapping
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


@pytest.mark.parametrize(("k", "extra"), list(itertools.product((2, 3, 10), (0, 1, 7))))
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


def test_center_loss_reads_the_first_rows_of_a_padded_evaluation_batch():
    """evaluate() cuts a padded last batch to its valid rows: the loss of out[:n] is the loss
    of the first n samples; rows that are not the pass's first ones are refused."""
    head = CenterHead(4, 3, lam=0.5)
    with torch.no_grad():
        head.centres.copy_(torch.randn(3, 4, generator=torch.Generator().manual_seed(1)))
    f, y = (
        torch.randn(5, 4, generator=torch.Generator().manual_seed(0)),
        torch.tensor([0, 1, 2, 0, 1]),
    )
    out = head(f)
    cut = head.per_sample_loss(out[:3], y[:3])
    head(f[:3])
    assert torch.allclose(cut, head.per_sample_loss(head(f[:3]), y[:3]), rtol=0, atol=0)
    head(f)
    with pytest.raises(ValueError, match="features of the forward pass"):
        head.per_sample_loss(out[1:4], y[1:4])


@pytest.mark.parametrize("loss", sorted(BASELINES))
def test_evaluation_with_a_padded_last_batch_gives_every_baselines_loss(loss):
    """5 test images in batches of 2: the last batch is padded and cut (the Center loss
    study once failed here); the mean loss equals the loss over all 5 at once."""
    from msanalysis.training.data import ImageData
    from msanalysis.training.train import evaluate

    torch.manual_seed(0)
    net = with_baseline_head(build_model("small-cnn"), loss, {}).eval()
    gen = torch.Generator().manual_seed(2)
    images = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8, generator=gen)
    data = ImageData(images, torch.tensor([0, 1, 2, 3, 4]), 10, "fashion-mnist", "test")
    criterion = build_criterion(loss, {}, net)
    padded = evaluate(net, criterion, data, batch_size=2)
    whole = evaluate(net, criterion, data, batch_size=5)
    assert padded["test_loss"] == pytest.approx(whole["test_loss"], rel=1e-6)  # float32 sums


def test_head_loss_checks_values_as_family_losses_do():
    """eager raises on a NaN loss, deferred records it on the device until reset, off neither."""
    net = with_baseline_head(build_model("small-cnn"), "mmc", {})
    logits, target = torch.full((2, 10), float("nan")), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="mmc loss is NaN/inf"):
        build_criterion("mmc", {}, net)(logits, target)
    deferred = build_criterion("mmc", {}, net, check_values="deferred")
    deferred(torch.zeros(2, 10), target)
    assert not bool(deferred.nonfinite_seen())
    deferred(logits, target)
    assert bool(deferred.nonfinite_seen())
    deferred.reset_nonfinite()
    assert not bool(deferred.nonfinite_seen())
    off = build_criterion("mmc", {}, net, check_values="off")
    assert torch.isnan(off(logits, target)) and not bool(off.nonfinite_seen())


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


TABLE2_ROWS = ("pgd10@8/255", "pgd50@8/255", "pgd10@16/255", "pgd50@16/255")


def _baselines_study(tmp_path, seeds=(0,)):
    return study_from_mapping(
        {
            "name": "fake",
            "dataset": "fashion-mnist",
            "models": ["small-cnn"],
            "losses": [{"name": n} for n in PAPER_NAMES],
            "seeds": list(seeds),
            "epochs": [3],
            "attacks": ["table2"],
            "variants": ["standard", "margin"],
            "runs": str(tmp_path / "runs"),
            "results": str(tmp_path / "results.json"),
        }
    )


def _fake_results(study, acc, n: int = 1000) -> dict:
    """Results where a loss is correct on the first acc(loss, row, seed)·n images of a row,
    under every objective."""
    cells = {}
    for cell in eval_cells(study):
        k = round(acc(cell.train.loss.name, cell.row.name, cell.train.seed) * n)
        bits = torch.arange(n) < k
        cells[cell.key] = {"applies": True, "n": n, "correct": k, "bits": pack_bits(bits)}
    return {"cells": cells}


def test_ranking_sentence_is_computed_from_the_means(tmp_path):
    study = _baselines_study(tmp_path)
    quoted = quoted_tables()["table2"]["accuracy"]
    as_paper = lambda loss, row, seed: quoted[PAPER_NAMES[loss]][row] / 100  # noqa: E731
    entries = summary(study, _fake_results(study, as_paper))
    sentence = ranking_sentence(entries, "worst")
    assert "ranking survives (same order in 4 of 4 rows; MS first in 4 of 4)" in sentence
    order = {"ms": 0.005, "mmc": 0.4, "lgm": 0.3, "center": 0.2, "ce": 0.1}
    flipped = lambda loss, row, seed: order[loss]  # noqa: E731
    results = _fake_results(study, flipped)
    sentence = ranking_sentence(summary(study, results), "ce")
    assert "does not survive (same order in 0 of 4 rows; MS first in 0 of 4)" in sentence
    assert "ours MMC > L-GM > Center loss > SCE (ce) > MS" in sentence
    markdown = to_markdown(study, results)
    assert "| small-cnn | 3 | MS | pgd10@8/255 | 0.50 | -9.50 (paired ±" in markdown
    assert "| small-cnn | 3 | SCE (ce) | pgd10@8/255 | 10.00 |  | 10.00 |  |" in markdown


def test_differences_over_seeds_are_called_only_outside_their_t_interval(tmp_path):
    """MMC above CE by 10, 20, 30 points over three seeds: mean +20 with the t-interval
    t(0.975, 2)·10/sqrt(3) = 24.8, which includes 0, so no difference is called; MS below CE by
    exactly 5 points in every seed: an interval of width 0 excluding 0, called lower."""
    from scipy import stats

    study = _baselines_study(tmp_path, seeds=(0, 1, 2))
    gap = {"mmc": lambda s: 0.1 * (s + 1), "ms": lambda s: -0.05}
    results = _fake_results(study, lambda loss, row, s: 0.4 + gap.get(loss, lambda s: 0)(s))
    find = {(e["loss"], e["row"], e["objective"]): e for e in summary(study, results)}
    mmc = find[("mmc", "pgd10@8/255", "ce")]["vs_reference"].difference
    half = stats.t.ppf(0.975, 2) * 0.1 / 3**0.5
    assert mmc.mean == pytest.approx(0.2) and mmc.high - mmc.mean == pytest.approx(half)
    assert find[("mmc", "pgd10@8/255", "worst")]["vs_reference"].verdict == "no difference"
    assert find[("ms", "pgd10@8/255", "worst")]["vs_reference"].verdict == "lower"


def test_the_worst_case_counts_a_sample_only_if_every_objective_fails_on_it(tmp_path):
    study = _baselines_study(tmp_path)
    results = _fake_results(study, lambda loss, row, seed: 0.5, n=8)
    for cell in eval_cells(study):  # margin breaks the first two images the ce attack missed
        if cell.variant == "margin":
            bits = torch.tensor([0, 0, 1, 1, 1, 1, 0, 0], dtype=torch.bool)
            results["cells"][cell.key] |= {"bits": pack_bits(bits), "correct": 4}
    find = {(e["loss"], e["row"], e["objective"]): e for e in summary(study, results)}
    assert find[("mmc", "pgd50@16/255", "ce")]["accuracy"].mean == 0.5
    assert find[("mmc", "pgd50@16/255", "worst")]["accuracy"].mean == 0.25


def test_baselines_command_trains_attacks_and_resumes(data_dir, tmp_path):  # noqa: F811
    results_path = tmp_path / "table" / "results.json"
    args = [
        "baselines",
        "--losses", "ce", "mmc",
        "--seeds", "1",
        "--epochs", "1",
        "--eval-limit", "8",
        "--runs", str(tmp_path / "runs"),
        "--results", str(results_path),
        "--data-dir", str(data_dir),
        "--device", "cpu",
        "--no-progress",
    ]  # fmt: skip
    assert cli.main(args) == 0
    cells = json.loads(results_path.read_text())["cells"]
    assert len(cells) == 2 * 4 * 3  # 2 losses x 4 rows x 3 objectives
    assert all(c["n"] == 8 for c in cells.values())
    before = results_path.read_bytes()
    assert cli.main(args) == 0
    assert results_path.read_bytes() == before  # nothing recomputed
    markdown = (tmp_path / "table" / "results.md").read_text()
    assert "| small-cnn | 1 | MMC | pgd50@16/255 |" in markdown
