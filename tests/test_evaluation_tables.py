"""Tables 1-2: the paper's quoted numbers, and the Markdown/CSV built from a results file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import torch

from msanalysis.evaluation.robustness import pack_bits
from msanalysis.evaluation.study import eval_cells, study_from_mapping
from msanalysis.evaluation.tables import TABLES, to_csv, to_markdown
from msanalysis.evaluation.variants import ROW_SETS
from msanalysis.paper import quoted_tables

# Tables 1 and 2 as the paper's plain text prints them (tests/data/, inside the checkout).
PAPER = Path(__file__).parent / "data" / "paper-tables-excerpt.txt"


def test_paper_table1_data_is_what_the_paper_prints():
    """Each row of the paper's Table 1 (attack, then CE/MS per network) equals the data file."""
    text = PAPER.read_text()
    data = quoted_tables()["table1"]["accuracy"]
    nets = ["resnet18", "resnet34", "googlenet", "densenet121"]
    for attack in ("FGSM", "BIM", "PGD", "UPGD"):
        line = re.search(rf"^{attack}\t(.*)$", text, re.M).group(1)
        printed = [float(v) for v in line.split("\t")]
        ours = [data[n][loss][attack.lower()] for n in nets for loss in ("ce", "ms")]
        assert printed == ours


def test_paper_table2_data_is_what_the_paper_prints():
    text = PAPER.read_text()
    data = quoted_tables()["table2"]["accuracy"]
    losses = ["ms", "mmc", "sce", "center-loss", "l-dm"]
    rows = re.findall(r"PGD ₍?(\d+)₎?\t([\d.\t]+)", text.replace("₁₀", "10").replace("₅₀", "50"))
    keys = ["pgd10@8/255", "pgd50@8/255", "pgd10@16/255", "pgd50@16/255"]
    assert len(rows) == 4
    for key, (steps, values) in zip(keys, rows, strict=True):
        assert key.startswith(f"pgd{steps}@")
        assert [float(v) for v in values.split("\t")] == [data[loss][key] for loss in losses]


def _study(tmp_path, dataset="fashion-mnist", model="small-cnn", seeds=(0,)):
    return study_from_mapping(
        {
            "name": "fake",
            "dataset": dataset,
            "models": [model],
            "losses": [{"name": "ce"}, {"name": "ms", "eta": 1.5}],
            "seeds": list(seeds),
            "epochs": [3],
            "attacks": ["table1", "table2"],
            "runs": str(tmp_path / "runs"),
            "results": str(tmp_path / "results.json"),
        }
    )


def fake_results(study, n: int = 100) -> dict:
    """Row i of a table: CE correct on the first 50 + i images (of n), MS on 20 more; clean 90."""
    cells = {}
    for cell in eval_cells(study):
        i = 1 + [r.name for r in ROW_SETS[_table_of(cell.row.name)]].index(cell.row.name)
        k = 50 + i + (20 if cell.train.loss.name == "ms" else 0) + cell.train.seed
        bits = pack_bits(torch.arange(n) < k)
        cells[cell.key] = {"applies": True, "n": n, "correct": k, "clean_correct": 90, "bits": bits}
    return {"cells": cells}


def _table_of(row: str) -> str:
    return next(t for t in TABLES if row in [r.name for r in ROW_SETS[t]])


@pytest.mark.parametrize("table", TABLES)
def test_markdown_and_csv_hold_our_cells_and_the_papers_labelled(table, tmp_path):
    study = _study(tmp_path)
    results = fake_results(study)
    md = to_markdown(study, results, table)
    assert "| attack | ce (ours) | ms-eta1.5 (ours) | ms-eta1.5 − ce |" in md
    assert "Paper's reported values" in md and "(paper)" not in md  # not the paper's data set
    first = ROW_SETS[table][0].name
    # row 1: 51 vs 71 of 100 images, MS's 71 include CE's 51: d = 1 on 20 images, 0 on 80,
    # paired margin 1.96·sd(d)/sqrt(100) with the sample sd sqrt(0.2·0.8·100/99)
    assert f"| {first} | 51.00 | 71.00 | +20.00 (paired ±7.88, 1 seed) |" in md
    assert "| clean | 90.00 | 90.00 |  |" in md
    rows = list(csv.DictReader(io.StringIO(to_csv(study, results, table))))
    ours = [r for r in rows if r["source"] == "ours"]
    assert len(ours) == 2 * (1 + len(ROW_SETS[table]))  # (ce, ms) x (clean + rows), one seed
    assert {r["source"] for r in rows} == {"ours", "paper (reported)"}


def test_seeds_give_mean_std_and_a_t_interval_of_the_paired_differences(tmp_path):
    """Seeds 0-2: CE 51, 52, 53 and MS 71, 72, 73 of 100 at FGSM: the difference is exactly
    +20 in every seed, an interval of width 0."""
    study = _study(tmp_path, seeds=(0, 1, 2))
    md = to_markdown(study, fake_results(study), "table1")
    assert "| fgsm | 52.00 ± 1.00 | 72.00 ± 1.00 | +20.00 [+20.00, +20.00] |" in md


def test_cifar_table1_puts_the_papers_number_beside_ours(tmp_path):
    study = _study(tmp_path, dataset="cifar10", model="resnet18")
    md = to_markdown(study, fake_results(study), "table1")
    assert (
        "| attack | ce (ours) | ce (paper) | ms-eta1.5 (ours) | ms (paper) | ms-eta1.5 − ce |" in md
    )
    assert "| pgd | 53.00 | 0.14 | 73.00 | 37.24 | +20.00 (paired ±7.88, 1 seed) |" in md
