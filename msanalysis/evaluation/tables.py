"""Tables 1 and 2 of the paper, rerun from trained checkpoints, resumable cell by cell.

Checkpoints are found where ``msanalysis train`` puts them by default:
``RUNS/<dataset>-<model>-<loss>-s<seed>/best.pt``. Each finished cell (one model, loss and
attack) is written at once to the results JSON (atomically), so a killed run loses at most
one cell and a rerun skips the finished ones. The paper's reported numbers
(``msanalysis/data/paper_tables.json``) are printed beside ours, labelled as the paper's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from ..attacks import PGD, Attack, paper_attack
from ..attacks.evaluate import correct_under, unpaired_noise_margin
from ..paper import quoted_tables

__all__ = ["TABLE_ATTACKS", "checkpoint_path", "run_grid", "to_markdown", "to_csv"]

AttackFactory = Callable[[nn.Module, Any, int], Attack]


def _pgd(eps255: int, steps: int) -> AttackFactory:
    return lambda model, objective, seed: PGD(
        model, eps=eps255 / 255, steps=steps, objective=objective, seed=seed
    )


def _paper(name: str) -> AttackFactory:
    return lambda model, objective, seed: paper_attack(name, model, objective=objective, seed=seed)


#: Table -> row name -> attack factory. Table 2's alpha is not stated in the paper: torchattacks'
#: 2/255.
TABLE_ATTACKS: dict[str, dict[str, AttackFactory]] = {
    "table1": {name: _paper(name) for name in ("fgsm", "bim", "pgd", "upgd")},
    "table2": {f"pgd{s}@{e}/255": _pgd(e, s) for e in (8, 16) for s in (10, 50)},
}


def checkpoint_path(runs: Path, dataset: str, model: str, loss: str, seed: int) -> Path:
    """Where ``msanalysis train`` writes this run's best checkpoint by default."""
    return Path(runs) / f"{dataset}-{model}-{loss}-s{seed}" / "best.pt"


