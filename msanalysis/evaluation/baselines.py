"""Table 2 with its baselines trained, not quoted: losses x seeds x Table 2's PGD rows.

Every (loss, seed) checkpoint ``RUNS/<dataset>-<model>-<loss>-s<seed>/best.pt`` is attacked
with Table 2's rows (:data:`~msanalysis.evaluation.tables.TABLE_ATTACKS`) once per objective:
``ce`` (what the paper's table uses) and the audit's ``margin`` and ``dlr``. An MMC or L-GM
model's logits are negative distances; the margin and DLR objectives attack their difference,
as Pang et al.'s adaptive attack on −logit_y does. The "worst case" of a row is robust
accuracy under all its objectives at once (a sample counts only if every attack fails).

Per-sample correctness is stored, so differences against CE are paired: within a seed on
the same test images, then a t-interval over seeds (:func:`paired_differences`). Each cell
is written to the results JSON as soon as it is done, so a killed run loses one cell, and
processes sharing the file merge their cells under a lock.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import torch

from ..paper import quoted_tables
from .tables import TABLE_ATTACKS, checkpoint_path

__all__ = [
    "BASELINE_LOSSES",
    "LABELS",
    "PAPER_NAMES",
    "run_baselines",
    "summarise_baselines",
    "paired_differences",
    "ranking_sentence",
    "to_markdown",
]

BASELINE_LOSSES: tuple[str, ...] = ("ce", "ms", "center", "lgm", "mmc")
#: How tables name each loss (SCE is the family's ce).
LABELS = {"ce": "SCE (ce)", "ms": "MS", "center": "Center loss", "lgm": "L-GM", "mmc": "MMC"}
#: The loss's key in the paper's quoted Table 2 (msanalysis/data/paper_tables.json).
PAPER_NAMES = {"ce": "sce", "ms": "ms", "center": "center-loss", "lgm": "l-dm", "mmc": "mmc"}
ROWS: tuple[str, ...] = tuple(TABLE_ATTACKS["table2"])


def _bits(ok: torch.Tensor) -> str:
    return "".join("1" if v else "0" for v in ok.tolist())


def _vector(bits: str) -> torch.Tensor:
    return torch.tensor([c == "1" for c in bits], dtype=torch.bool)


def run_baselines(
    *,
    runs: Path,
    dataset: str,
    model: str,
    losses: list[str],
    seeds: list[int],
    objectives: list[str],
    results_path: Path,
    limit: int | None = None,
    batch_size: int = 256,
    device: str = "auto",
    data_dir: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Attack every (loss, seed, row, objective) cell not yet in ``results_path``.

    Cells are keyed ``loss/s<seed>/<row>/<objective>`` (clean: ``loss/s<seed>/clean``) and
    hold the per-sample correctness as a '0'/'1' string. The attacks' random starts are
    seeded with the model's seed.

    Raises:
      ValueError: ``results_path`` holds results of other settings (use another file).
    """
    from tqdm.auto import tqdm

    from ..attacks.evaluate import correct_under
    from .robustness import load_target, write_json_atomic

    config = {"dataset": dataset, "model": model, "limit": limit, "rows": list(ROWS)}
    results: dict[str, Any] = {"config": config, "cells": {}, "missing": []}
    if results_path.exists():
        old = json.loads(results_path.read_text())
        if old.get("config") != config:
            raise ValueError(
                f"{results_path} holds results for {old.get('config')}, not {config}; "
                "choose another --out"
            )
        results["cells"] = old["cells"]
    for seed in seeds:
        for loss in losses:
            plan = {f"{loss}/s{seed}/clean": (None, None)}
            for row, factory in TABLE_ATTACKS["table2"].items():
                for obj in objectives:
                    plan[f"{loss}/s{seed}/{row}/{obj}"] = (factory, obj)
            todo = [k for k in plan if k not in results["cells"]]
            if not todo:
                continue
            path = checkpoint_path(runs, dataset, model, loss, seed)
            if not path.is_file():
                results["missing"].append(str(path))
                continue
            target = load_target(path, limit=limit, data_dir=data_dir, device=device)
            for key in todo:
                factory, obj = plan[key]
                attack = None if factory is None else factory(target.model, obj, seed)
                with tqdm(total=len(target.labels), desc=key, disable=not progress) as bar:
                    ok = correct_under(
                        target.model,
                        target.images,
                        target.labels,
                        attack,
                        batch_size=batch_size,
                        progress=bar.update,
                    )
                results["cells"][key] = {
                    "correct": _bits(ok),
                    "accuracy": float(ok.float().mean()),
                    "checkpoint": str(path),
                    "loss_params": target.loss_params,
                    "settings": attack.settings() if attack else {},
                }
                _merge_write(results_path, results, write_json_atomic)
    return results


