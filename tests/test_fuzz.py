"""Fuzzing: family losses, attacks, the data readers and checkpoints on drawn inputs.

Each test draws its share of the hypothesis profile's ``max_examples``: a few dozen inputs in
CI, over 100,000 in all with ``MSANALYSIS_FUZZ=long`` (tests/conftest.py; the run and what it
found are in docs/reliability-fuzzing.md). Inputs are drawn as seeds and sizes, the tensors
made from them with numpy, which keeps K = 1000 logits cheap to draw.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

from msanalysis.attacks import APGD, BIM, FGSM, PGD, UPGD, family_objective
from msanalysis.errors import InputError
from msanalysis.training.checkpoint import save_checkpoint
from msanalysis.training.data import read_cifar_batch, read_idx
from msanalysis.training.losses import (
    FamilyLoss,
    StationaryTransform,
    ThresholdWarning,
    true_class_from_logits,
)
from msanalysis.training.train import TrainConfig, build_network, load_checkpoint


def share(weight: float, **kw: object) -> settings:
    """``weight`` times the loaded profile's max_examples (at least 5) for one test."""
    return settings(max_examples=max(5, round(settings.default.max_examples * weight)), **kw)


TMP = Path(tempfile.mkdtemp(prefix="msanalysis-fuzz-"))  # one folder: no fixture per example
COUNTS: dict[str, int] = {}


def _count(test: str) -> None:
    """Count drawn inputs into $MSANALYSIS_FUZZ_COUNTS (JSON, every 100), for the long run."""
    COUNTS[test] = COUNTS.get(test, 0) + 1
    if os.environ.get("MSANALYSIS_FUZZ_COUNTS") and COUNTS[test] % 100 == 0:
        Path(os.environ["MSANALYSIS_FUZZ_COUNTS"]).write_text(json.dumps(COUNTS))


# ------------------------------------------------------------------ family losses

# Hyper-parameters from a grid: each new value costs a sympy derivation (cached per value).
ETAS, GAMMAS = (
    st.sampled_from([0.01, 0.4, 1.5, 3.0, 10.0]),
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 5.0]),
)
ALPHAS, LAMS = st.sampled_from([0.25, 1.0]), st.sampled_from([0.3, 1.0, 5.0])
LOSS = st.one_of(
    st.just(("ce", {})),
    st.builds(lambda a, g: ("focal", {"alpha": a, "gamma": g}), ALPHAS, GAMMAS),
    st.builds(lambda e: ("ms", {"eta": e}), ETAS),
    st.builds(
        lambda e, a, g: ("ms-focal", {"eta": e, "alpha": a, "gamma": g}), ETAS, ALPHAS, GAMMAS
    ),
    st.builds(lambda e: ("centred-ce", {"eta": e}), ETAS),
    st.builds(lambda lam: ("spectral-decoupling", {"lam": lam}), LAMS),
    st.builds(lambda e, g: ("focal+stationary", {"eta": e, "gamma": g}), ETAS, GAMMAS),
)
DTYPES = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16}


def _make_loss(name: str, params: dict, **kw: object) -> FamilyLoss:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThresholdWarning)  # small η is a valid input here
        if name == "focal+stationary":
            p = dict(params)
            return StationaryTransform("focal", eta=p.pop("eta"), **p, **kw)
        return FamilyLoss(name, **params, **kw)


def _value_and_grad(loss_fn: FamilyLoss, logits: torch.Tensor, target: torch.Tensor):
    x = logits.clone().requires_grad_(True)
    value = loss_fn(x, target)
    (grad,) = torch.autograd.grad(value, x, torch.ones_like(value))
    return value, grad


