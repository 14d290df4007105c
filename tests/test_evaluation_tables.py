"""Tables 1-2: the paper's quoted numbers, and the Markdown/CSV built from a results file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from msanalysis.evaluation.tables import (
    TABLE_ATTACKS,
    checkpoint_path,
    to_csv,
    to_markdown,
)
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


def fake_results(table: str) -> dict:
    rows = ["clean", *TABLE_ATTACKS[table]]
    cells = {
        f"small-cnn/{loss}/{row}": {
            "accuracy": 0.5 + 0.01 * i + (0.2 if loss == "ms" else 0),
            "n": 100,
        }
        for loss in ("ce", "ms")
        for i, row in enumerate(rows)
    }
    return {
        "config": {
            "table": table,
            "dataset": "fashion-mnist",
            "seed": 0,
            "objective": "ce",
            "limit": 100,
        },
        "cells": cells,
        "missing": ["runs/x/best.pt"],
    }


@pytest.mark.parametrize("table", ["table1", "table2"])
def test_markdown_and_csv_hold_our_cells_and_the_papers_labelled(table):
    results = fake_results(table)
    md = to_markdown(results)
    assert "| small-cnn ce (ours) | small-cnn ms (ours) |" in md
    assert "Paper's reported values" in md and "runs/x/best.pt" in md
    first = next(iter(TABLE_ATTACKS[table]))
    assert (
        f"| {first} | 51.00 | 71.00 | +20.00 (±13.23) |" in md
    )  # row 1 of the fake grid; 1.96 sqrt((.51*.49+.71*.29)/100)
    rows = list(csv.DictReader(io.StringIO(to_csv(results))))
    ours = [r for r in rows if r["source"] == "ours"]
    assert len(ours) == len(results["cells"]) and {r["source"] for r in rows} == {
        "ours",
        "paper (reported)",
    }


def test_cifar_table1_puts_the_papers_number_beside_ours():
    results = fake_results("table1")
    results["config"]["dataset"] = "cifar10"
    results["cells"] = {k.replace("small-cnn", "resnet18"): v for k, v in results["cells"].items()}
    md = to_markdown(results)
    assert (
        "| attack | resnet18 ce (ours) | resnet18 ce (paper) | resnet18 ms (ours) | resnet18 ms "
        "(paper) |" in md
    )
    assert "| pgd | 53.00 | 0.14 | 73.00 | 37.24 |" in md


def test_checkpoint_layout_is_the_train_commands_default():
    assert checkpoint_path(Path("runs"), "fashion-mnist", "small-cnn", "ms", 0) == Path(
        "runs/fashion-mnist-small-cnn-ms-s0/best.pt"
    )