def _merge_write(path: Path, results: dict[str, Any], write: Any) -> None:
    """Write ``results`` after adding the cells other processes wrote to ``path`` meanwhile.

    Several ``msanalysis baselines`` processes (say one per seed) may share one results file;
    an exclusive lock on a side file makes each read-merge-write atomic.
    """
    import fcntl

    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            theirs = json.loads(path.read_text())["cells"]
            results["cells"] = {**theirs, **results["cells"]}
        write(path, results)


def _correct(cells: dict[str, Any], loss: str, seed: int, row: str, objective: str):
    """(N,) correctness of one cell; objective 'worst' = all stored objectives of the row."""
    if row == "clean":
        cell = cells.get(f"{loss}/s{seed}/clean")
        return None if cell is None else _vector(cell["correct"])
    if objective != "worst":
        cell = cells.get(f"{loss}/s{seed}/{row}/{objective}")
        return None if cell is None else _vector(cell["correct"])
    keys = [f"{loss}/s{seed}/{row}/{o}" for o in _objectives(cells)]
    if not keys or any(k not in cells for k in keys):
        return None  # a worst case needs every objective of the table
    return torch.stack([_vector(cells[k]["correct"]) for k in keys]).all(0)


def _objectives(cells: dict[str, Any]) -> list[str]:
    """The attack objectives present in the results (keys end in /<objective>)."""
    return sorted({k.rsplit("/", 1)[1] for k in cells if not k.endswith("/clean")})


def paired_differences(
    model: list[torch.Tensor], reference: list[torch.Tensor]
) -> dict[str, float | None]:
    """Mean over seeds of the per-seed paired accuracy difference, with its 95% t-interval.

    Args:
      model, reference: per seed, (N,) correctness on the same N test images.

    Returns:
      ``diff`` (fraction), ``half_width`` of the t-interval over seeds (None for one seed),
      ``seeds``.
    """
    from scipy import stats

    per_seed = [
        float(a.double().mean() - b.double().mean()) for a, b in zip(model, reference, strict=True)
    ]
    mean = statistics.fmean(per_seed)
    if len(per_seed) < 2:
        return {"diff": mean, "half_width": None, "seeds": len(per_seed)}
    sem = statistics.stdev(per_seed) / math.sqrt(len(per_seed))
    half = float(stats.t.ppf(0.975, len(per_seed) - 1)) * sem
    return {"diff": mean, "half_width": half, "seeds": len(per_seed)}


def summarise_baselines(results: dict[str, Any], *, seeds: list[int]) -> list[dict[str, Any]]:
    """One row per (loss, attack row, objective in 'ce', 'worst'): mean, std, paired diff vs CE."""
    cells = results["cells"]
    losses = [n for n in BASELINE_LOSSES if any(k.startswith(f"{n}/") for k in cells)]
    losses += sorted({k.split("/")[0] for k in cells} - set(losses))
    out = []
    for loss in losses:
        for row in ("clean", *ROWS):
            for obj in ("ce",) if row == "clean" else ("ce", "worst"):
                got = {s: _correct(cells, loss, s, row, obj) for s in seeds}
                got = {s: v for s, v in got.items() if v is not None}
                if not got:
                    continue
                accs = [float(v.float().mean()) for v in got.values()]
                entry = {
                    "loss": loss,
                    "row": row,
                    "objective": obj,
                    "seeds": sorted(got),
                    "mean": statistics.fmean(accs),
                    "std": statistics.stdev(accs) if len(accs) > 1 else None,
                }
                ref = {s: _correct(cells, "ce", s, row, obj) for s in got}
                both = [s for s in got if ref[s] is not None and len(ref[s]) == len(got[s])]
                if loss != "ce" and both:
                    entry["vs_ce"] = paired_differences(
                        [got[s] for s in both], [ref[s] for s in both]
                    )
                out.append(entry)
    return out