@share(1.0)
@given(
    loss=LOSS,
    k=st.integers(2, 1000),
    n=st.integers(1, 8),
    dtype=st.sampled_from(sorted(DTYPES)),
    scale=st.sampled_from([1.0, 30.0, 1e3, 1e4]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
@example(("ce", {}), 2, 2, "float64", 30.0, "mean", False, 632883)  # autograd's a - ξa
@example(("spectral-decoupling", {"lam": 0.3}), 2, 3, "float32", 1e4, "mean", False, 2)  # tie
@example(("spectral-decoupling", {"lam": 1.0}), 2, 2, "float32", 1e3, "mean", False, 92)  # z ± ulp
def test_fuzz_family_loss_fused_and_unfused(loss, k, n, dtype, scale, reduction, weighted, seed):
    _count("losses")
    name, params = loss
    k = 2 if name == "spectral-decoupling" else k
    rng = np.random.default_rng(seed)
    logits = torch.tensor(np.clip(rng.standard_normal((n, k)) * scale, -1e4, 1e4))
    logits[0, rng.integers(k)] = float(rng.choice([-1e4, 1e4]))  # one extreme logit per batch
    logits = logits.to(DTYPES[dtype])
    target = torch.tensor(rng.integers(0, k, n))
    weight = torch.tensor(rng.uniform(0.1, 2, k), dtype=torch.float32) if weighted else None
    kw = {"reduction": reduction, "weight": weight}
    fused_value, fused_grad = _value_and_grad(_make_loss(name, params, **kw), logits, target)
    plain_value, plain_grad = _value_and_grad(
        _make_loss(name, params, fused=False, **kw), logits, target
    )
    expected_shape = (n,) if reduction == "none" else ()
    for value, grad in ((fused_value, fused_grad), (plain_value, plain_grad)):
        assert value.shape == expected_shape and grad.shape == logits.shape
        assert grad.dtype == logits.dtype and value.dtype in (torch.float32, torch.float64)
        assert torch.isfinite(value).all() and torch.isfinite(grad).all()
    # Row i of the gradient is g_i·a_i·(e_y - p) with a = ξℓ'(ξ) and g_i = dL/dℓ_i. The true
    # class gets (1 - ξ)·a (fused) or a - ξ·a (autograd): both within a few ulp of |g_i a_i|,
    # the second not relative to its own size where ξ is near 1. Values differ by the rounding
    # of log ξ (a few ulp of 1 + log K), times |g_i|(1 + |a_i|). 64 ulp of each; bf16 gradients
    # are rounded to its 8-bit mantissa (2^-8) on top.
    eps = torch.finfo(fused_value.dtype).eps
    g_a, g_1a = _row_scales(_make_loss(name, params, **kw), logits, target)
    value_tol = 64 * eps * (1 + math.log(k)) * g_1a
    assert float((fused_value - plain_value).detach().abs().sum()) <= float(
        value_tol.sum()
    ) + 64 * eps * float(plain_value.detach().abs().sum())
    grad_eps = 2**-8 if dtype == "bfloat16" else eps
    diff = (fused_grad.double() - plain_grad.double()).abs()
    allowed = 64 * grad_eps * (g_a.unsqueeze(-1) + plain_grad.double().abs())
    if name == "spectral-decoupling":  # a depends on z = log ξ - log(1 - ξ), which both paths
        allowed *= 1 + float(logits.abs().max())  # take from logsumexps: eps·max|o| absolute
    assert bool((diff <= allowed).all()), float((diff - allowed).max())


def _row_scales(loss_fn: FamilyLoss, logits: torch.Tensor, target: torch.Tensor):
    """|g_i a_i| and |g_i|(1 + |a_i|) per row, a = ξℓ'(ξ) (float64), g_i = dL/dℓ_i."""
    t = true_class_from_logits(logits.double(), target)
    a = -loss_fn._derivative.coefficients(t)[0]
    w = torch.ones_like(a) if loss_fn.weight is None else loss_fn.weight.double()[target]
    g = w / w.sum() if loss_fn.reduction == "mean" else w
    return (g * a).abs(), g.abs() * (1 + a.abs())


# ------------------------------------------------------------------ attacks


def _model(shape: tuple[int, ...], k: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)  # the fuzzed model's weights; the attacks use their own generators
    return nn.Sequential(
        nn.Conv2d(shape[0], 3, 3, padding=1),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(3 * shape[1] * shape[2], k),
    )


ATTACKS = {
    "fgsm": lambda m, eps, o: FGSM(m, eps=eps, objective=o),
    "bim": lambda m, eps, o: BIM(m, eps=eps, steps=2, objective=o),
    "pgd": lambda m, eps, o: PGD(
        m, eps=eps, alpha=eps / 3, steps=2, restarts=2, seed=0, objective=o
    ),
    "upgd": lambda m, eps, o: UPGD(m, eps=eps, steps=2, random_start=True, seed=0, objective=o),
    "apgd": lambda m, eps, o: APGD(m, eps=eps, steps=3, seed=0, objective=o),
}
OBJECTIVES = ["ce", "margin", "dlr", "ms", "ms-focal", "focal"]


@share(0.25)
@given(
    attack=st.sampled_from(sorted(ATTACKS)),
    eps=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
    objective=st.sampled_from(OBJECTIVES),
    shape=st.sampled_from([(1, 4, 4), (3, 5, 3), (2, 2, 6)]),
    n=st.integers(1, 6),
    k=st.integers(3, 12),
    pixels=st.sampled_from(["uniform", "binary", "constant"]),
    bad_labels=st.sampled_from([None, "range", "length", "dtype"]),
    seed=st.integers(0, 2**16),
)
def test_fuzz_attacks_stay_in_the_eps_ball_and_the_unit_box(
    attack, eps, objective, shape, n, k, pixels, bad_labels, seed
):
    _count("attacks")
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *shape, generator=gen)
    x = {"uniform": x, "binary": x.round(), "constant": torch.full_like(x, 0.5)}[pixels]
    y = torch.randint(0, k, (n,), generator=gen)
    obj = family_objective(objective) if objective in ("ms", "ms-focal", "focal") else objective
    atk = ATTACKS[attack](_model(shape, k, seed), eps, obj)
    if bad_labels is not None:
        y = {"range": y + k, "length": y[:-1] if n > 1 else y[:0], "dtype": y.float()}[bad_labels]
        with pytest.raises(ValueError):
            atk(x, y)
        return
    x_before, y_before = x.clone(), y.clone()
    adv = atk(x, y)
    assert torch.equal(x, x_before) and torch.equal(y, y_before)  # inputs untouched
    assert adv.shape == x.shape and adv.dtype == x.dtype and torch.isfinite(adv).all()
    assert float((adv - x).abs().max()) <= eps * (1 + 1e-6) + 1e-7
    assert float(adv.min()) >= 0 and float(adv.max()) <= 1


# ------------------------------------------------------------------ data readers


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def _damage(data: bytes, how: str, at: int, value: int) -> bytes:
    """Truncate, flip one byte, or overwrite 4 bytes (a size field) with a large number."""
    at = at % (len(data) + 1)
    if how == "truncate":
        return data[:at]
    if how == "flip" and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ (value & 0xFF or 1)]) + data[at + 1 :]
    return data[:at] + value.to_bytes(4, "big") + data[at + 4 :]


