"""The attack, table1/table2 and audit commands on tiny trained checkpoints (seconds, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from msanalysis import cli
from msanalysis.evaluation.robustness import unpack_bits
from msanalysis.training.accel import resolve_accel
from msanalysis.training.train import TrainConfig, fit

# Every test names its device: "auto" would initialise CUDA on a GPU machine before the
# kill test forks.
CPU = resolve_accel("cpu")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, write_patch_task) -> tuple[Path, Path]:
    """(data root, runs folder) with a 1-epoch CE and MS small CNN on a 28x28 toy task."""
    root = write_patch_task(tmp_path_factory.mktemp("attackdata"), n_train=64, n_test=24)
    out = root / "runs"
    for loss, params in (("ce", {}), ("ms", {"eta": 1.5})):
        config = TrainConfig(
            dataset="fashion-mnist",
            model="small-cnn",
            loss=loss,
            loss_params=params,
            epochs=1,
            batch_size=16,
        )
        fit(
            config,
            out / f"fashion-mnist-small-cnn-{loss}-s0",
            data_dir=root,
            accel=CPU,
            progress=False,
        )
    return root, out


def test_attack_command_writes_accuracies(runs, tmp_path, capsys):
    data, out = runs
    report = tmp_path / "a.json"
    args = [
        "attack",
        "--checkpoint",
        str(out / "fashion-mnist-small-cnn-ms-s0/best.pt"),
        "--attacks",
        "fgsm,pgd",
        "--objective",
        "train-loss",
        "--limit",
        "16",
        "--data-dir",
        str(data),
        "--json",
        str(report),
        "--no-progress",
        "--device",
        "cpu",
    ]
    assert cli.main(args) == 0
    result = json.loads(report.read_text())
    assert result["n"] == 16 and result["objective"] == "train-loss" and result["loss"] == "ms"
    assert result["attacks"]["pgd"]["settings"]["objective"] == "loss:ms(eta=1.5)"
    assert (
        result["attacks"]["pgd"]["settings"]["steps"] == 40
        and result["attacks"]["fgsm"]["settings"]["eps"] == 0.007
    )
    clean = unpack_bits(result["clean_bits"], 16)
    assert clean.sum() == result["clean_correct"]
    for attack in result["attacks"].values():  # robust implies clean-correct
        assert 0 <= attack["correct"] <= result["clean_correct"]
        assert attack["n"] == 16 and attack["accuracy"] == attack["correct"] / 16  # exact
        bits = unpack_bits(attack["bits"], 16)  # per sample, for paired statistics
        assert bits.sum() == attack["correct"] and not (bits & ~clean).any()
    assert result["clean_accuracy"] == result["clean_correct"] / 16
    assert result["data"] == str(data / "fashion-mnist")
    head = capsys.readouterr().out.splitlines()[0]
    assert head.startswith("fashion-mnist small-cnn trained with ms (η = 1.5); n=16,")
    assert head.endswith(f"data from {data / 'fashion-mnist'}")


def test_attack_names_a_loss_without_parameters_plainly(runs, capsys):
    data, out = runs
    checkpoint = out / "fashion-mnist-small-cnn-ce-s0/best.pt"
    args = ["attack", "--checkpoint", str(checkpoint), "--attacks", "fgsm", "--limit", "4"]
    assert cli.main([*args, "--data-dir", str(data), "--no-progress"]) == 0
    assert "small-cnn trained with ce; n=4," in capsys.readouterr().out


def _table_args(data: Path, tmp_path: Path, table: str = "table1") -> list[str]:
    return [
        table,
        "--losses", "ce", "ms:eta=1.5",
        "--seeds", "0",
        "--epochs", "1",
        "--eval-limit", "8",
        "--runs", str(tmp_path / "runs"),
        "--results", str(tmp_path / "t.json"),
        "--data-dir", str(data),
        "--device", "cpu",
        "--no-progress",
    ]  # fmt: skip


def test_table1_trains_attacks_and_resumes_through_the_study(runs, tmp_path, capsys):
    """table1 is a view over the study: it trains the missing runs, attacks the missing
    cells, and a rerun changes nothing (the study's kill-and-resume test covers the rest)."""
    data, _ = runs
    args = _table_args(data, tmp_path)
    assert cli.main(args) == 0
    first = json.loads((tmp_path / "t.json").read_text())
    assert len(first["cells"]) == 2 * 4  # (ce, ms) x (fgsm, bim, pgd, upgd)
    assert all(c["n"] == 8 and len(unpack_bits(c["bits"], 8)) == 8 for c in first["cells"].values())
    assert "ms-eta1.5 (ours)" in (tmp_path / "t-table1.md").read_text()
    assert (tmp_path / "t-table1.csv").read_text().startswith("table,source,dataset,model")
    before = (tmp_path / "t.json").read_bytes()
    assert cli.main(args) == 0
    assert (tmp_path / "t.json").read_bytes() == before
    capsys.readouterr()
    assert cli.main([*args[:-1], "--attacks", "table2", "--no-progress"]) == 2
    assert "does not run table1's attacks" in capsys.readouterr().err


def test_a_table_report_before_any_run_is_one_line(runs, tmp_path, capsys):
    data, _ = runs
    assert cli.main([*_table_args(data, tmp_path, "table2"), "--report"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no results yet" in err
    assert not (tmp_path / "t-table2.md").exists()


def test_audit_command_reports_checks_and_verdicts(runs, tmp_path):
    data, out = runs
    report = tmp_path / "audit.json"
    args = [
        "audit",
        "--checkpoint",
        str(out / "fashion-mnist-small-cnn-ms-s0/best.pt"),
        "--reference-checkpoint",
        str(out / "fashion-mnist-small-cnn-ce-s0/best.pt"),
        "--steps",
        "2",
        "--long-steps",
        "3",
        "--restarts",
        "2",
        "--apgd-steps",
        "3",
        "--square-queries",
        "3",
        "--sweep-steps",
        "2",
        "--limit",
        "12",
        "--data-dir",
        str(data),
        "--json",
        str(report),
        "--no-progress",
        "--device",
        "cpu",
    ]
    assert cli.main(args) == 0
    result = json.loads(report.read_text())
    assert set(result["verdict"]) == {"pgd2-ce", "worst-case"}
    rows = {r["attack"]: r for r in result["rows"]}
    assert rows["transfer-pgd2-ce-from-reference"]["group"] == "transfer"
    assert (
        "gain" not in rows["transfer-pgd2-ce-from-reference"]
    )  # no like-for-like reference number
    assert "gain" in rows["pgd2-own-training-loss"]  # MS under the MS loss vs CE under CE
    assert all(isinstance(c["passed"], bool) for c in result["checks"]["model"])


@pytest.mark.parametrize(
    "args,status",
    [
        (["attack", "--checkpoint", "nowhere.pt", "--device", "cpu"], 1),
        (["attack", "--checkpoint", ".", "--device", "cpu"], 1),  # a folder
        (["attack", "--checkpoint", "x.pt", "--attacks", "cw"], 2),
        (["attack", "--checkpoint", "x.pt", "--limit", "0"], 2),
        (["audit", "--checkpoint", "x.pt", "--steps", "0"], 2),
    ],
)
def test_cli_errors(args, status, capsys):
    assert cli.main(args) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_attack_under_bf16_autocast_is_measured_in_float32(runs, tmp_path):
    """--precision bf16 --memory-format channels_last: the attacks' gradients run under CPU
    autocast, the accuracies are float32 forward passes (the clean one equals the fp32 run's)."""
    data, out = runs
    reports = {}
    for precision in ("fp32", "bf16"):
        reports[precision] = tmp_path / f"{precision}.json"
        args = ["attack", "--checkpoint", str(out / "fashion-mnist-small-cnn-ms-s0/best.pt")]
        args += ["--attacks", "pgd", "--limit", "12", "--data-dir", str(data), "--no-progress"]
        args += ["--device", "cpu", "--precision", precision, "--memory-format", "channels_last"]
        assert cli.main([*args, "--json", str(reports[precision])]) == 0
    fp32, bf16 = (json.loads(reports[p].read_text()) for p in ("fp32", "bf16"))
    assert (bf16["attack_precision"], bf16["measured_precision"]) == ("bf16", "fp32")
    assert bf16["memory_format"] == "channels_last" and fp32["attack_precision"] == "fp32"
    assert bf16["clean_accuracy"] == fp32["clean_accuracy"]
    assert 0 <= bf16["attacks"]["pgd"]["accuracy"] <= bf16["clean_accuracy"]


def test_attack_model_runs_under_autocast_and_stays_in_the_ball(runs):
    """One PGD batch through the bf16 attack model: bf16 inside, float32 logits out, and the
    adversarial images inside the eps-ball and [0, 1]."""
    import torch

    from msanalysis.attacks import paper_attack
    from msanalysis.evaluation.robustness import load_target

    data, out = runs
    accel = resolve_accel("cpu", precision="bf16", memory_format="channels_last")
    target = load_target(
        out / "fashion-mnist-small-cnn-ms-s0/best.pt", limit=8, data_dir=data, accel=accel
    )
    conv = next(m for m in target.attack_model.modules() if isinstance(m, torch.nn.Conv2d))
    dtypes = []
    conv.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    assert target.attack_model(target.images).dtype == torch.float32
    assert target.model(target.images).dtype == torch.float32
    assert dtypes == [torch.bfloat16, torch.float32]  # attack model, then measuring model
    pgd = paper_attack("pgd", target.attack_model, objective="ce", seed=0)
    adv = pgd(target.images, target.labels)
    # eps is a float64 number; the float32 clamp may round it by one ulp of 1.0 (6e-8).
    assert (adv - target.images).abs().max() <= pgd.eps + 1e-7
    assert adv.min() >= 0 and adv.max() <= 1