def _ranking(summary: list[dict[str, Any]], row: str, objective: str) -> list[str]:
    means = {
        e["loss"]: e["mean"] for e in summary if e["row"] == row and e["objective"] == objective
    }
    return sorted(means, key=lambda name: -means[name])


def ranking_sentence(summary: list[dict[str, Any]], objective: str) -> str:
    """Whether the paper's order of the five losses holds in each row, computed from the means."""
    quoted = quoted_tables()["table2"]["accuracy"]
    same, rows_seen, ms_first = 0, 0, 0
    parts = []
    for row in ROWS:
        ours = [n for n in _ranking(summary, row, objective) if n in PAPER_NAMES]
        if len(ours) < 2:
            continue
        theirs = sorted(ours, key=lambda name: -quoted[PAPER_NAMES[name]][row])
        rows_seen += 1
        same += ours == theirs
        ms_first += bool(ours) and ours[0] == "ms"
        parts.append(
            f"{row}: ours {' > '.join(LABELS[n] for n in ours)}; "
            f"paper {' > '.join(LABELS[n] for n in theirs)}"
        )
    if not rows_seen:
        return "No row has two losses evaluated: no ranking to compare."
    verdict = "survives" if same == rows_seen else "does not survive"
    has_ms = any(e["loss"] == "ms" and e["objective"] == objective for e in summary)
    ms = f"MS first in {ms_first} of {rows_seen}" if has_ms else "MS not evaluated"
    return (
        f"Objective `{objective}`: the paper's ranking {verdict} (same order in {same} of "
        f"{rows_seen} rows; {ms}). " + "; ".join(parts) + "."
    )


def _pct(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return ""
    std = "" if entry["std"] is None else f" ± {100 * entry['std']:.2f}"
    return f"{100 * entry['mean']:.2f}{std}"


def _diff(entry: dict[str, Any] | None) -> str:
    if entry is None or "vs_ce" not in entry:
        return ""
    d = entry["vs_ce"]
    ci = "" if d["half_width"] is None else f" (±{100 * d['half_width']:.2f})"
    return f"{100 * d['diff']:+.2f}{ci}"


def to_markdown(results: dict[str, Any], *, seeds: list[int]) -> str:
    """The table (ours beside the paper's quoted column) and the ranking sentences."""
    summary = summarise_baselines(results, seeds=seeds)
    quoted = quoted_tables()["table2"]
    cfg = results["config"]
    objectives = _objectives(results["cells"])
    find = {(e["loss"], e["row"], e["objective"]): e for e in summary}
    n = sorted({len(c["correct"]) for c in results["cells"].values()})
    lines = [
        f"Table 2 with trained baselines: {cfg['dataset']}, {cfg['model']}, robust accuracy (%) "
        f"mean ± std over the seeds listed (of {', '.join(map(str, seeds))}), "
        f"n = {', '.join(map(str, n))} "
        f"test images per seed. Δ vs CE: paired difference in points (same images, per seed), "
        f"mean over seeds with its 95% t-interval over seeds. `ce`: PGD on cross-entropy; "
        f"`worst`: per-sample worst case over the objectives {', '.join(objectives)}.",
        "",
        "| loss | seeds | attack | acc, `ce` | Δ vs CE, `ce` | acc, `worst` | Δ vs CE, `worst` "
        "| paper (quoted, CIFAR-10) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for loss in dict.fromkeys(e["loss"] for e in summary):
        for row in ("clean", *ROWS):
            ce, worst = find.get((loss, row, "ce")), find.get((loss, row, "worst"))
            if ce is None and worst is None:
                continue
            paper = quoted["accuracy"].get(PAPER_NAMES.get(loss, ""), {}).get(row)
            cells = [_pct(ce), _diff(ce), _pct(worst), _diff(worst)]
            used = ",".join(map(str, (ce or worst)["seeds"]))
            lines.append(
                f"| {LABELS.get(loss, loss)} | {used} | {row} | "
                + " | ".join(cells)
                + f" | {'' if paper is None else f'{paper:.1f}'} |"
            )
    lines += [
        "",
        f"Paper's column: quoted, not rerun ({quoted['caption']}; {quoted['settings']}).",
        "",
        ranking_sentence(summary, "ce"),
        "",
        ranking_sentence(summary, "worst"),
    ]
    if results.get("missing"):
        lines += ["", "Missing checkpoints (cells left out): " + ", ".join(results["missing"])]
    return "\n".join(lines) + "\n"
