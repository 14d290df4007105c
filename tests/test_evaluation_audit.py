"""The masking audit: noise margins, verdicts computed from the numbers, a planted masked model."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from msanalysis.attacks.evaluate import correct_under, paired_noise_margin, unpaired_noise_margin
from msanalysis.evaluation.audit import AuditSettings, gradient_statistics, run_audit, summarise

SMALL = AuditSettings(
    steps=5,
    long_steps=10,
    restarts=2,
    apgd_steps=10,
    square_queries=20,
    sweep=(8, 255),
    sweep_steps=5,
)


class Scaled(nn.Module):
    """Logits times a large factor: float32 softmax saturates, CE input gradients become exactly 0.

    The decision function is unchanged, so its true robustness is the unscaled model's: any gain
    an attack reports on it is gradient masking by construction.
    """

    def __init__(self, model: nn.Module, factor: float) -> None:
        super().__init__()
        self.model, self.factor = model, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * self.model(x)


def test_paired_noise_margin_is_the_paired_standard_error():
    a = torch.tensor([1, 1, 0, 1, 0, 1, 1, 0], dtype=torch.bool)
    b = torch.tensor([1, 0, 0, 1, 1, 0, 1, 0], dtype=torch.bool)
    d = torch.tensor([0, 1, 0, 0, -1, 1, 0, 0], dtype=torch.float64)
    assert paired_noise_margin(a, b) == pytest.approx(1.96 * float(d.std()) / math.sqrt(8))
    assert paired_noise_margin(a, a) == 1 / 8  # identical results: one sample is the floor
    with pytest.raises(ValueError, match="equal-length"):
        paired_noise_margin(a, b[:4])


def test_unpaired_margin_adds_binomial_variances():
    assert unpaired_noise_margin(0.5, 0.5, 100) == pytest.approx(1.96 * math.sqrt(0.5 / 100))
    assert unpaired_noise_margin(1.0, 1.0, 50) == 1 / 50
    with pytest.raises(ValueError, match="n must be"):
        unpaired_noise_margin(0.5, 0.5, 0)


def test_correct_under_counts_robust_only_if_clean_correct(tiny_cnn, batch):
    model = tiny_cnn().eval()
    x, _ = batch(32)
    y = model(x).argmax(1)
    y[:5] = (y[:5] + 1) % 10  # five samples the model gets wrong
    identity = lambda images, labels: images  # noqa: E731 - an attack that changes nothing
    ok = correct_under(model, x, y, identity, batch_size=7)
    assert ok.tolist() == [False] * 5 + [True] * 27


def test_saturated_model_masks_ce_gradients_and_the_audit_says_so(tiny_cnn, batch):
    base = tiny_cnn().eval()
    masked = Scaled(base, 1e4).eval()
    x, _ = batch(64)
    with torch.no_grad():
        y = base(x).argmax(1)
    stats = gradient_statistics(masked, x, y)
    assert stats["zero_gradient_samples"] > 0.5 and stats["saturated_softmax"] > 0.5
    assert gradient_statistics(base, x, y)["zero_gradient_samples"] == 0
    report = summarise(run_audit(masked, x, y, SMALL, reference=base), SMALL)
    checks = {c["check"]: c["passed"] for c in report["checks"]["model"]}
    # PGD-CE is blind on the saturated model, the margin loss is not: the audit flags it ...
    assert not checks["pgd5-margin finds no more than PGD-CE (else PGD-CE overstates robustness)"]
    # ... and the "gain" over the same decision function disappears in the worst case.
    assert report["accuracy"]["model"]["pgd5-ce"] > report["accuracy"]["reference"]["pgd5-ce"]
    worst = next(r for r in report["rows"] if r["attack"] == "worst-case")
    assert not worst["gain_survives"]
    assert "does not survive" in report["verdict"]["worst-case"]


def test_summarise_decides_from_the_numbers():
    n = 400
    ones, zeros = torch.ones(n, dtype=torch.bool), torch.zeros(n, dtype=torch.bool)
    half = torch.arange(n) < n // 2
    names = [
        "clean",
        "pgd5-ce",
        "pgd10-ce",
        "pgd5-ce-x2",
        "pgd5-margin",
        "apgd10-ce",
        "apgd10-dlr",
        "pgd5-ce-on-probabilities",
        "sweep-eps8/255",
        "sweep-eps255/255",
    ]
    groups = dict(
        zip(
            names,
            [
                "clean",
                "white-box",
                "steps",
                "restarts",
                "white-box",
                "white-box",
                "white-box",
                "cheap",
                "sweep",
                "sweep",
            ],
            strict=True,
        )
    )
    model = {k: half for k in names} | {"clean": ones, "sweep-eps255/255": zeros}
    reference = {k: zeros for k in names} | {"clean": ones}
    report = summarise(
        {
            "correct": {"model": model, "reference": reference},
            "groups": groups,
            "gradient_statistics": {},
        },
        SMALL,
    )
    row = next(r for r in report["rows"] if r["attack"] == "pgd5-ce")
    assert row["gain"] == 0.5 and row["gain_survives"]
    assert row["noise_margin"] == pytest.approx(1.96 * float(half.double().std()) / math.sqrt(n))
    assert all(c["passed"] for c in report["checks"]["model"])


def test_missing_square_is_reported_as_skipped(tiny_cnn, batch, monkeypatch):
    import msanalysis.evaluation.audit as audit

    monkeypatch.setattr(audit, "_square", lambda model, s: None)  # as if torchattacks were absent
    model = tiny_cnn().eval()
    x, _ = batch(16)
    with torch.no_grad():
        y = model(x).argmax(1)
    report = summarise(run_audit(model, x, y, SMALL), SMALL)
    assert "torchattacks is not installed" in report["skipped"]["square"]
    assert not any(r["attack"].startswith("square") for r in report["rows"])


class DeviceGuard(nn.Module):
    """Records the device of every batch it is given, then runs a linear layer on it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.seen: list[torch.device] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.device)
        return self.linear(x.flatten(1))


def test_gradient_statistics_moves_batches_to_the_models_device():
    """A model on another device than its images (a GPU model, CPU images: the audit's last
    step once crashed there). 'meta' stands in for the GPU on a CPU-only machine: the batch
    must reach the model on the model's device; the run then stops where meta tensors have no
    values (reading a label), past the forward pass that a device mismatch would have failed."""
    guard = DeviceGuard().to("meta")
    images, labels = torch.rand(6, 1, 2, 2), torch.randint(0, 3, (6,))
    with pytest.raises(RuntimeError, match="meta tensors"):
        gradient_statistics(guard, images, labels, batch_size=4)
    assert guard.seen == [torch.device("meta")]
    cpu = DeviceGuard()
    stats = gradient_statistics(cpu, images, labels, batch_size=4)
    assert cpu.seen == [torch.device("cpu")] * 2 and 0 < stats["mean_true_probability"] < 1
