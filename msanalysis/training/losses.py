"""Torch forms of the loss family of :mod:`msanalysis.losses`, as ``nn.Module`` losses.

The losses are not rewritten here: :func:`true_class_from_logits` builds the
:class:`~msanalysis.losses.TrueClass` view from logits with a log-softmax, and the family's
single definitions are evaluated on it. :class:`FamilyLoss` wraps any member of the family in
the conventions of :class:`torch.nn.CrossEntropyLoss`:

>>> import torch
>>> loss_fn = FamilyLoss("ms", eta=1.5)               # eq. 7, the 'MS loss' of Tables 1-2
>>> logits, target = torch.randn(8, 10, requires_grad=True), torch.randint(0, 10, (8,))
>>> loss_fn(logits, target).backward()

Input policy (:func:`check_logits_target`, :func:`check_finite_loss`): logits must be a
floating (N, K) tensor with N >= 1, K >= 2, and target an integer (N,) tensor with values in
[0, K), else ``ValueError`` naming the problem. NaN or +inf logits, or a -inf logit of the true
class, raise ``ValueError("logits contain NaN/inf")`` instead of a NaN loss that would silently
poison training; a -inf logit of another class is probability 0 and accepted. The value checks
cost two reductions over N values and are on by default (``check_values``); the bench in
bench/bench_losses.py measures them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from functools import cache, cached_property
from typing import Any, Literal

import torch
from torch import nn

from ..losses import ETA, TrueClass, get_loss, with_stationary_term
from ..registry import unknown_name

__all__ = [
    "true_class_from_logits",
    "check_logits_target",
    "check_finite_loss",
    "ThresholdWarning",
    "FamilyLoss",
    "CrossEntropy",
    "Focal",
    "TwoStationaryCE",
    "MSFocal",
    "CentredCE",
    "StationaryTransform",
    "TRAINING_LOSSES",
    "build_loss",
]

Reduction = Literal["mean", "sum", "none"]

# Names build_loss accepts: the family members that apply to K-class classification.
TRAINING_LOSSES: tuple[str, ...] = ("ce", "focal", "ms", "ms-focal", "centred-ce")


class _LogitsTrueClass(TrueClass[torch.Tensor]):
    """A TrueClass from logits whose views beyond log ξ are computed when a loss first reads them.

    Cross-entropy reads only ``log_p``, the MS losses add ``p`` and ``q``, and only spectral
    decoupling reads ``log_q``; each unread view costs nothing (no op, no autograd node).
    """

    def __init__(self, logits: torch.Tensor, target: torch.Tensor, log_p: torch.Tensor) -> None:
        object.__setattr__(self, "log_p", log_p)
        object.__setattr__(self, "_logits", logits)
        object.__setattr__(self, "_target", target)

    @cached_property
    def p(self) -> torch.Tensor:  # type: ignore[override]
        return self.log_p.exp()

    @cached_property
    def q(self) -> torch.Tensor:  # type: ignore[override]
        # Stability identity: 1 - ξ = -expm1(log ξ) keeps its relative precision as ξ -> 1.
        # Floored at the smallest normal number: where ξ rounds to 1, (1 - ξ)**γ with 0 < γ < 1
        # (focal) would otherwise have an infinite derivative and a 0 * inf = NaN gradient.
        return (-torch.expm1(self.log_p)).clamp_min(torch.finfo(self.log_p.dtype).tiny)

    @cached_property
    def log_q(self) -> torch.Tensor:  # type: ignore[override]
        # log(1 - ξ) = logsumexp over the other classes - logsumexp over all classes: exact where
        # ξ rounds to 1 (log(-expm1(log ξ)) would be -inf there) and NaN-free in both branches,
        # unlike a where() between log(q) and log1p(-p), whose unselected branch has a 0 * inf
        # gradient. For K = 2 it makes log ξ - log(1 - ξ) the logit difference exactly.
        others = self._logits.scatter(-1, self._target.unsqueeze(-1), -math.inf)
        return torch.logsumexp(others, -1) - torch.logsumexp(self._logits, -1)


def true_class_from_logits(logits: torch.Tensor, target: torch.Tensor) -> TrueClass[torch.Tensor]:
    """ξ, log ξ, 1 - ξ and log(1 - ξ) of each sample's true class, computed stably.

    Half and bfloat16 logits are promoted to float32 first, so the log-softmax (and the loss)
    is computed in float32 under autocast.

    Args:
      logits: (N, K) floating tensor (not checked here: see :func:`check_logits_target`).
      target: (N,) integer class indices in [0, K), any integer dtype.

    Returns:
      A TrueClass of (N,) tensors, in the dtype of ``logits`` (float32 at least); ``p``, ``q``
      and ``log_q`` are computed on first access.
    """
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    target = target.long()  # gather/scatter index dtype; no copy when already int64
    log_p = torch.log_softmax(logits, dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return _LogitsTrueClass(logits, target, log_p)


def check_logits_target(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    check_values: bool = True,
    binary_only: bool = False,
) -> None:
    """Raise ValueError unless logits are floating (N, K), N >= 1, K >= 2 (K = 2 for
    ``binary_only``) and target is integer (N,) with values in [0, K).

    Shapes and dtypes are metadata and always checked; ``check_values`` adds the label range
    (one ``aminmax`` over N labels, a host synchronisation on CUDA). Finiteness of the logits is
    checked on the per-sample loss instead (:func:`check_finite_loss`).
    """
    if not torch.is_floating_point(logits):
        raise ValueError(f"logits must be a floating tensor, got dtype {logits.dtype}")
    if logits.dim() != 2 or logits.shape[0] == 0:
        raise ValueError(f"logits must have shape (N, K) with N >= 1, got {tuple(logits.shape)}")
    n, k = logits.shape
    if k < 2 or (binary_only and k != 2):
        raise ValueError(
            f"logits have K={k} classes; expected {'K = 2' if binary_only else 'K >= 2'}"
        )
    if target.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise ValueError(f"target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != (n,):
        raise ValueError(
            f"target must have shape (N,) = ({n},) to match logits, got {tuple(target.shape)}"
        )
    if check_values:
        low, high = torch.aminmax(target)
        if int(low) < 0 or int(high) >= k:
            raise ValueError(
                f"target values must lie in [0, {k}), got min {int(low)}, max {int(high)}"
            )


def check_finite_loss(loss: torch.Tensor, logits: torch.Tensor) -> None:
    """Raise ValueError where the per-sample loss is NaN/inf, naming the cause.

    Checking the (N,) loss instead of the (N, K) logits is what keeps the check cheap: on
    N=512, K=1000 float32, ``isfinite(logits).all()`` costs about 3 log-softmaxes, the loss
    check about 1/40 of one. It misses nothing that matters: a NaN or +inf logit makes its whole
    row's log-softmax NaN, a -inf true-class logit makes log ξ = -inf, and both reach the loss.
    A -inf logit on another class is a class of probability 0 (a mask) and gives a finite loss
    and gradient, so it is accepted.
    """
    if bool(torch.isfinite(loss).all()):
        return
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("logits contain NaN/inf")
    raise ValueError(
        f"loss is not finite although the logits are: |logits| too large for {loss.dtype}"
    )


class ThresholdWarning(UserWarning):
    """η is at or below the derived threshold: the loss has no finite stationary point in ξ."""


@cache
def _eta_threshold(name: str, params: tuple[tuple[str, float], ...]) -> float:
    from .. import symbolic  # sympy loads only for losses with an η

    return float(symbolic.eta_threshold(name, **dict(params)))


def _warn_below_threshold(name: str, params: dict[str, Any]) -> None:
    """ThresholdWarning when 0 < η <= η_c(name, other parameters), η_c derived by sympy."""
    if "eta" not in params:
        return
    others = tuple(sorted((k, v) for k, v in params.items() if k != "eta"))
    threshold = _eta_threshold(name, others)
    if params["eta"] <= threshold:
        warnings.warn(
            f"loss {name!r} with eta={params['eta']} <= {threshold:g}, the threshold derived by "
            "msanalysis.symbolic.eta_threshold: dℓ/dξ has no root in (0, 1), so there is no finite "
            "stationary point, only the asymptotic one at ξ -> 1 that the base loss has too",
            ThresholdWarning,
            stacklevel=3,
        )


def _reduce(
    loss: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, reduction: str
) -> torch.Tensor:
    """nn.CrossEntropyLoss's reductions: per-sample w_y·ℓ, their sum, or sum(w_y·ℓ) / sum(w_y)."""
    if weight is None:
        return loss if reduction == "none" else getattr(loss, reduction)()
    w = weight.to(loss.dtype)[target]
    if reduction == "none":
        return w * loss
    total = (w * loss).sum()
    return total / w.sum() if reduction == "mean" else total


