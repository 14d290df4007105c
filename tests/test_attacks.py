"""Attacks: parity with torchattacks, the eps-ball and [0, 1] constraints, model state untouched."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from msanalysis.attacks import APGD, BIM, FGSM, PGD, UPGD, family_objective, paper_attack
from msanalysis.attacks.apgd import checkpoints
from msanalysis.attacks.objectives import cross_entropy, dlr, margin, objective_name

try:
    import torchattacks
except ImportError:  # pragma: no cover - depends on the environment
    torchattacks = None
needs_ta = pytest.mark.skipif(
    torchattacks is None,
    reason=(
        "torchattacks (the reference implementation) is not installed: pip install --no-deps "
        "torchattacks"
    ),
)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model.eval()(x).argmax(1) == y).float().mean())


# -- parity with torchattacks on deterministic attacks ---------------------------------------

OURS_AND_THEIRS = [
    ("fgsm", lambda m: FGSM(m, eps=0.007), lambda m: torchattacks.FGSM(m, eps=0.007)),
    ("fgsm-default", lambda m: FGSM(m), lambda m: torchattacks.FGSM(m)),
    ("bim", lambda m: BIM(m), lambda m: torchattacks.BIM(m)),
    (
        "bim-steps0",
        lambda m: BIM(m, eps=4 / 255, steps=0),
        lambda m: torchattacks.BIM(m, eps=4 / 255, steps=0),
    ),
    (
        "pgd-no-start",
        lambda m: PGD(m, steps=7, random_start=False),
        lambda m: torchattacks.PGD(m, steps=7, random_start=False),
    ),
    ("upgd", lambda m: UPGD(m, steps=12), lambda m: torchattacks.UPGD(m, steps=12)),
    (
        "upgd-paper",
        lambda m: paper_attack("upgd", m),
        lambda m: torchattacks.UPGD(m, eps=8 / 255, alpha=2 / 255, steps=40),
    ),
    # torchattacks' PGD has no loss option; its UPGD without momentum is PGD: sign(g / mean|g|) =
    # sign g.
    (
        "pgd-dlr",
        lambda m: PGD(m, random_start=False, objective="dlr"),
        lambda m: torchattacks.UPGD(m, decay=0.0, loss="dlr"),
    ),
]


@needs_ta
@pytest.mark.parametrize("name,ours,theirs", OURS_AND_THEIRS, ids=[c[0] for c in OURS_AND_THEIRS])
def test_deterministic_attacks_match_torchattacks(tiny_cnn, batch, name, ours, theirs):
    model = tiny_cnn()
    x, y = batch()
    ref = theirs(model)(x, y)
    got = ours(model)(x, y)
    # Same images up to float rounding of the projection (an ulp or so of eps).
    assert torch.allclose(got, ref, atol=1e-6, rtol=0), float((got - ref).abs().max())
    assert accuracy(model, got, y) == accuracy(model, ref, y)


@needs_ta
def test_pgd_random_start_has_torchattacks_distribution(tiny_cnn):
    """steps=0 returns the start point: both draw x + U(-eps, eps), compared by a KS test."""
    from scipy.stats import ks_2samp

    model = tiny_cnn()
    x = torch.full((64, 1, 8, 8), 0.5)  # away from the [0, 1] clip
    y = torch.zeros(64, dtype=torch.long)
    eps = 8 / 255
    ours = (PGD(model, eps=eps, steps=0, seed=3)(x, y) - x).flatten()
    torch.manual_seed(4)  # torchattacks draws from the global generator
    theirs = (torchattacks.PGD(model, eps=eps, steps=0)(x, y) - x).flatten()
    assert ours.abs().max() <= eps and theirs.abs().max() <= eps
    assert ks_2samp(ours.numpy(), theirs.numpy()).pvalue > 1e-3
    # and both have the uniform law's variance eps^2/3, within 4 standard errors (var of U^2).
    for d in (ours, theirs):
        se = math.sqrt(4 / 45 * eps**4 / d.numel())
        assert abs(float(d.pow(2).mean()) - eps**2 / 3) < 4 * se


@needs_ta
@pytest.mark.parametrize(
    "ours,theirs",
    [
        (
            lambda m: PGD(m, eps=8 / 255, steps=10, seed=5),
            lambda m: torchattacks.PGD(m, eps=8 / 255, steps=10),
        ),
        (
            lambda m: APGD(m, eps=8 / 255, steps=20, seed=5),
            lambda m: torchattacks.APGD(m, eps=8 / 255, steps=20, seed=5),
        ),
        (
            lambda m: APGD(m, eps=8 / 255, steps=20, seed=5, objective="dlr"),
            lambda m: torchattacks.APGD(m, eps=8 / 255, steps=20, seed=5, loss="dlr"),
        ),
    ],
    ids=["pgd", "apgd-ce", "apgd-dlr"],
)
def test_random_start_attacks_agree_in_accuracy(tiny_cnn, batch, ours, theirs):
    """Robust accuracy on one batch agrees within the paired sampling error (3 SE + 1 sample)."""
    model = tiny_cnn().eval()
    x = batch(256)[0]
    with torch.no_grad():
        y = model(x).argmax(1)  # labels the model gets right, so the attack has work to do
    torch.manual_seed(6)
    adv_ours, adv_theirs = ours(model)(x, y), theirs(model)(x, y)
    with torch.no_grad():
        ok_ours = model.eval()(adv_ours).argmax(1) == y
        ok_theirs = model(adv_theirs).argmax(1) == y
    assert 0.1 < float(ok_ours.float().mean()) < 0.9, (
        "eps should leave a mid accuracy for this check to mean anything"
    )
    diff = ok_ours.float() - ok_theirs.float()
    se = float(diff.std()) / math.sqrt(len(diff))
    assert abs(float(diff.mean())) <= 3 * se + 1 / len(diff)


# -- constraints, for every attack and any eps ----------------------------------------------

ATTACKS = {
    "fgsm": lambda m, eps, o: FGSM(m, eps=eps, objective=o),
    "bim": lambda m, eps, o: BIM(m, eps=eps, steps=3, objective=o),
    "pgd": lambda m, eps, o: PGD(m, eps=eps, alpha=eps / 2, steps=3, seed=0, objective=o),
    "pgd-restarts": lambda m, eps, o: PGD(m, eps=eps, steps=2, restarts=2, seed=0, objective=o),
    "upgd": lambda m, eps, o: UPGD(m, eps=eps, steps=3, random_start=True, seed=0, objective=o),
    "apgd": lambda m, eps, o: APGD(m, eps=eps, steps=4, restarts=2, seed=0, objective=o),
}


@settings(max_examples=30, deadline=None)
@given(
    attack=st.sampled_from(sorted(ATTACKS)),
    eps=st.one_of(st.just(0.0), st.floats(1e-4, 0.5)),
    objective=st.sampled_from(["ce", "margin", "dlr", "loss:ms"]),
    seed=st.integers(0, 2**16),
    extremes=st.booleans(),
)
def test_adversarial_images_stay_in_eps_ball_and_unit_box(
    tiny_cnn, batch, attack, eps, objective, seed, extremes
):
    x, y = batch(8, seed)
    if extremes:  # pixels at 0 and 1 exercise the clip to [0, 1]
        x = x.round()
    obj = family_objective("ms", eta=1.5) if objective == "loss:ms" else objective
    adv = ATTACKS[attack](tiny_cnn(), eps, obj)(x, y)
    assert adv.shape == x.shape and adv.dtype == x.dtype
    assert float((adv - x).abs().max()) <= eps * (1 + 1e-6) + 1e-7
    assert float(adv.min()) >= 0 and float(adv.max()) <= 1


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_model_mode_restored_and_parameter_grads_untouched(tiny_cnn, batch, attack):
    model = tiny_cnn()
    model.train()
    model[3].eval()  # a mixed state must come back exactly
    modes = [m.training for m in model.modules()]
    x, y = batch(8)
    ATTACKS[attack](model, 8 / 255, "ce")(x, y)
    assert [m.training for m in model.modules()] == modes
    assert all(p.grad is None for p in model.parameters())


def test_upgd_zero_gradient_adds_nothing_to_the_momentum(tiny_cnn, batch):
    """Where the objective is flat, torchattacks' UPGD divides 0 by 0 and its NaN momentum
    freezes the sample for the rest of the run; ours adds a zero and keeps the momentum going."""
    model = tiny_cnn().eval()
    x, y = batch(16)
    atk = UPGD(model, steps=3)
    g = atk.gradient(x, y)[0]
    direction, memory = atk.direction(torch.zeros_like(g), None)
    assert torch.equal(direction, torch.zeros_like(g)) and torch.isfinite(memory).all()
    direction, _ = atk.direction(torch.zeros_like(g), atk.direction(g, None)[1])
    assert torch.equal(direction, g.sign())


def test_attack_uses_eval_mode(tiny_cnn, batch):
    """With dropout active the attack would be random; in eval mode two runs are identical."""
    model = tiny_cnn().train()
    x, y = batch(16)
    assert torch.equal(BIM(model, steps=3)(x, y), BIM(model, steps=3)(x, y))


def test_seeded_random_start_is_reproducible_without_global_state(tiny_cnn, batch):
    model = tiny_cnn()
    x, y = batch(16)
    torch.manual_seed(0)
    a = PGD(model, steps=2, seed=11)(x, y)
    torch.manual_seed(1)
    b = PGD(model, steps=2, seed=11)(x, y)
    c = PGD(model, steps=2, seed=12)(x, y)
    assert torch.equal(a, b) and not torch.equal(a, c)


# -- objectives ------------------------------------------------------------------------------


def test_objectives_agree_with_their_definitions():
    logits = torch.tensor([[2.0, -1.0, 0.5, -3.0], [-5.0, -4.0, -6.0, -7.0]])
    labels = torch.tensor([0, 2])
    # margin: max other - true; with all logits negative, the max is still over other classes.
    assert torch.allclose(margin(logits, labels), torch.tensor([0.5 - 2.0, -4.0 + 6.0]))
    # dlr = margin / (z_pi1 - z_pi3)
    assert torch.allclose(dlr(logits, labels), torch.tensor([-1.5 / 3.0, 2.0 / 2.0]))
    # the family's CE is torch's CE; MS adds eta (xi^2 + (1 - xi)^2)
    xi = torch.softmax(logits, 1).gather(1, labels[:, None]).squeeze(1)
    assert torch.allclose(family_objective("ce")(logits, labels), cross_entropy(logits, labels))
    ms = family_objective("ms", eta=1.5)
    assert torch.allclose(
        ms(logits, labels), cross_entropy(logits, labels) + 1.5 * (xi**2 + (1 - xi) ** 2)
    )
    assert objective_name(ms) == "loss:ms(eta=1.5)"


def test_dlr_is_invariant_to_shift_and_scale_of_logits():
    gen = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(32, 10, generator=gen), torch.randint(0, 10, (32,), generator=gen)
    assert torch.allclose(dlr(3.0 * logits + 7.0, labels), dlr(logits, labels), atol=1e-5)


def test_apgd_checkpoints_follow_croce_hein():
    # Croce & Hein 2020, Sec. 3.2: for N = 100 the checkpoints are 22, 41, 57, 70, 80, 87, 93, 99.
    assert sorted(checkpoints(100)) == [22, 41, 57, 70, 80, 87, 93, 99]


def test_stronger_attacks_never_help_the_model_on_the_tiny_cnn(tiny_cnn, batch):
    """More steps from the same start find at least what fewer steps found (per sample fooled)."""
    model = tiny_cnn()
    x, y = batch(128)
    acc = [
        accuracy(model, BIM(model, eps=2 / 255, alpha=0.5 / 255, steps=s)(x, y), y)
        for s in (1, 4, 16)
    ]
    assert acc[0] >= acc[1] >= acc[2] and acc[2] < accuracy(model, x, y)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda m: PGD(m, eps=-0.1), "eps must be"),
        (lambda m: PGD(m, eps=float("nan")), "eps must be"),
        (lambda m: PGD(m, steps=1.5), "steps must be"),
        (lambda m: PGD(m, restarts=0), "restarts must be"),
        (lambda m: APGD(m, rho=1.0), "rho must"),
        (lambda m: UPGD(m, decay=-1), "decay must"),
        (lambda m: PGD(m, objective="hinge"), "unknown objective 'hinge'"),
        (lambda m: paper_attack("cw", m), "unknown attack 'cw'"),
    ],
)
def test_bad_settings_are_named(tiny_cnn, make, match):
    with pytest.raises(ValueError, match=match):
        make(tiny_cnn())


@pytest.mark.parametrize(
    "images,labels,match",
    [
        (torch.rand(4, 1, 8, 8) * 2, torch.zeros(4, dtype=torch.long), r"lie in \[0, 1\]"),
        (torch.full((4, 1, 8, 8), float("nan")), torch.zeros(4, dtype=torch.long), "finite"),
        (torch.rand(4, 1, 8, 8), torch.zeros(3, dtype=torch.long), "shape"),
        (torch.rand(4, 1, 8, 8), torch.zeros(4), "int64"),
        (torch.rand(4, 1, 8, 8), torch.full((4,), 10), r"labels must lie in \[0, 10\)"),
        (torch.rand(4, 1, 8, 8), torch.full((4,), -1), "labels must be >= 0"),
    ],
)
def test_bad_batches_are_named(tiny_cnn, images, labels, match):
    with pytest.raises(ValueError, match=match):
        FGSM(tiny_cnn())(images, labels)


def test_objective_must_be_per_sample(tiny_cnn, batch):
    mean_loss = lambda logits, labels: cross_entropy(logits, labels).mean()  # noqa: E731
    with pytest.raises(ValueError, match="one loss per sample"):
        FGSM(tiny_cnn(), objective=mean_loss)(*batch(4))


def test_restarts_only_add_misclassified_samples(tiny_cnn, batch):
    """The first run is the single-run attack (same seed); restarts rerun still-robust samples."""
    model = tiny_cnn().eval()
    x = batch(128)[0]
    with torch.no_grad():
        y = model(x).argmax(1)
    one = PGD(model, eps=8 / 255, steps=3, seed=2)(x, y)
    many = PGD(model, eps=8 / 255, steps=3, seed=2, restarts=4)(x, y)
    with torch.no_grad():
        fooled_one, fooled_many = model(one).argmax(1) != y, model(many).argmax(1) != y
    assert bool((fooled_many | ~fooled_one).all())  # every sample fooled by one run stays fooled
    assert torch.equal(many[fooled_one], one[fooled_one])
