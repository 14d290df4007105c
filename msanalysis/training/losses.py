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
poison training; a -inf logit of another class is probability 0 and accepted.

``check_values`` says when the value checks run. ``"eager"`` (the default) checks the label
range and the loss's finiteness on every call, two host synchronisations per call on CUDA.
``"deferred"`` is for training loops whose labels were checked where they entered
(:func:`msanalysis.training.data.load_dataset` does): it records non-finite losses in a flag
kept on the device, read when the loop chooses (:meth:`FamilyLoss.nonfinite_seen`, e.g. once
per epoch) and cleared by :meth:`FamilyLoss.reset_nonfinite`. ``"off"`` checks nothing.

Gradient (:class:`FusedFamilyLoss`, the default ``fused=True``): every loss of the family is a
function ℓ(ξ) of ξ = softmax(o)_y, so dℓ/do = ξ ℓ'(ξ) (e_y - p). The forward pass evaluates the
single definition once; the backward pass applies that identity, with ξ ℓ'(ξ) derived by sympy
from the same definition (:func:`derived_log_xi_derivative`), not written out a second time.
``fused=False`` keeps plain autograd through the definition.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from functools import cache, cached_property
from typing import Any, Literal

import torch
from torch import nn

from ..losses import ALPHA, ETA, GAMMA, TrueClass, get_loss, with_stationary_term
from ..registry import unknown_name

__all__ = [
    "true_class_from_logits",
    "derived_log_xi_derivative",
    "FusedFamilyLoss",
    "check_logits_target",
    "check_finite_loss",
    "ThresholdWarning",
    "CheckedLoss",
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
CheckValues = Literal["eager", "deferred", "off"] | bool

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


class _NoGradTrueClass(_LogitsTrueClass):
    """The view for the fused loss's forward pass, where no graph is recorded: 1 - ξ in place."""

    @cached_property
    def q(self) -> torch.Tensor:  # type: ignore[override]
        return torch.expm1(self.log_p).neg_().clamp_min_(torch.finfo(self.log_p.dtype).tiny)


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
            stacklevel=4,
        )


def _check_mode(check_values: CheckValues) -> str:
    """'eager', 'deferred' or 'off'; True and False are the older spellings of eager and off."""
    mode = {True: "eager", False: "off"}.get(check_values, check_values)  # type: ignore[call-overload]
    if mode not in ("eager", "deferred", "off"):
        raise ValueError(f"check_values={check_values!r}: expected 'eager', 'deferred' or 'off'")
    return mode


class CheckedLoss(nn.Module):
    """A loss module's value-check mode (see the module docstring) and its deferred flag.

    Subclasses call :meth:`_record` on their output; in 'deferred' mode it adds 0 times the
    output to a device flag, so one NaN/inf turns the flag NaN without a host synchronisation.
    """

    def __init__(self, check_values: CheckValues) -> None:
        super().__init__()
        self.check_values = _check_mode(check_values)
        self.register_buffer("_nonfinite", torch.zeros(()), persistent=False)

    def _record(self, out: torch.Tensor) -> None:
        if self.check_values == "deferred":
            self._nonfinite.add_(out.detach() if out.dim() == 0 else out.detach().sum(), alpha=0)

    def nonfinite_seen(self) -> torch.Tensor:
        """0-d bool tensor, on the loss's device: a non-finite loss since the last reset.

        Recorded in 'deferred' mode only. Reading it (``bool(...)``) is the one host
        synchronisation; a training loop does it once per epoch.
        """
        return ~torch.isfinite(self._nonfinite)

    def reset_nonfinite(self) -> None:
        """Clear the flag of :meth:`nonfinite_seen`."""
        self._nonfinite.zero_()


# --------------------------------------------------------------------------------------
# The fused loss: forward from the definition, backward from dℓ/do = ξ ℓ'(ξ) (e_y - p).
# --------------------------------------------------------------------------------------