DAMAGE = st.tuples(
    st.sampled_from(["truncate", "flip", "overwrite"]),
    st.integers(0, 10_000),
    st.integers(0, 2**32 - 1),
)


@share(0.7)
@given(
    source=st.one_of(
        st.binary(max_size=2048),
        st.tuples(st.integers(0, 4), st.integers(1, 8), DAMAGE),
    ),
    magic=st.sampled_from([0x801, 0x803]),
    gz=st.booleans(),
)
@example((1, 1, ("overwrite", 4, 2**32 - 1)), 0x803, False)  # sizes whose product passes 2**63
def test_fuzz_idx_reader_gives_an_array_or_a_clear_error(source, magic, gz):
    _count("idx")
    if isinstance(source, bytes):
        data = source
    else:
        n, side, damage = source
        dims = (n,) if magic == 0x801 else (n, side, side)
        data = _damage(
            _idx_bytes(np.arange(math.prod(dims), dtype=np.uint8).reshape(dims)), *damage
        )
    path = TMP / ("file.gz" if gz else "file")
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    try:
        array = read_idx(path, magic=magic)
    except InputError as err:
        assert str(path) in str(err) and "\n" not in str(err)
        return
    assert array.dtype == np.uint8 and array.ndim == (magic & 0xFF)
    assert array.nbytes == len(data) - 4 - 4 * array.ndim


def _cifar_like(rng: np.random.Generator, variant: str) -> object:
    n = int(rng.integers(0, 4))
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels: object = rng.integers(0, 10, n).tolist()
    if variant == "labels":
        labels = rng.choice(
            np.array([["a"] * n, [1e300] * n, [2**70] * n, [[1, 2]] * n, [None] * n], dtype=object)
        ).tolist()
    elif variant == "data":
        data = rng.choice(
            np.array([data.astype(np.float32), data[:, :100], data.reshape(-1), "x"], dtype=object)
        )
    elif variant == "keys":
        return {b"data": data} if rng.integers(2) else [data, labels]
    return {b"data": data, b"labels": labels, b"batch_label": b"fuzz"}