class FamilyLoss(nn.Module):
    """Any loss of :data:`msanalysis.losses.LOSSES` with the interface of nn.CrossEntropyLoss.

    .. math:: L = \\frac{\\sum_i w_{y_i}\\,\\ell(\\xi_i)}{\\sum_i w_{y_i}} \\quad(\\text{'mean'}),
       \\qquad \\xi_i = \\mathrm{softmax}(o_i)_{y_i}

    Args:
      name: the loss's registry name (ce, focal, ms, ms-focal, centred-ce,
        spectral-decoupling).
      reduction: 'mean' (weighted mean when ``weight`` is given, as nn.CrossEntropyLoss),
        'sum' or 'none'.
      weight: optional (K,) per-class weights, finite and >= 0.
      check_values: check labels are in range and the per-sample loss is finite (else a
        ValueError naming NaN/inf logits) on every call; default True, cost in the README.
      **params: the loss's hyper-parameters (eta, alpha, gamma, lam), validated by
        :meth:`LossSpec.validate`; a ThresholdWarning when η is at or below the threshold.

    Shape:
      logits (N, K) floating, target (N,) integer; output () or (N,) for 'none', float32 at
      least.
    """

    def __init__(
        self,
        name: str,
        *,
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: bool = True,
        **params: Any,
    ) -> None:
        super().__init__()
        spec = get_loss(name)
        full = spec.validate(params)
        self._setup(
            name, spec.bind(**full), full, reduction, weight, check_values, spec.binary_only
        )
        _warn_below_threshold(name, full)

    def _setup(
        self,
        name: str,
        loss_fn: Callable[[TrueClass[torch.Tensor]], torch.Tensor],
        params: dict[str, Any],
        reduction: str,
        weight: torch.Tensor | None,
        check_values: bool,
        binary_only: bool,
    ) -> None:
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction={reduction!r}: expected 'mean', 'sum' or 'none'")
        if weight is not None:
            weight = torch.as_tensor(weight)
            if weight.dim() != 1 or not torch.is_floating_point(weight):
                raise ValueError(
                    f"weight must be a floating (K,) tensor, got {weight.dtype} "
                    f"{tuple(weight.shape)}"
                )
            if not bool(torch.isfinite(weight).all() and (weight >= 0).all()):
                raise ValueError("weight must be finite and >= 0")
        self.register_buffer("weight", weight)
        self.name, self.params, self.reduction = name, params, reduction
        self.check_values, self.binary_only = check_values, binary_only
        self._loss_fn = loss_fn

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_logits_target(
            logits, target, check_values=self.check_values, binary_only=self.binary_only
        )
        if self.weight is not None and self.weight.shape != (logits.shape[1],):
            raise ValueError(
                f"weight has shape {tuple(self.weight.shape)}; logits have K={logits.shape[1]}"
            )
        target = target.long()  # uint8 labels would index ``weight`` as a boolean mask
        loss = self._loss_fn(true_class_from_logits(logits, target))
        if self.check_values:
            check_finite_loss(loss, logits)
        return _reduce(loss, target, self.weight, self.reduction)

    def extra_repr(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name!r}{', ' + params if params else ''}, reduction={self.reduction!r}"


