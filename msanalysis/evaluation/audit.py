"""Gradient-masking audit: does a model's robustness gain survive stronger and different attacks?

The checks follow Carlini et al. 2019 ("On evaluating adversarial robustness", Sec. 5) and
AutoAttack (Croce & Hein 2020): accuracy must fall to zero as eps grows; more steps and
random restarts must not help the model; a margin loss and APGD-CE/DLR must not find much
more than PGD-CE; a black-box attack (Square) or a transfer attack from a standard model
must not beat the white-box attack; and the cheap ones: how many input gradients are exactly
zero, how many softmax outputs are saturated, and whether attacking the probabilities as if
they were logits finds more.

Each check is decided from the numbers. With a reference (CE) model, the "gain" under an
attack is acc(model) - acc(reference) on the same images; it survives iff it exceeds the
paired 95% noise margin (:func:`msanalysis.attacks.evaluate.paired_noise_margin`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import torch
from torch import nn

from ..attacks import APGD, EPS, PGD, Objective
from ..attacks.evaluate import correct_under, paired_noise_margin
from ..training.models import eval_mode
from .robustness import describe_loss

__all__ = [
    "AuditSettings",
    "format_report",
    "SoftmaxOutput",
    "gradient_statistics",
    "audit_attacks",
    "run_audit",
    "summarise",
]

AttackFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SQUARE_MISSING = (
    "black-box Square attack skipped: torchattacks is not installed "
    "(pip install --no-deps torchattacks)"
)


@dataclass(frozen=True)
class AuditSettings:
    """Budgets of the audit (defaults sized for a CPU and the small CNN)."""

    eps: float = EPS
    steps: int = 40
    long_steps: int = 100
    restarts: int = 5
    apgd_steps: int = 100
    square_queries: int = 1000
    sweep: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 255)  # eps x 255
    sweep_steps: int = 20
    seed: int = 0
    #: accuracy that counts as "fallen to ~zero" at eps = 1 (the whole image box: a working
    #: attack reaches 0).
    zero_accuracy: float = 0.01


class SoftmaxOutput(nn.Module):
    """A model whose outputs are its softmax probabilities (the 'probabilities fed as logits'
    check)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=1)