@share(0.7)
@given(
    source=st.one_of(
        st.binary(max_size=2048),
        st.tuples(
            st.sampled_from(["valid", "labels", "data", "keys"]), st.integers(0, 2**16), DAMAGE
        ),
        st.tuples(st.sampled_from(["valid", "labels", "data", "keys"]), st.integers(0, 2**16)),
    ),
)
@example(b"\x8d\x00\x00\x00\x00\x00\x00\x00\x80")  # BINUNICODE8 past the address space
@example(b"\x8d\x00\x00\x00\x00\x00\x00\x00\x01")  # a 2**56-byte string: MemoryError
@example(b"P")  # persistent id: an error message of two lines
@example(("labels", 1))  # labels that are not integers
def test_fuzz_cifar_reader_gives_a_batch_or_a_clear_error(source):
    _count("cifar")
    if isinstance(source, bytes):
        data = source
    else:
        data = pickle.dumps(_cifar_like(np.random.default_rng(source[1]), source[0]), protocol=2)
        if len(source) == 3:
            data = _damage(data, *source[2])
    path = TMP / "data_batch_1"
    path.write_bytes(data)
    try:
        images, labels = read_cifar_batch(path)
    except InputError as err:
        assert str(path) in str(err) and "\n" not in str(err)
        return
    assert images.dtype == np.uint8 and images.shape[1:] == (3, 32, 32)
    assert labels.dtype == np.int64 and labels.shape == (images.shape[0],)


# ------------------------------------------------------------------ checkpoints

CONFIG = TrainConfig(
    dataset="fashion-mnist", model="small-cnn", loss="ms", loss_params={"eta": 1.5}
)
OTHER = TrainConfig(dataset="fashion-mnist", model="mlp", loss="ce")


def _checkpoint(config: TrainConfig, model_of: TrainConfig) -> dict:
    torch.manual_seed(0)
    model = build_network(model_of)
    return {
        "config": dict(vars(config)),
        "model": model.state_dict(),
        "epoch": 1,
        "metrics": [],
        "best": {"epoch": 1, "test_accuracy": 0.5},
    }


def _saved(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


VALID = _checkpoint(CONFIG, CONFIG)
CASES = {
    "valid": lambda: VALID,
    "another model's weights": lambda: _checkpoint(CONFIG, OTHER),
    "not a dict": lambda: [1, 2, 3],
    "a tensor": lambda: torch.zeros(3),
    "config of the wrong type": lambda: {**VALID, "config": "small-cnn"},
    "config missing a field": lambda: {**VALID, "config": {"model": "small-cnn"}},
    "unknown model": lambda: {**VALID, "config": {**VALID["config"], "model": "nope"}},
    "weights of the wrong type": lambda: {**VALID, "model": [1.0]},
    "no metrics": lambda: {k: v for k, v in VALID.items() if k != "metrics"},
}
SAVED = {}


def _saved_case(case: str) -> bytes:
    """The case as save_checkpoint writes it (a dict), or as torch.save writes anything else."""
    if case not in SAVED:
        obj, path = CASES[case](), TMP / "case.pt"
        if isinstance(obj, dict):
            save_checkpoint(path, obj)
            SAVED[case] = path.read_bytes()
        else:
            SAVED[case] = _saved(obj)
    return SAVED[case]


@share(0.4)
@given(
    source=st.one_of(
        st.binary(max_size=4096),
        st.tuples(st.sampled_from(sorted(CASES)), st.none() | DAMAGE),
        st.tuples(st.just("unformatted"), st.none() | DAMAGE),
    ),
)
@example(("another model's weights", None))  # torch's load_state_dict message has newlines
@example(("no metrics", None))  # KeyError outside the try
@example(("unformatted", ("flip", 0, 0)))  # IndexError from torch's weights-only unpickler
@example(("valid", None))
@example(b"J")  # struct.error from torch's weights-only unpickler (BININT without its 4 bytes)
def test_fuzz_checkpoints_load_or_give_a_clear_error(source):
    _count("checkpoints")
    if isinstance(source, bytes):
        data = source
    else:
        case, damage = source
        data = _saved(VALID) if case == "unformatted" else _saved_case(case)
        data = data if damage is None else _damage(data, *damage)
    path = TMP / "last.pt"
    path.write_bytes(data)
    try:
        model, meta = load_checkpoint(path)
    except InputError as err:
        assert str(path) in str(err) and "\n" not in str(err)
        return
    # torch does not check the zip records' CRC-32, so a flipped byte could load as another
    # value (fuzzer finding, docs/reliability-fuzzing.md); the digest save_checkpoint writes
    # catches it: whatever loads from a file save_checkpoint wrote is what it wrote.
    assert isinstance(model, nn.Module) and isinstance(meta["config"], TrainConfig)
    if not isinstance(source, bytes) and source[0] == "valid":
        assert meta["config"] == CONFIG
        reference = build_network(CONFIG)
        reference.load_state_dict(VALID["model"])
        assert all(
            torch.equal(a, b)
            for a, b in zip(
                model.state_dict().values(), reference.state_dict().values(), strict=True
            )
        )