class LogXiDerivative:
    """ξ ℓ'(ξ) = dℓ/d log ξ of one loss, derived by sympy and lambdified to torch.

    Attributes:
      expression: the sympy expression of ξ ℓ'(ξ) in the symbols p, log_p, q, log_q.
      reads_log_q: whether the loss reads log(1 - ξ) (only spectral decoupling does).
      coefficients: ``(p, log_p, q, log_q) -> (-a, b)`` with a = ξ ℓ'(ξ) and b = (1 - ξ) a,
        the second without a division by 1 - ξ (-a: the backward pass needs no negation).
    """

    def __init__(self, loss_fn: Callable[[TrueClass[Any]], Any]) -> None:
        import sympy as sp  # loads only when a fused loss is first built

        p, q = sp.symbols("p q", positive=True)
        log_p, log_q = sp.symbols("log_p log_q", negative=True)
        loss = sp.sympify(loss_fn(TrueClass(p, log_p, q, log_q)))
        # Floats as exact binary rationals: q**2.0 becomes q**2, whose derivative is 2q, not 2q**1.
        loss = loss.xreplace({f: sp.Rational(f) for f in loss.atoms(sp.Float)})
        # The views move together along log ξ: dξ = ξ, d(1 - ξ) = -ξ, d log(1 - ξ) = -ξ/(1 - ξ).
        a = loss.diff(log_p) + p * loss.diff(p) - p * loss.diff(q) - p / q * loss.diff(log_q)
        self.expression, self.reads_log_q = a, log_q in loss.free_symbols
        b = sp.expand(q * a) if self.reads_log_q else q * a  # expand cancels the 1/q
        self._fn = sp.lambdify((p, log_p, q, log_q), [-a, b], modules="torch", cse=True)

    def coefficients(self, t: TrueClass[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(-a, b) as (N,) tensors like ``t.log_p`` (a constant, as 1 for CE, is broadcast)."""
        like = t.log_p
        out = self._fn(t.p, like, t.q, t.log_q if self.reads_log_q else None)
        return tuple(  # type: ignore[return-value]
            c if isinstance(c, torch.Tensor) else torch.full_like(like, float(c)) for c in out
        )


_DERIVATIVES: dict[tuple[str, tuple[tuple[str, Any], ...]], LogXiDerivative] = {}


def derived_log_xi_derivative(
    name: str, params: dict[str, Any], loss_fn: Callable[[TrueClass[Any]], Any]
) -> LogXiDerivative:
    """The :class:`LogXiDerivative` of ``loss_fn``, derived once per (name, params)."""
    key = (name, tuple(sorted(params.items())))
    if key not in _DERIVATIVES:
        _DERIVATIVES[key] = LogXiDerivative(loss_fn)
    return _DERIVATIVES[key]


def _reduce(
    loss: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, reduction: str
) -> tuple[torch.Tensor, torch.Tensor | float | None]:
    """nn.CrossEntropyLoss's reductions: per-sample w_y·ℓ, their sum, or sum(w_y·ℓ) / sum(w_y).

    Returns:
      The reduced loss and s with d(reduced)/dℓ_i = s_i (None: 1; a float: the same for all).
    """
    if weight is None:
        if reduction == "none":
            return loss, None
        return (loss.sum(), None) if reduction == "sum" else (loss.mean(), 1 / loss.shape[0])
    w = weight.to(loss.dtype)[target]
    if reduction == "none":
        return w * loss, w
    total = (w * loss).sum()
    if reduction == "sum":
        return total, w
    w_sum = w.sum()
    return total / w_sum, w / w_sum


# torch's CPU log_softmax takes a scalar loop when K is below its vector width: 74 µs at K = 10
# against 11 µs at K = 32 (N = 512 float32, one thread, bench/RESULTS.md's machine). Below this
# K the fused loss assembles the same formula, (o - max o) - log Σ exp(o - max o), from amax, exp,
# sum and log, which take about 20 µs together.
_SMALL_K = 16


def _log_softmax_parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(base, log_z) with log-softmax = base - log_z (log_z None: base is the log-softmax)."""
    if x.shape[-1] >= _SMALL_K:
        return torch.log_softmax(x, dim=-1), None
    shifted = x - x.amax(dim=-1, keepdim=True)
    return shifted, shifted.exp().sum(dim=-1, keepdim=True).log_()


class FusedFamilyLoss(torch.autograd.Function):
    """A family loss whose gradient is dℓ/do = ξ ℓ'(ξ) (e_y - p), for logits o of (N, K).

    The forward pass computes the log-softmax once (:func:`_log_softmax_parts`), evaluates the
    loss's definition on the true-class view and the derived a = ξ ℓ'(ξ), b = (1 - ξ) a on the
    (N,) vector; the backward pass turns exp(log-softmax) into -a·p_j in place and writes b at
    the true class: two (N, K) passes and a scatter, no autograd graph of element-wise ops.
    Where the loss reads log(1 - ξ) (spectral decoupling, exact from the logits where ξ rounds
    to 1) the others' share is -b·p_j / (1 - ξ), the softmax over the other classes' logits,
    with no 1/(1 - ξ) to overflow and no cancellation at large logits.
    Use through :class:`FamilyLoss`; not twice differentiable.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        logits: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor | None,
        reduction: str,
        loss_fn: Callable[[TrueClass[torch.Tensor]], torch.Tensor],
        derivative: LogXiDerivative,
        check_finite: bool,
    ) -> torch.Tensor:
        """The reduced loss, evaluated once from the definition; saves what backward needs."""
        x = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
        index = target.unsqueeze(-1)
        base, log_z = _log_softmax_parts(x)
        log_p = base.gather(-1, index).squeeze(-1)
        t = _NoGradTrueClass(x, target, log_p if log_z is None else log_p - log_z.squeeze(-1))
        loss = loss_fn(t)
        if check_finite:
            check_finite_loss(loss, logits)
        minus_a, b = derivative.coefficients(t)
        out, ctx.scale = _reduce(loss, target, weight, reduction)
        others = x if derivative.reads_log_q else None  # for p_j / (1 - ξ) in backward
        ctx.save_for_backward(base, log_z, index, minus_a, b, others)
        ctx.logits_dtype = logits.dtype
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        """dℓ/do = ξ ℓ'(ξ)(e_y − p) per sample, scaled by the reduction's weights."""
        base, log_z, index, minus_a, b, logits = ctx.saved_tensors
        g = grad_out if ctx.scale is None else grad_out * ctx.scale  # () or (N,)
        b_g = (b * g).unsqueeze(-1)
        if logits is not None:  # -b·p_j / (1 - ξ), the softmax over the other classes
            grad = logits.scatter(-1, index, -math.inf).softmax(dim=-1).mul_(-b_g)
        else:  # -a·p_j
            grad = base.exp() if log_z is None else (base - log_z).exp_()
            grad.mul_((minus_a * g).unsqueeze(-1))
        grad.scatter_(-1, index, b_g)
        return grad.to(ctx.logits_dtype), None, None, None, None, None, None


# --------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------


class FamilyLoss(CheckedLoss):
    """Any loss of :data:`msanalysis.losses.LOSSES` with the interface of nn.CrossEntropyLoss.

    .. math:: L = \\frac{\\sum_i w_{y_i}\\,\\ell(\\xi_i)}{\\sum_i w_{y_i}} \\quad(\\text{'mean'}),
       \\qquad \\xi_i = \\mathrm{softmax}(o_i)_{y_i}

    Args:
      name: the loss's registry name (ce, focal, ms, ms-focal, centred-ce,
        spectral-decoupling).
      reduction: 'mean' (weighted mean when ``weight`` is given, as nn.CrossEntropyLoss),
        'sum' or 'none'.
      weight: optional (K,) per-class weights, finite and >= 0.
      check_values: 'eager' (default; True is a synonym) checks label range and finiteness
        on every call, raising ValueError; 'deferred' records non-finite losses in a device
        flag (:meth:`nonfinite_seen`) and leaves the labels to the loader; 'off' (False)
        checks nothing. Shapes and dtypes are always checked.
      fused: True (default) for :class:`FusedFamilyLoss`, False for plain autograd through
        the definition; both give the same value and gradient.
      **params: the loss's hyper-parameters (eta, alpha, gamma, lam), validated by
        :meth:`LossSpec.validate`; a ThresholdWarning when η is at or below the threshold.

    Shape:
      logits (N, K) floating, target (N,) integer; output () or (N,) for 'none', float32 at
      least.

    Examples:
      >>> loss_fn = FamilyLoss("ms", eta=1.5, check_values="deferred")
      >>> loss = loss_fn(torch.tensor([[0.0, float("nan")]]), torch.tensor([0]))
      >>> bool(loss_fn.nonfinite_seen())
      True
      >>> loss_fn.reset_nonfinite(); bool(loss_fn.nonfinite_seen())
      False
    """

    def __init__(
        self,
        name: str,
        *,
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: CheckValues = "eager",
        fused: bool = True,
        **params: Any,
    ) -> None:
        super().__init__(check_values)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction={reduction!r}: expected 'mean', 'sum' or 'none'")
        self.fused = bool(fused)
        self.name, self.params, self._loss_fn, self.binary_only = self._bind(name, params)
        self.reduction = reduction
        self.register_buffer("weight", _checked_weight(weight))
        self._derivative = (
            derived_log_xi_derivative(self.name, self.params, self._loss_fn) if self.fused else None
        )

    def _bind(
        self, name: str, params: dict[str, Any]
    ) -> tuple[str, dict[str, Any], Callable[[TrueClass[torch.Tensor]], torch.Tensor], bool]:
        """(display name, full parameters, loss of a TrueClass, binary only) for ``name``."""
        spec = get_loss(name)
        full = spec.validate(params)
        _warn_below_threshold(name, full)
        return name, full, spec.bind(**full), spec.binary_only

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        eager = self.check_values == "eager"
        check_logits_target(logits, target, check_values=eager, binary_only=self.binary_only)
        if self.weight is not None and self.weight.shape != (logits.shape[1],):
            raise ValueError(
                f"weight has shape {tuple(self.weight.shape)}; logits have K={logits.shape[1]}"
            )
        target = target.long()  # uint8 labels would index ``weight`` as a boolean mask
        if self._derivative is not None:
            out = FusedFamilyLoss.apply(
                logits, target, self.weight, self.reduction, self._loss_fn, self._derivative, eager
            )
        else:
            loss = self._loss_fn(true_class_from_logits(logits, target))
            if eager:
                check_finite_loss(loss, logits)
            out = _reduce(loss, target, self.weight, self.reduction)[0]
        self._record(out)
        return out

    def extra_repr(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return (
            f"{self.name!r}{', ' + params if params else ''}, reduction={self.reduction!r}, "
            f"fused={self.fused}, check_values={self.check_values!r}"
        )


def _checked_weight(weight: torch.Tensor | None) -> torch.Tensor | None:
    if weight is None:
        return None
    weight = torch.as_tensor(weight)
    if weight.dim() != 1 or not torch.is_floating_point(weight):
        raise ValueError(
            f"weight must be a floating (K,) tensor, got {weight.dtype} {tuple(weight.shape)}"
        )
    if not bool(torch.isfinite(weight).all() and (weight >= 0).all()):
        raise ValueError("weight must be finite and >= 0")
    return weight


class CrossEntropy(FamilyLoss):
    """Cross-entropy (eqs. 2, 6) through the family; equals nn.CrossEntropyLoss."""

    def __init__(
        self,
        *,
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: CheckValues = "eager",
        fused: bool = True,
    ) -> None:
        super().__init__(
            "ce", reduction=reduction, weight=weight, check_values=check_values, fused=fused
        )


class Focal(FamilyLoss):
    """Focal loss -α(1-ξ)^γ log ξ; other keywords as :class:`FamilyLoss`."""

    def __init__(
        self,
        *,
        alpha: float = ALPHA.default,  # type: ignore[assignment]
        gamma: float = GAMMA.default,  # type: ignore[assignment]
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: CheckValues = "eager",
        fused: bool = True,
    ) -> None:
        super().__init__(
            "focal",
            alpha=alpha,
            gamma=gamma,
            reduction=reduction,
            weight=weight,
            check_values=check_values,
            fused=fused,
        )


class TwoStationaryCE(FamilyLoss):
    """Eq. 7, the 'MS loss' of Tables 1-2: -log ξ + η(ξ² + (1-ξ)²); keywords as FamilyLoss."""

    def __init__(
        self,
        *,
        eta: float = ETA.default,  # type: ignore[assignment]
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: CheckValues = "eager",
        fused: bool = True,
    ) -> None:
        super().__init__(
            "ms",
            eta=eta,
            reduction=reduction,
            weight=weight,
            check_values=check_values,
            fused=fused,
        )


class MSFocal(FamilyLoss):
    """Eq. 4, focal loss plus η(ξ² + (1-ξ)²); other keywords as :class:`FamilyLoss`."""

    def __init__(
        self,
        *,
        eta: float = ETA.default,  # type: ignore[assignment]
        alpha: float = ALPHA.default,  # type: ignore[assignment]
        gamma: float = GAMMA.default,  # type: ignore[assignment]
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: CheckValues = "eager",
        fused: bool = True,
    ) -> None:
        super().__init__(
            "ms-focal",
            eta=eta,
            alpha=alpha,
            gamma=gamma,
            reduction=reduction,
            weight=weight,
            check_values=check_values,
            fused=fused,
        )


class CentredCE(FamilyLoss):
    """Appendix eq. 31, -log ξ + η(ξ - 1/2)²; keywords as :class:`FamilyLoss`."""

    def __init__(
        self,
        *,
        eta: float = ETA.default,  # type: ignore[assignment]
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: CheckValues = "eager",
        fused: bool = True,
    ) -> None:
        super().__init__(
            "centred-ce",
            eta=eta,
            reduction=reduction,
            weight=weight,
            check_values=check_values,
            fused=fused,
        )


class StationaryTransform(FamilyLoss):
    """Section 5's transform of any family member: base loss + η(ξ² + (1-ξ)²).

    Built with :func:`msanalysis.losses.with_stationary_term`. No ThresholdWarning: the
    threshold is derived per registered loss (use FamilyLoss('ms') or 'ms-focal' for the
    transforms of ce and focal to get it).

    Args:
      base_name: the base loss's registry name.
      eta: η > 0.
      reduction, weight, check_values, fused: as :class:`FamilyLoss`.
      **base_params: the base loss's hyper-parameters.
    """

    def __init__(
        self,
        base_name: str,
        *,
        eta: float,
        reduction: Reduction = "mean",
        weight: torch.Tensor | None = None,
        check_values: CheckValues = "eager",
        fused: bool = True,
        **base_params: Any,
    ) -> None:
        super().__init__(
            base_name,
            reduction=reduction,
            weight=weight,
            check_values=check_values,
            fused=fused,
            **base_params,
            eta=eta,
        )

    def _bind(
        self, name: str, params: dict[str, Any]
    ) -> tuple[str, dict[str, Any], Callable[[TrueClass[torch.Tensor]], torch.Tensor], bool]:
        base_params = dict(params)
        eta = base_params.pop("eta")
        ETA.check(eta)
        spec = get_loss(name)
        full = spec.validate(base_params)
        loss_fn = with_stationary_term(spec.fn, eta=eta, **full)
        return f"{name}+stationary", {"eta": eta, **full}, loss_fn, spec.binary_only


def build_loss(name: str, **kwargs: Any) -> FamilyLoss:
    """The training loss ``name`` (one of :data:`TRAINING_LOSSES`); keywords as FamilyLoss."""
    if name not in TRAINING_LOSSES:
        raise ValueError(unknown_name(name, TRAINING_LOSSES, kind="training loss"))
    return FamilyLoss(name, **kwargs)