class CrossEntropy(FamilyLoss):
    """Cross-entropy (eqs. 2, 6) through the family; equals nn.CrossEntropyLoss."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("ce", **kwargs)


class Focal(FamilyLoss):
    """Focal loss -α(1-ξ)^γ log ξ; keywords alpha, gamma, reduction, weight."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("focal", **kwargs)


class TwoStationaryCE(FamilyLoss):
    """Eq. 7, the 'MS loss' of Tables 1-2: -log ξ + η(ξ² + (1-ξ)²); keyword eta."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("ms", **kwargs)


class MSFocal(FamilyLoss):
    """Eq. 4, focal loss plus η(ξ² + (1-ξ)²); keywords eta, alpha, gamma."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("ms-focal", **kwargs)


class CentredCE(FamilyLoss):
    """Appendix eq. 31, -log ξ + η(ξ - 1/2)²; keyword eta."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("centred-ce", **kwargs)


class StationaryTransform(FamilyLoss):
    """Section 5's transform of any family member: base loss + η(ξ² + (1-ξ)²).

    Built with :func:`msanalysis.losses.with_stationary_term`. No ThresholdWarning: the
    threshold is derived per registered loss (use FamilyLoss('ms') or 'ms-focal' for the
    transforms of ce and focal to get it).

    Args:
      base_name: the base loss's registry name.
      eta: η > 0.
      reduction, weight, check_values: as :class:`FamilyLoss`.
      **base_params: the base loss's hyper-parameters.
    """

    def __init__(
        self,
        base_name: str,
        *,
        eta: float,
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: bool = True,
        **base_params: Any,
    ) -> None:
        nn.Module.__init__(self)
        spec = get_loss(base_name)
        ETA.check(eta)
        full = spec.validate(base_params)
        loss_fn = with_stationary_term(spec.fn, eta=eta, **full)
        name = f"{base_name}+stationary"
        self._setup(
            name, loss_fn, {"eta": eta, **full}, reduction, weight, check_values, spec.binary_only
        )


def build_loss(name: str, **kwargs: Any) -> FamilyLoss:
    """The training loss ``name`` (one of :data:`TRAINING_LOSSES`); keywords as FamilyLoss."""
    if name not in TRAINING_LOSSES:
        raise ValueError(unknown_name(name, TRAINING_LOSSES, kind="training loss"))
    return FamilyLoss(name, **kwargs)