def run_grid(
    table: str,
    *,
    runs: Path,
    dataset: str,
    models: list[str],
    losses: list[str],
    results_path: Path,
    seed: int = 0,
    objective: str = "ce",
    limit: int | None = None,
    batch_size: int = 256,
    device: str = "auto",
    data_dir: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate every (model, loss, attack) cell not yet in ``results_path``; return all results.

    Raises:
      ValueError: ``results_path`` holds results of different settings (use another file).
    """
    from tqdm.auto import tqdm

    from .robustness import count_correct, load_target, objective_for, write_json_atomic

    config = {
        "table": table,
        "dataset": dataset,
        "seed": seed,
        "objective": objective,
        "limit": limit,
    }
    results = {"config": config, "cells": {}, "missing": []}
    if results_path.exists():
        old = json.loads(results_path.read_text())
        if old.get("config") != config:
            raise ValueError(
                f"{results_path} holds results for {old.get('config')}, not {config}; "
                "choose another --out"
            )
        results["cells"] = old["cells"]
    rows = {"clean": None, **TABLE_ATTACKS[table]}
    for model_name in models:
        for loss in losses:
            keys = [f"{model_name}/{loss}/{row}" for row in rows]
            if all(k in results["cells"] for k in keys):
                continue
            path = checkpoint_path(runs, dataset, model_name, loss, seed)
            if not path.is_file():
                results["missing"].append(str(path))
                continue
            target = load_target(path, limit=limit, data_dir=data_dir, device=device)
            obj = objective_for(target, objective)
            for key, factory in zip(keys, rows.values(), strict=True):
                if key in results["cells"]:
                    continue
                attack = None if factory is None else factory(target.model, obj, seed)
                with tqdm(
                    total=len(target.labels),
                    desc=key,
                    disable=not progress,
                    leave=False,
                    unit="img",
                ) as bar:
                    ok = correct_under(
                        target.model,
                        target.images,
                        target.labels,
                        attack,
                        batch_size=batch_size,
                        progress=bar.update,
                    )
                results["cells"][key] = {
                    **count_correct(ok),
                    "checkpoint": str(path),
                    "loss_params": target.loss_params,
                    "settings": attack.settings() if attack else {},
                }
                write_json_atomic(results_path, results)
    return results


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def _grid(
    results: dict[str, Any], paper: dict[str, Any]
) -> tuple[list[str], list[str], list[list[str]]]:
    """(header, row names, cells) of our numbers, with the paper's beside them where comparable."""
    table, dataset = results["config"]["table"], results["config"]["dataset"]
    ours = sorted(
        {tuple(k.split("/")[:2]) for k in results["cells"]},
        key=lambda ml: (ml[0], ml[1] != "ce", ml[1]),
    )
    rows = ["clean", *TABLE_ATTACKS[table]]
    ref = paper[table]["accuracy"] if paper[table]["dataset"] == dataset else {}
    header, columns = ["attack"], []
    for model, loss in ours:
        header.append(f"{model} {loss} (ours)")
        columns.append(
            lambda row, m=model, loss_=loss: (
                _pct(100 * results["cells"][f"{m}/{loss_}/{row}"]["accuracy"])
                if f"{m}/{loss_}/{row}" in results["cells"]
                else ""
            )
        )
        reported = ref.get(model, {}).get(loss) if table == "table1" else None
        if reported:
            header.append(f"{model} {loss} (paper)")
            columns.append(lambda row, r=reported: _pct(r.get(row)))
        if loss == "ms" and (model, "ce") in ours:
            header.append(f"{model} ms - ce (95% margin)")
            columns.append(lambda row, m=model: _gain(results["cells"], m, row))
    return header, rows, [[row, *(c(row) for c in columns)] for row in rows]


def _gain(cells: dict[str, Any], model: str, row: str) -> str:
    """MS minus CE accuracy in points, with the binomial 95% margin of the difference."""
    ms, ce = cells.get(f"{model}/ms/{row}"), cells.get(f"{model}/ce/{row}")
    if ms is None or ce is None:
        return ""
    margin = unpaired_noise_margin(ms["accuracy"], ce["accuracy"], min(ms["n"], ce["n"]))
    return f"{100 * (ms['accuracy'] - ce['accuracy']):+.2f} (±{100 * margin:.2f})"


def to_markdown(results: dict[str, Any]) -> str:
    """Our table as Markdown, then the paper's reported table for reference."""
    paper = quoted_tables()
    cfg = results["config"]
    header, _, body = _grid(results, paper)
    n = {c["n"] for c in results["cells"].values()}
    lines = [
        f"Table {cfg['table'][-1]} on {cfg['dataset']}: accuracy (%) under attack, "
        f"objective `{cfg['objective']}`, "
        f"n = {', '.join(map(str, sorted(n)))} test images, seed {cfg['seed']}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
        *("| " + " | ".join(r) + " |" for r in body),
    ]
    p = paper[cfg["table"]]
    lines += ["", f"Paper's reported values ({p['caption']}; {p['settings']}):", ""]
    if cfg["table"] == "table1":
        cols = ["fgsm", "bim", "pgd", "upgd"]
        lines += ["| model | loss | " + " | ".join(cols) + " |", "|---|---|" + "---:|" * len(cols)]
        for model, by_loss in p["accuracy"].items():
            for loss, acc in by_loss.items():
                lines.append(
                    f"| {model} | {loss} | " + " | ".join(_pct(acc.get(c)) for c in cols) + " |"
                )
    else:
        cols = list(TABLE_ATTACKS["table2"])
        lines += ["| loss | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        for loss, acc in p["accuracy"].items():
            lines.append(f"| {loss} | " + " | ".join(_pct(acc.get(c)) for c in cols) + " |")
    if results.get("missing"):
        lines += ["", "Missing checkpoints (cells left out): " + ", ".join(results["missing"])]
    return "\n".join(lines) + "\n"


def to_csv(results: dict[str, Any]) -> str:
    """Long format: one line per (source, model, loss, attack)."""
    cfg, paper = results["config"], quoted_tables()[results["config"]["table"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["table", "source", "dataset", "model", "loss", "attack", "objective", "accuracy_pct", "n"]
    )
    for key, cell in results["cells"].items():
        model, loss, attack = key.split("/", 2)
        w.writerow(
            [
                cfg["table"],
                "ours",
                cfg["dataset"],
                model,
                loss,
                attack,
                cfg["objective"],
                f"{100 * cell['accuracy']:.2f}",
                cell["n"],
            ]
        )
    if cfg["table"] == "table1":
        for model, by_loss in paper["accuracy"].items():
            for loss, acc in by_loss.items():
                for attack, value in acc.items():
                    w.writerow(
                        [
                            "table1",
                            "paper (reported)",
                            paper["dataset"],
                            model,
                            loss,
                            attack,
                            "not stated",
                            value,
                            "",
                        ]
                    )
    else:
        for loss, acc in paper["accuracy"].items():
            for attack, value in acc.items():
                w.writerow(
                    [
                        "table2",
                        "paper (reported)",
                        paper["dataset"],
                        "not stated",
                        loss,
                        attack,
                        "not stated",
                        value,
                        "",
                    ]
                )
    return buf.getvalue()
