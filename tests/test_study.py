"""msanalysis study: grid declaration, resumable runs, per-sample results, statistics."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import signal
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from msanalysis import cli
from msanalysis.errors import UsageError
from msanalysis.evaluation.robustness import pack_bits, unpack_bits
from msanalysis.evaluation.statistics import binomial_interval, seed_interval
from msanalysis.evaluation.study import (
    RunOptions,
    eval_cells,
    load_study,
    run_study,
    study_from_mapping,
    train_cells,
)
from msanalysis.evaluation.study_report import comparisons, to_markdown


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, write_patch_task) -> Path:
    return write_patch_task(tmp_path_factory.mktemp("studydata"), n_train=48, n_test=16)


def tiny(tmp_path: Path, **overrides) -> dict:
    base = {
        "name": "tiny",
        "dataset": "fashion-mnist",
        "models": ["small-cnn"],
        "losses": [{"name": "ce"}, {"name": "ms", "eta": 1.5}],
        "seeds": [0, 1],
        "epochs": [1],
        "attacks": ["fgsm-8/255", "pgd-few-steps"],
        "batch_size": 16,
        "runs": str(tmp_path / "runs"),
        "results": str(tmp_path / "results.json"),
    }
    return base | overrides


def opts(data_dir: Path) -> RunOptions:
    return RunOptions(device="cpu", data_dir=str(data_dir), progress=False, log=lambda s: None)


def test_a_study_runs_resumes_and_reports(data_dir, tmp_path):
    study = study_from_mapping(tiny(tmp_path, seeds=[0], variants=["standard", "train-loss"]))
    results = run_study(study, opts(data_dir))
    assert len(results["cells"]) == 2 * 2 * 2  # losses x variants x rows
    for cell in results["cells"].values():
        bits = unpack_bits(cell["bits"], cell["n"])
        assert bits.sum() == cell["correct"] and cell["n"] == 16
    for run in results["train"].values():  # where it trained: CPU floats depend on threads
        assert run["machine"]["threads"] == torch.get_num_threads() >= 1
        assert run["machine"]["device"] == "cpu" and run["machine"]["cpu"]
    before = Path(study.results).read_bytes()
    start = time.perf_counter()
    again = run_study(study, opts(data_dir))
    assert time.perf_counter() - start < 5  # nothing retrained or re-attacked
    assert again["cells"] == results["cells"]
    assert Path(study.results).read_bytes() == before
    table = to_markdown(study, results)
    assert "| small-cnn | 1 | standard | pgd5@8/255 | ms-eta1.5 | 1 |" in table
    assert "Unfinished" not in table
    assert "1 seed" in table  # one seed: only the paired margin, nothing called a difference


def test_folders_encode_every_setting_and_never_collide(tmp_path):
    etas = [{"name": "ms", "eta": e} for e in (0.75, 1.5, 1.4999999)]
    study = study_from_mapping(tiny(tmp_path, losses=etas, epochs=[1, 3], seeds=[0, 1]))
    folders = [c.folder() for c in train_cells(study)]
    assert len(set(folders)) == len(folders) == 12
    assert any("ms-eta1.4999999-e3-s1" in f.name for f in folders)
    other = study_from_mapping(tiny(tmp_path, losses=etas, lr=3e-4))
    assert not {c.folder() for c in train_cells(other)} & set(folders)


def test_training_seed_and_attack_seed_move_independently(data_dir, tmp_path):
    a = study_from_mapping(tiny(tmp_path / "a", seeds=[0], attack_seed=0))
    b = study_from_mapping(tiny(tmp_path / "b", seeds=[0], attack_seed=1, runs=a.runs))
    ra = run_study(a, opts(data_dir))
    last = Path(a.runs) / "fashion-mnist-small-cnn-ce-e1-s0-bs16" / "last.pt"
    written = last.stat().st_mtime_ns
    rb = run_study(b, opts(data_dir))
    assert last.stat().st_mtime_ns == written  # the same run, not trained again
    assert {k: v["folder"] for k, v in ra["train"].items()} == {
        k: v["folder"] for k, v in rb["train"].items()
    }
    seeds = {k.split("/", 5)[5]: v["attack"]["seed"] for k, v in rb["cells"].items()}
    assert seeds == {"fgsm@8/255": None, "pgd5@8/255": 1}  # FGSM has no random start
    c = study_from_mapping(tiny(tmp_path / "c", seeds=[1], attack_seed=0, runs=a.runs))
    run_study(c, opts(data_dir))
    w0 = torch.load(
        Path(a.runs) / "fashion-mnist-small-cnn-ce-e1-s0-bs16" / "last.pt", weights_only=False
    )
    w1 = torch.load(
        Path(a.runs) / "fashion-mnist-small-cnn-ce-e1-s1-bs16" / "last.pt", weights_only=False
    )
    assert not torch.equal(
        w0["model"]["1.classifier.3.weight"], w1["model"]["1.classifier.3.weight"]
    )


def test_a_longer_run_starts_from_the_shorter_one(data_dir, tmp_path):
    both = study_from_mapping(tiny(tmp_path, losses=[{"name": "ce"}], seeds=[0], epochs=[1, 2]))
    run_study(both, opts(data_dir))
    alone = study_from_mapping(
        tiny(tmp_path / "alone", losses=[{"name": "ce"}], seeds=[0], epochs=[2])
    )
    run_study(alone, opts(data_dir))
    name = "fashion-mnist-small-cnn-ce-e2-s0-bs16/last.pt"
    a = torch.load(Path(both.runs) / name, weights_only=False)["model"]
    b = torch.load(Path(alone.runs) / name, weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)  # bit-identical on the CPU


def _run_and_report(spec: dict, data_dir: str) -> None:
    torch.set_num_threads(1)
    run_study(study_from_mapping(spec), opts(Path(data_dir)))


def test_a_killed_study_resumes_to_the_same_results(data_dir, tmp_path):
    spec = tiny(tmp_path / "killed")
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_run_and_report, args=(spec, str(data_dir)))
    child.start()
    results = Path(spec["results"])
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once some, not all, attack cells are written
        if results.exists() and len(json.loads(results.read_text())["cells"]) >= 3:
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    partial = json.loads(results.read_text())
    assert 0 < len(partial["cells"]) < 8
    report = to_markdown(study_from_mapping(spec), partial)
    assert f"**Unfinished:** {len(partial['cells'])} of 8 attack cells done." in report
    _run_and_report(spec, str(data_dir))
    resumed = json.loads(results.read_text())
    clean = tiny(tmp_path / "clean")
    _run_and_report(clean, str(data_dir))
    uninterrupted = json.loads(Path(clean["results"]).read_text())

    assert _comparable(resumed) == _comparable(uninterrupted)


def _comparable(results: dict) -> dict:
    drop = {"checkpoint", "seconds"}  # paths and timings differ; everything else may not
    return {k: {f: v for f, v in c.items() if f not in drop} for k, c in results["cells"].items()}


def test_a_study_resumed_on_a_machine_without_its_runs_retrains_only_what_it_lacks(
    data_dir, tmp_path
):
    """Each run is attacked as soon as it is trained, so a sitting that ends keeps whole runs;
    the next machine, without runs/, retrains only runs that still have cells to do."""
    study = study_from_mapping(tiny(tmp_path))
    first = run_study(study, opts(data_dir))
    lost = next(k for k in first["cells"] if "/ms-eta1.5/" in k and k.endswith("pgd5@8/255"))
    kept = {k: v for k, v in first["cells"].items() if k != lost}
    Path(study.results).write_text(json.dumps(first | {"cells": kept}), encoding="utf-8")
    shutil.rmtree(study.runs)
    logged: list[str] = []
    on_file: list[set[str]] = []  # the results file's cells as each training starts

    def log(line: str) -> None:
        logged.append(line)
        if line.startswith("train "):
            on_file.append(set(json.loads(Path(study.results).read_text())["cells"]))

    again = run_study(study, replace(opts(data_dir), log=log))
    ms_s0 = train_cells(study)[1]  # the only run with a cell to do
    assert on_file and not any(f"{ms_s0.key}/" in k for k in on_file[0])  # dropped on file too
    assert sorted(p.name for p in Path(study.runs).iterdir()) == [ms_s0.folder().name]
    assert f"{ms_s0.key}: checkpoints gone; retraining and re-attacking its cells" in logged
    assert _comparable(again) == _comparable(first)  # one machine: retrained to the same bits


def test_statistics_agree_with_scipy():
    values = [0.012, -0.004, 0.020, 0.007]
    s = seed_interval(values)
    ci = stats.ttest_1samp(values, 0).confidence_interval(0.95)
    assert (s.low, s.high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert s.std == pytest.approx(np.std(values, ddof=1), rel=1e-12)
    one = seed_interval([0.5])
    assert math.isnan(one.low) and one.n == 1
    low, high = binomial_interval(37, 50)
    ref = stats.binomtest(37, 50).proportion_ci(method="exact")
    assert (low, high) == (ref.low, ref.high)


def test_a_two_seed_report_says_its_interval_is_weak(tmp_path):
    empty = {"cells": {}}
    two = to_markdown(study_from_mapping(tiny(tmp_path)), empty)
    three = to_markdown(study_from_mapping(tiny(tmp_path, seeds=[0, 1, 2])), empty)
    assert "one degree of freedom (t quantile 12.71)" in two
    assert "degree of freedom" not in three


def test_bits_round_trip():
    x = torch.tensor([True, False, True, True, False, False, True, False, True, True, False])
    assert (unpack_bits(pack_bits(x), len(x)) == x.numpy()).all()


def test_comparisons_use_paired_seed_differences(data_dir, tmp_path):
    study = study_from_mapping(tiny(tmp_path, attacks=["fgsm-8/255"]))
    results = run_study(study, opts(data_dir))
    (c,) = comparisons(study, results)
    per_seed = []
    for seed in (0, 1):
        ms = results["cells"][f"small-cnn/ms-eta1.5/e1/s{seed}/standard/fgsm@8/255"]
        ce = results["cells"][f"small-cnn/ce/e1/s{seed}/standard/fgsm@8/255"]
        per_seed.append(ms["correct"] / ms["n"] - ce["correct"] / ce["n"])
    assert c.difference.mean == pytest.approx(np.mean(per_seed), abs=1e-12)
    assert c.difference.n == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"models": ["resnet99"]}, "unknown model 'resnet99'"),
        ({"models": ["mlp"]}, "unknown model 'mlp'"),
        ({"losses": [{"name": "ms", "etaa": 1.0}]}, "no parameter"),
        ({"losses": [{"name": "ms", "eta": -1.0}]}, "eta"),
        ({"losses": [{"name": "nope"}]}, "unknown loss 'nope'"),
        ({"attacks": ["table3"]}, "unknown attack set 'table3'"),
        ({"variants": ["bn-eval"]}, "unknown variant 'bn-eval'"),
        ({"epochs": [0]}, "epochs"),
        ({"colour": "red"}, "unknown key(s) colour"),
        ({"losses": [{"name": "ce"}, {"name": "ce"}]}, "listed twice"),
    ],
)
def test_bad_study_files_get_one_clear_message(tmp_path, change, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        study_from_mapping(tiny(tmp_path, **change))


def test_a_results_file_of_other_settings_is_refused_untouched(data_dir, tmp_path):
    study = study_from_mapping(tiny(tmp_path, seeds=[0], attacks=["fgsm-8/255"]))
    run_study(study, opts(data_dir))
    before = Path(study.results).read_bytes()
    other = study_from_mapping(tiny(tmp_path, seeds=[0], attacks=["fgsm-8/255"], eval_limit=8))
    with pytest.raises(UsageError, match="other settings"):
        run_study(other, opts(data_dir))
    assert Path(study.results).read_bytes() == before


def test_the_cost_probe_builds_every_model_for_the_data_sets_channels(monkeypatch):
    """A CIFAR network on 1-channel Fashion-MNIST needs the data set's normalisation (the
    resnet18 study's dry run once failed here)."""
    from msanalysis.evaluation import study_cost

    monkeypatch.setattr(study_cost, "_EVAL_BATCH", 2)  # the shapes matter here, not the time
    train, attack = study_cost.probe_seconds("resnet18", "fashion-mnist", batch_size=2, repeats=1)
    assert train > 0 and attack > 0


