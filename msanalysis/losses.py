"""The paper's loss family, each loss defined exactly once.

Every loss of the paper is a function of the true-class probability ξ (eq. 1). Here each one
is written with arithmetic operators only, applied to a :class:`TrueClass` view that carries
ξ, log ξ, 1 - ξ and log(1 - ξ). Each backend builds that view in its own way:

* :mod:`msanalysis.symbolic` with sympy symbols, for exact derivations;
* :mod:`msanalysis.numeric` with numpy arrays, from logits through a stable log-softmax;
* :mod:`msanalysis.training.losses` with torch tensors, for autograd and training.

So the symbolic, numpy and torch forms are one definition evaluated three ways, and the tests
compare them against each other instead of against hand-written copies.

Conventions. ``t.p`` is ξ, ``t.log_p`` is log ξ, ``t.q`` is 1 - ξ and ``t.log_q`` is
log(1 - ξ). No loss takes ``log`` of a probability: backends pass ``log_p`` from a
log-softmax, so the losses stay finite where ξ underflows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Generic, TypeVar

from .registry import lookup

T = TypeVar("T")

__all__ = [
    "TrueClass",
    "LossSpec",
    "Param",
    "LOSSES",
    "cross_entropy",
    "focal",
    "stationary_term",
    "two_stationary_ce",
    "ms_focal",
    "centred_ce",
    "spectral_decoupling",
    "with_stationary_term",
    "get_loss",
]


@dataclass(frozen=True)
class TrueClass(Generic[T]):
    """The true-class probability ξ in the four forms a loss may need.

    Attributes:
      p: ξ, the softmax probability of the true class (eq. 1).
      log_p: log ξ, taken from a log-softmax by numeric backends.
      q: 1 - ξ, the probability mass of all other classes.
      log_q: log(1 - ξ).

    Examples:
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))  # ξ = 1/2
      >>> t.p + t.q
      1.0
    """

    p: T
    log_p: T
    q: T
    log_q: T


# --------------------------------------------------------------------------------------
# The family. Each function: TrueClass -> per-sample loss, hyper-parameters keyword-only.
# --------------------------------------------------------------------------------------


def cross_entropy(t: TrueClass[T], /) -> T:
    r"""Cross-entropy of the true class, eqs. 2 and 6.

    .. math:: \ell(\xi) = -\log \xi

    Eq. 2 writes the binary form -y log ξ - (1-y) log(1-ξ); with ξ read as the probability of
    the sample's own class (the p_t of eq. 6) both cases are this one expression.

    Args:
      t: the true-class view.

    Returns:
      The loss, with the shape of ``t.p``.

    Examples:
      >>> round(cross_entropy(TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))), 6)  # log 2
      0.693147
    """
    return -t.log_p


def focal(t: TrueClass[T], /, *, alpha: Any = 1, gamma: Any = 2) -> T:
    r"""Focal loss (Lin et al. 2017).

    .. math:: \ell(\xi) = -\alpha (1 - \xi)^\gamma \log \xi

    Args:
      t: the true-class view.
      alpha: class weight, in (0, 1].
      gamma: focusing exponent, >= 0; gamma = 0 gives alpha times cross-entropy.

    Returns:
      The loss, with the shape of ``t.p``.

    References:
      Lin et al., Focal loss for dense object detection, ICCV 2017.

    Examples:
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))  # ξ = 1/2
      >>> round(focal(t, alpha=1, gamma=2), 6)  # -(1/2)² log(1/2)
      0.173287
      >>> focal(t, gamma=0) == cross_entropy(t)
      True
    """
    # (1 - ξ) comes from the backend as t.q, computed as -expm1(log ξ) or a sum of the other
    # probabilities, so it keeps its relative precision when ξ is close to 1.
    return -alpha * t.q**gamma * t.log_p


def stationary_term(t: TrueClass[T], /, *, eta: Any) -> T:
    r"""The paper's stationary-point term, added to a loss of ξ (eqs. 4 and 7).

    .. math:: s(\xi) = \eta\,(\xi^2 + (1 - \xi)^2)

    Identity: ξ² + (1-ξ)² = 2(ξ - 1/2)² + 1/2, so this term is the appendix's
    η(ξ - 1/2)² (eq. 31) with η doubled, plus a constant.

    Args:
      t: the true-class view.
      eta: the stationary-point coefficient η > 0.

    Returns:
      The term, with the shape of ``t.p``.

    Examples:
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))  # ξ = 1/2
      >>> stationary_term(t, eta=1.5)  # 1.5 · (1/4 + 1/4)
      0.75
    """
    return eta * (t.p**2 + t.q**2)


def two_stationary_ce(t: TrueClass[T], /, *, eta: Any) -> T:
    r"""Two-stationary-point cross-entropy, eq. 7 (the 'MS loss' of Tables 1-2).

    .. math:: \ell(\xi) = -\log \xi + \eta\,(\xi^2 + (1 - \xi)^2)

    Args:
      t: the true-class view.
      eta: η > 0; a finite stationary point in ξ exists only above a threshold that
        :func:`msanalysis.symbolic.eta_threshold` derives.

    Returns:
      The loss, with the shape of ``t.p``.

    Examples:
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))  # ξ = 1/2
      >>> round(two_stationary_ce(t, eta=1.5), 6)  # log 2 + 0.75
      1.443147
    """
    return cross_entropy(t) + stationary_term(t, eta=eta)


def ms_focal(t: TrueClass[T], /, *, eta: Any, alpha: Any = 1, gamma: Any = 2) -> T:
    r"""MS-focal loss, eq. 4, read with the focal factor (1 - ξ)^γ.

    .. math:: \ell(\xi) = -\alpha (1 - \xi)^\gamma \log \xi + \eta\,(\xi^2 + (1 - \xi)^2)

    The paper prints (1 - y)^γ; with the label y = 1 of the true class that factor is 0 for
    every γ > 0 and the focal part would vanish, so the focal loss's (1 - ξ)^γ is the reading
    implemented here (the claims ledger records the difference).

    Args:
      t: the true-class view.
      eta: η > 0.
      alpha: class weight, in (0, 1].
      gamma: focusing exponent, >= 0.

    Returns:
      The loss, with the shape of ``t.p``.

    Examples:
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))  # ξ = 1/2
      >>> round(ms_focal(t, eta=1.5, alpha=1, gamma=2), 6)  # focal + 0.75
      0.923287
    """
    return focal(t, alpha=alpha, gamma=gamma) + stationary_term(t, eta=eta)


def centred_ce(t: TrueClass[T], /, *, eta: Any) -> T:
    r"""The appendix's regularised cross-entropy, eq. 31.

    .. math:: \ell(\xi) = -\log \xi + \eta\,(\xi - \tfrac12)^2

    Written as (p - q)² / 4, which equals (ξ - 1/2)² and keeps sympy results exact.

    Args:
      t: the true-class view.
      eta: η > 0.

    Returns:
      The loss, with the shape of ``t.p``.

    Examples:
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))  # ξ = 1/2
      >>> round(centred_ce(t, eta=1.5), 6)  # the penalty vanishes at ξ = 1/2
      0.693147
    """
    return cross_entropy(t) + eta * (t.p - t.q) ** 2 / 4


def spectral_decoupling(t: TrueClass[T], /, *, lam: Any) -> T:
    r"""Spectral decoupling (Pezeshki et al. 2021) for one binary logit z, σ(z) = ξ.

    .. math:: \ell(\xi) = -\log \xi + \tfrac{\lambda}{2} z^2, \quad z = \log\xi - \log(1-\xi)

    Spectral decoupling penalises the squared logit, not a function of the probability; in the
    binary case the logit is z = log ξ - log(1 - ξ) exactly, which is how it enters here. The
    paper says MS is equivalent to it (Section 5); the claims ledger tests that.

    Args:
      t: the true-class view of a binary problem.
      lam: the penalty λ > 0.

    Returns:
      The loss, with the shape of ``t.p``.

    References:
      Pezeshki et al., Gradient starvation: a learning proclivity in neural networks,
      NeurIPS 2021.

    Examples:
      >>> t = TrueClass(0.75, math.log(0.75), 0.25, math.log(0.25))  # logit z = log 3
      >>> round(spectral_decoupling(t, lam=1.0), 6)  # log(4/3) + (log 3)² / 2
      0.891157
    """
    return cross_entropy(t) + lam * (t.log_p - t.log_q) ** 2 / 2


def with_stationary_term(
    base: Callable[..., T], /, *, eta: Any, **base_params: Any
) -> Callable[[TrueClass[T]], T]:
    r"""Section 5's transform: add η(ξ² + (1-ξ)²) to any loss of ξ.

    .. math:: \ell_\eta(\xi) = \ell(\xi) + \eta\,(\xi^2 + (1 - \xi)^2)

    Args:
      base: a loss of this module (or any function of a :class:`TrueClass`).
      eta: η > 0.
      **base_params: keyword hyper-parameters of ``base``.

    Returns:
      A function of a :class:`TrueClass` giving the transformed loss.

    Examples:
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))  # ξ = 1/2
      >>> transformed = with_stationary_term(focal, eta=1.5, gamma=2)
      >>> transformed(t) == ms_focal(t, eta=1.5, gamma=2)
      True
    """

    def transformed(t: TrueClass[T], /) -> T:
        return base(t, **base_params) + stationary_term(t, eta=eta)

    return transformed


# --------------------------------------------------------------------------------------
# Registry: names, parameters and their valid ranges, the paper source.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A hyper-parameter: its default and its valid range (low, high, open/closed ends).

    Examples:
      >>> ETA.describe()
      'eta in (0.0, inf)'
      >>> ETA.check(-1.0)
      Traceback (most recent call last):
      ValueError: eta=-1.0 is out of range; expected eta in (0.0, inf)
    """

    name: str
    default: float | None
    low: float
    high: float = math.inf
    low_open: bool = True
    high_open: bool = True

    def describe(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{self.name} in {left}{self.low}, {self.high}{right}"

    def check(self, value: Any) -> None:
        """Raise ValueError if a numeric value lies outside the range (symbols pass)."""
        if not isinstance(value, Real):
            return  # a sympy symbol or other symbolic stand-in: nothing to check
        v = float(value)
        if math.isnan(v):
            raise ValueError(f"{self.name} is NaN; expected {self.describe()}")
        too_low = v <= self.low if self.low_open else v < self.low
        too_high = v >= self.high if self.high_open else v > self.high
        if too_low or too_high:
            raise ValueError(f"{self.name}={value!r} is out of range; expected {self.describe()}")


ETA = Param("eta", 1.5, 0.0)  # 1.5 is the value of Figure 5
ALPHA = Param("alpha", 1.0, 0.0, 1.0, high_open=False)
GAMMA = Param("gamma", 2.0, 0.0, low_open=False)
LAM = Param("lam", 1.0, 0.0)


@dataclass(frozen=True)
class LossSpec:
    """One member of the family: its function, hyper-parameters and where the paper has it.

    Examples:
      >>> spec = LOSSES["ms"]
      >>> spec.source, spec.defaults()
      ('eq. 7', {'eta': 1.5})
      >>> t = TrueClass(0.5, math.log(0.5), 0.5, math.log(0.5))
      >>> round(spec.bind()(t), 6)
      1.443147
    """

    name: str
    fn: Callable[..., Any]
    params: tuple[Param, ...]
    source: str
    title: str
    binary_only: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params if p.default is not None}

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Fill defaults, reject unknown names and out-of-range values."""
        known = {p.name: p for p in self.params}
        unknown = set(params) - set(known)
        if unknown:
            raise ValueError(
                f"loss {self.name!r} has no parameter(s) {sorted(unknown)}; "
                f"it takes {sorted(known) or 'none'}"
            )
        full = {**self.defaults(), **params}
        for name, p in known.items():
            if name not in full:
                raise ValueError(f"loss {self.name!r} needs {p.describe()}")
            p.check(full[name])
        return full

    def bind(self, **params: Any) -> Callable[[TrueClass[T]], T]:
        """The loss as a function of a TrueClass, hyper-parameters validated and fixed."""
        full = self.validate(params)

        def loss(t: TrueClass[T], /) -> T:
            return self.fn(t, **full)

        return loss


LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec("ce", cross_entropy, (), "eqs. 2, 6", "cross-entropy"),
        LossSpec("focal", focal, (ALPHA, GAMMA), "Lin et al. 2017; Figure 2", "focal loss"),
        LossSpec("ms", two_stationary_ce, (ETA,), "eq. 7", "two-stationary-point CE (MS)"),
        LossSpec("ms-focal", ms_focal, (ETA, ALPHA, GAMMA), "eq. 4", "MS-focal loss"),
        LossSpec(
            "centred-ce",
            centred_ce,
            (ETA,),
            "appendix eq. 31",
            "regularised CE of Theorem 3's proof",
        ),
        LossSpec(
            "spectral-decoupling",
            spectral_decoupling,
            (LAM,),
            "Pezeshki et al. 2021; Section 5",
            "spectral decoupling (binary)",
            binary_only=True,
        ),
    )
}


def get_loss(name: str) -> LossSpec:
    """Look a loss up by name, with an error that lists the valid names.

    Examples:
      >>> get_loss("ms-focal").source
      'eq. 4'
      >>> get_loss("mse")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ValueError: unknown loss 'mse'; choose one of: ce, focal, ms, ms-focal, centred-ce, ...
    """
    return lookup(LOSSES, name, kind="loss")