def gradient_statistics(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int = 256,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Cheap masking signs at the clean images, for the CE objective.

    Each batch is moved to ``device`` (default: the model's), as
    :func:`~msanalysis.attacks.evaluate.correct_under` does, so images on the CPU and a model
    on a GPU work; the counts are summed on that device and read once at the end.

    Returns:
      zero_gradient_samples: fraction of samples whose input gradient is exactly zero everywhere;
      zero_gradient_entries: fraction of input-gradient entries exactly zero;
      saturated_softmax: fraction of samples whose float32 max softmax probability is exactly 1;
      mean_true_probability: mean softmax probability of the true class.
    """
    pgd = PGD(model, steps=0, random_start=False)  # only for its gradient helper
    device = device or next(model.parameters()).device
    sums = torch.zeros(4, dtype=torch.float64, device=device)
    with eval_mode(model), torch.enable_grad():
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size].to(device)
            y = labels[start : start + batch_size].to(device)
            grad, _, logits = pgd.gradient(x, y)
            flat = grad.flatten(1) == 0
            p = torch.softmax(logits, 1)
            sums += torch.stack(
                [
                    flat.all(1).sum(),
                    flat.float().mean(1).sum(),
                    (p.amax(1) == 1).sum(),
                    p.gather(1, y[:, None]).sum(),
                ]
            ).double()
    zero_samples, zero_entries, saturated, prob = sums.tolist()
    n = len(images)
    return {
        "zero_gradient_samples": zero_samples / n,
        "zero_gradient_entries": zero_entries / n,
        "saturated_softmax": saturated / n,
        "mean_true_probability": prob / n,
    }


def audit_attacks(
    model: nn.Module,
    s: AuditSettings,
    *,
    reference: nn.Module | None = None,
    training_loss: Objective | None = None,
) -> dict[str, tuple[str, AttackFn]]:
    """name -> (group, attack) of every attack the audit runs on ``model``.

    ``training_loss``: the model's own training loss; PGD ascending it is what an evaluation
    that reuses the training criterion in the attack would report.
    """
    pgd = lambda m, **kw: PGD(m, **{"eps": s.eps, "steps": s.steps, "seed": s.seed, **kw})  # noqa: E731
    out: dict[str, tuple[str, AttackFn]] = {
        f"pgd{s.steps}-ce": ("white-box", pgd(model)),
        f"pgd{s.long_steps}-ce": ("steps", pgd(model, steps=s.long_steps)),
        f"pgd{s.steps}-ce-x{s.restarts}": ("restarts", pgd(model, restarts=s.restarts)),
        f"pgd{s.steps}-margin": ("white-box", pgd(model, objective="margin")),
        f"apgd{s.apgd_steps}-ce": (
            "white-box",
            APGD(model, eps=s.eps, steps=s.apgd_steps, seed=s.seed),
        ),
        f"apgd{s.apgd_steps}-dlr": (
            "white-box",
            APGD(model, eps=s.eps, steps=s.apgd_steps, seed=s.seed, objective="dlr"),
        ),
        # crafted on the softmax outputs as if they were logits, evaluated on the model itself
        f"pgd{s.steps}-ce-on-probabilities": ("cheap", pgd(SoftmaxOutput(model))),
    }
    if training_loss is not None:
        out[f"pgd{s.steps}-own-training-loss"] = ("objective", pgd(model, objective=training_loss))
    square = _square(model, s)
    if square is not None:
        out[f"square{s.square_queries}"] = ("black-box", square)
    if reference is not None:
        out[f"transfer-pgd{s.steps}-ce-from-reference"] = ("transfer", pgd(reference))
    for e in s.sweep:
        eps = e / 255
        out[f"sweep-eps{e}/255"] = (
            "sweep",
            PGD(model, eps=eps, alpha=2.5 * eps / s.sweep_steps, steps=s.sweep_steps, seed=s.seed),
        )
    return out


def _square(model: nn.Module, s: AuditSettings) -> AttackFn | None:
    """torchattacks' Square attack (Andriushchenko et al. 2020), or None when not installed."""
    try:
        import torchattacks
    except ImportError:
        return None
    # torchattacks seeds torch's global generator with `seed` inside the attack (its design).
    return torchattacks.Square(
        model, eps=s.eps, n_queries=s.square_queries, n_restarts=1, seed=s.seed, loss="margin"
    )


def run_audit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    s: AuditSettings,
    *,
    reference: nn.Module | None = None,
    training_losses: dict[str, Objective] | None = None,
    batch_size: int = 256,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Per-sample correctness of the model (and the reference) under every audit attack.

    ``training_losses``: role ('model', 'reference') -> that model's training loss, for the
    "own training loss as the attack objective" row.
    """
    models = {"model": model} if reference is None else {"model": model, "reference": reference}
    correct: dict[str, dict[str, torch.Tensor]] = {}
    groups: dict[str, str] = {"clean": "clean"}
    for role, m in models.items():
        other = reference if role == "model" else None
        own = (training_losses or {}).get(role)
        plan = {"clean": ("clean", None), **audit_attacks(m, s, reference=other, training_loss=own)}
        correct[role] = {}
        for name, (group, attack) in plan.items():
            groups.setdefault(name, group)
            tick = (lambda k, r=role, n=name: progress(f"{r}:{n}", k)) if progress else None
            correct[role][name] = correct_under(
                m, images, labels, attack, batch_size=batch_size, progress=tick
            )
    stats = {
        role: gradient_statistics(m, images, labels, batch_size=batch_size)
        for role, m in models.items()
    }
    skipped = {} if any(g == "black-box" for g in groups.values()) else {"square": SQUARE_MISSING}
    return {"correct": correct, "groups": groups, "gradient_statistics": stats, "skipped": skipped}


def _worst_case(correct: dict[str, torch.Tensor], groups: dict[str, str]) -> torch.Tensor:
    """Robust under every eps-budget attack (AutoAttack's per-sample worst case)."""
    names = [n for n, g in groups.items() if g not in ("sweep",) and n in correct]
    return torch.stack([correct[n] for n in names]).all(0)


def summarise(run: dict[str, Any], s: AuditSettings) -> dict[str, Any]:
    """Accuracies, gains with noise margins, and each check's verdict, all computed from ``run``."""
    correct, groups = run["correct"], run["groups"]
    for role in correct:
        correct[role]["worst-case"] = _worst_case(correct[role], groups)
    groups["worst-case"] = "worst-case"
    acc = {role: {n: float(v.float().mean()) for n, v in c.items()} for role, c in correct.items()}
    base = f"pgd{s.steps}-ce"
    rows = []
    for name in correct["model"]:
        row = {"attack": name, "group": groups[name], "model": acc["model"][name]}
        # A transfer attack has no like-for-like number on the reference (there it is
        # white-box): no gain.
        if "reference" in correct and name in correct["reference"]:
            a, b = correct["model"][name], correct["reference"][name]
            gain, margin = float(a.float().mean() - b.float().mean()), paired_noise_margin(a, b)
            row.update(
                reference=acc["reference"][name],
                gain=gain,
                noise_margin=margin,
                gain_survives=gain > margin,
            )
        rows.append(row)
    checks = {role: _checks(acc[role], correct[role], s) for role in correct}
    verdict = {
        r["attack"]: _verdict(r)
        for r in rows
        if r["attack"] in (base, "worst-case") and "gain" in r
    }
    return {
        "rows": rows,
        "verdict": verdict,
        "checks": checks,
        "accuracy": acc,
        "gradient_statistics": run["gradient_statistics"],
        "skipped": run.get("skipped", {}),
    }


def _verdict(row: dict[str, Any]) -> str:
    """One sentence, from the numbers, on whether the gain over the reference survives
    ``row``'s attack."""
    word = "survives" if row["gain_survives"] else "does not survive"
    return (
        f"gain {100 * row['gain']:+.2f} points (model {100 * row['model']:.2f}% vs reference "
        f"{100 * row['reference']:.2f}%, 95% noise margin {100 * row['noise_margin']:.2f}): {word}"
    )


def _checks(
    acc: dict[str, float], correct: dict[str, torch.Tensor], s: AuditSettings
) -> list[dict[str, Any]]:
    """Sanity checks of the evaluation of one model, each with the numbers that decide it."""
    base = f"pgd{s.steps}-ce"
    m = lambda name: paired_noise_margin(correct[name], correct[base])  # noqa: E731
    sweep = [acc[f"sweep-eps{e}/255"] for e in s.sweep]
    white = min(
        acc[n] for n in acc if n.startswith(("pgd", "apgd")) and not n.endswith("probabilities")
    )
    checks = [
        {
            "check": "accuracy falls to ~0 as eps grows",
            "passed": sweep[-1] <= s.zero_accuracy,
            "numbers": f"acc at eps={s.sweep[-1]}/255: {sweep[-1]:.4f} "
            f"(threshold {s.zero_accuracy})",
        },
        {
            "check": "accuracy non-increasing in eps",
            "passed": all(b <= a + 1 / len(correct[base]) for a, b in pairwise(sweep)),
            "numbers": ", ".join(f"{e}:{a:.3f}" for e, a in zip(s.sweep, sweep, strict=True)),
        },
        {
            "check": f"more steps ({s.long_steps}) do not help the model",
            "passed": acc[f"pgd{s.long_steps}-ce"] <= acc[base] + m(f"pgd{s.long_steps}-ce"),
            "numbers": f"{acc[base]:.4f} -> {acc[f'pgd{s.long_steps}-ce']:.4f}",
        },
        {
            "check": f"{s.restarts} random restarts find little more than one run",
            "passed": acc[base] - acc[f"pgd{s.steps}-ce-x{s.restarts}"]
            <= m(f"pgd{s.steps}-ce-x{s.restarts}"),
            "numbers": f"{acc[base]:.4f} -> {acc[f'pgd{s.steps}-ce-x{s.restarts}']:.4f}",
        },
    ]
    for other in (
        f"pgd{s.steps}-margin",
        f"apgd{s.apgd_steps}-ce",
        f"apgd{s.apgd_steps}-dlr",
        f"pgd{s.steps}-ce-on-probabilities",
    ):
        checks.append(
            {
                "check": f"{other} finds no more than PGD-CE (else PGD-CE overstates robustness)",
                "passed": acc[base] - acc[other] <= m(other),
                "numbers": f"{acc[base]:.4f} vs {acc[other]:.4f} (margin {m(other):.4f})",
            }
        )
    for other in [n for n in acc if n.startswith(("square", "transfer"))]:
        checks.append(
            {
                "check": f"{other} does not beat the best white-box attack",
                "passed": acc[other] >= white - m(other),
                "numbers": f"{acc[other]:.4f} vs white-box {white:.4f}",
            }
        )
    return checks


def format_report(report: dict[str, Any]) -> str:
    """The audit as text: a table of accuracies and gains, the verdicts, checks and statistics.

    One formatter for the ``audit`` command and lesson 5, so both show the same report.

    Args:
      report: what :func:`summarise` returns; with ``model`` (a checkpoint's description:
        checkpoint, dataset, model, loss, loss_params, n) and ``reference`` (its path or None)
        added, as the command does, the text starts with a line naming them.

    Returns:
      The report, lines joined by newlines, no trailing newline.
    """
    lines = []
    if "model" in report:
        m = report["model"]
        lines.append(
            f"audit of {m['checkpoint']} ({m['dataset']} {m['model']}, "
            f"loss {describe_loss(m['loss'], m['loss_params'])}), n={m['n']}"
            + (f"; reference {report['reference']}" if report.get("reference") else "")
        )
    lines.append(
        f"{'attack':36} {'group':10} {'model %':>8} {'ref %':>8} {'gain':>7} {'margin':>7}  gain "
        "survives?"
    )
    for r in report["rows"]:
        line = f"{r['attack']:36} {r['group']:10} {100 * r['model']:8.2f}"
        if "gain" in r:
            line += (
                f" {100 * r['reference']:8.2f} {100 * r['gain']:7.2f} "
                f"{100 * r['noise_margin']:7.2f}  {'yes' if r['gain_survives'] else 'NO'}"
            )
        lines.append(line)
    for name, sentence in report["verdict"].items():
        lines.append(f"\nverdict under {name}: {sentence}")
    for role, checks in report["checks"].items():
        lines.append(f"\nsanity checks of the evaluation ({role}):")
        for c in checks:
            lines.append(f"  [{'pass' if c['passed'] else 'FAIL'}] {c['check']}: {c['numbers']}")
    for reason in report["skipped"].values():
        lines.append(f"\n{reason}")
    lines.append("\ngradient statistics at the clean images (CE objective):")
    for role, stats in report["gradient_statistics"].items():
        lines.append(f"  {role}: " + ", ".join(f"{k}={v:.4f}" for k, v in stats.items()))
    return "\n".join(lines)