def test_cli_study_file_dry_run_and_report(data_dir, tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(
        f'name = "cli"\ndataset = "fashion-mnist"\nmodels = ["small-cnn"]\nseeds = [0]\n'
        f'epochs = [1]\nattacks = ["fgsm-8/255"]\nbatch_size = 16\n'
        f'runs = "{tmp_path / "runs"}"\nresults = "{tmp_path / "r.json"}"\n'
        '[[losses]]\nname = "ce"\n[[losses]]\nname = "ms"\neta = 1.5\n'
    )
    assert load_study(path).losses[1].kwargs == {"eta": 1.5}
    assert cli.main(["study", str(path), "--dry-run", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "train small-cnn/ce/e1/s0" in out and "estimated cost" in out
    assert cli.main(["study", str(path), "--report"]) == 1  # nothing run yet: one line
    assert "no results yet" in capsys.readouterr().err
    args = ["study", str(path), "--device", "cpu", "--data-dir", str(data_dir), "--no-progress"]
    assert cli.main(args) == 0
    assert "| small-cnn | 1 | standard | fgsm@8/255 | ms-eta1.5 |" in capsys.readouterr().out
    assert cli.main(["study", str(tmp_path / "missing.toml")]) == 1
    path.write_text("name = [")
    assert cli.main(["study", str(path)]) == 2


def test_submitit_local_executor_runs_two_cells(data_dir, tmp_path):
    pytest.importorskip("submitit", reason="submitit is the optional 'cluster' extra")
    study = study_from_mapping(
        tiny(tmp_path, losses=[{"name": "ce"}], seeds=[0, 1], attacks=["fgsm-8/255"])
    )
    o = opts(data_dir)
    o.executor, o.executor_folder = "submitit-local", str(tmp_path / "submitit")
    results = run_study(study, o)
    assert set(results["train"]) == {"small-cnn/ce/e1/s0", "small-cnn/ce/e1/s1"}
    assert all((Path(t["folder"]) / "best.pt").exists() for t in results["train"].values())
    assert len(results["cells"]) == 2


ROOT = Path(__file__).resolve().parents[1]
COMMITTED = sorted((ROOT / "results" / "fashion-mnist" / "study").glob("*.toml"))


def _report_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "update_study_reports", ROOT / "docs" / "update_study_reports.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_study_reports_are_what_the_code_renders(path, monkeypatch):
    """Each committed report of a study (<name>.md: `msanalysis study FILE --report`, Table 2's
    layout for the baselines studies; the seeds study's Table 1-2 views, .md and .csv) is what
    docs/update_study_reports.py renders from its committed results file with this code."""
    monkeypatch.chdir(ROOT)  # study files name their results relative to the checkout
    written = _report_script().reports(path)
    if not written:
        pytest.skip(f"{path.name} has not been run yet: no results file")
    for target, text in written.items():
        assert text == target.read_text(encoding="utf-8"), target.name


def test_study_figures_draw_what_the_results_hold(tmp_path):
    """ε and epochs figures from fake finished cells; the epochs figure leaves out the ε sweep,
    the ε figure's legend says how many seeds each line has."""
    from msanalysis.figures.study import _epochs_figure, _eps_figure, study_figures, study_points

    study = study_from_mapping(
        tiny(tmp_path, epochs=[1, 2], attacks=["fgsm-8/255", "pgd-eps"], pgd_eps255=[0, 8])
    )
    cells = {}
    for cell in eval_cells(study):
        k = 10 - cell.train.epochs - (cell.train.seed if cell.train.loss.name == "ms" else 0)
        cells[cell.key] = {
            "applies": True,
            "n": 16,
            "correct": k,
            "bits": pack_bits(torch.arange(16) < k),
        }
    results = {"cells": cells}
    written = study_figures(study, results, tmp_path / "figs")
    assert {p.name for p in written} >= {"tiny-eps.png", "tiny-epochs.pdf", "tiny.csv"}
    points = study_points(study, results)
    epochs_legend = [t.get_text() for t in _epochs_figure(points, "t").legends[0].get_texts()]
    assert sorted(epochs_legend) == ["small-cnn ce fgsm@8/255", "small-cnn ms-eta1.5 fgsm@8/255"]
    eps_legend = [t.get_text() for t in _eps_figure(points, "t").axes[0].get_legend().get_texts()]
    assert "small-cnn ce (2 ep.), 2 seeds" in eps_legend
