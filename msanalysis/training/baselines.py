"""The baselines of the paper's Table 2, trained as heads on the registry networks' features.

The paper quotes its baselines from other papers; here each is a head that replaces a
registry network's last layer (:meth:`~msanalysis.training.models.head.HeadMixin.set_head`)
plus its training loss, so it is trained and attacked under the protocol of CE and MS:

* ``center`` (Wen et al. 2016, "A discriminative feature learning approach for deep face
  recognition"): CE's linear layer on the penultimate features f, and the loss
  CE + (λ/2)·‖f − c_y‖² with learnable class centres c_k. The centres are **parameters**
  trained by the run's optimizer (the paper's separate update with rate α is not used).
  Default λ = 0.003, the paper's face-recognition setting.
* ``lgm`` (Wan et al. 2018, "Rethinking feature distribution for loss functions in image
  classification"): a Gaussian-mixture head with identity covariances and equal priors,
  logits −(1/2)·d_k, d_k = ‖z − μ_k‖², learnable means μ_k; in training the true class's
  distance is scaled by (1 + α) (margin) and λ·(1/2)·d_y (likelihood term) is added.
  Defaults α = 0.3 (the final value of the authors' margin schedule, without its warm-up)
  and λ = 0.1.
* ``mmc`` (Pang et al. 2020, "Rethinking softmax cross-entropy loss for adversarial
  robustness"): fixed Max-Mahalanobis centres μ_k (:func:`mmc_centres`, norm C_MM = 10),
  logits −‖z − μ_k‖², loss (1/2)·‖z − μ_y‖².

L-GM and MMC act on z = W f + b, a learned linear embedding of the same width as f (as Pang
et al.'s dense layer before the MMC layer): f is post-ReLU, so it could not reach centres with
negative coordinates. Each model outputs its logits, and attacks see only them. The losses of
L-GM and MMC are functions of the logits alone; Center loss also reads the features of the
head's last forward pass (``CenterHead.last_features``).

>>> import torch
>>> from msanalysis.training.models import build_model
>>> net = with_baseline_head(build_model("small-cnn"), "mmc", {})
>>> loss_fn = build_criterion("mmc", {}, net)
>>> float(loss_fn(net(torch.rand(2, 1, 28, 28)), torch.tensor([0, 1]))) > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import CheckpointError
from .losses import CheckedLoss, CheckValues, build_loss, check_logits_target

__all__ = [
    "BASELINES",
    "BaselineSpec",
    "mmc_centres",
    "CenterHead",
    "DistanceHead",
    "HeadLoss",
    "baseline_params",
    "with_baseline_head",
    "build_criterion",
    "baseline_objective",
    "load_model_state",
]

PerSampleLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def mmc_centres(num_classes: int, dim: int, *, c_mm: float = 10.0) -> torch.Tensor:
    """Max-Mahalanobis centres: K vectors of norm C_MM, pairwise inner products −C_MM²/(K−1).

    Pang et al.'s recursive construction (their Algorithm 1, from Pang et al. 2018):
    μ_1 = e_1; for i = 2..K, μ_i(j) = −(1/(K−1) + ⟨μ_i, μ_j⟩)/μ_j(j) for j < i, then
    μ_i(i) = sqrt(1 − ‖μ_i‖²); all scaled by C_MM. The K centres span K − 1 dimensions, so
    dim ≥ K − 1 suffices (the last coordinate the recursion would set is 0).

    Args:
      num_classes: K >= 2.
      dim: feature dimension, >= K − 1.
      c_mm: the norm C_MM > 0.

    Returns:
      (K, dim) float32 tensor, computed in float64.

    >>> mu = mmc_centres(3, 2, c_mm=1.0)
    >>> [round(float(v), 6) for v in mu @ mu[0]]
    [1.0, -0.5, -0.5]
    """
    if num_classes < 2:
        raise ValueError(f"MMC needs num_classes >= 2, got {num_classes}")
    if dim < num_classes - 1:
        raise ValueError(
            f"MMC centres of {num_classes} classes need a feature dimension >= "
            f"{num_classes - 1}, got {dim}"
        )
    if not c_mm > 0:
        raise ValueError(f"c_mm must be > 0, got {c_mm}")
    k = num_classes
    mu = torch.zeros(k, dim, dtype=torch.float64)
    mu[0, 0] = 1.0
    for i in range(1, k):
        for j in range(i):
            mu[i, j] = -(1 / (k - 1) + mu[i] @ mu[j]) / mu[j, j]
        if i < dim:
            mu[i, i] = math.sqrt(max(1.0 - float(mu[i] @ mu[i]), 0.0))
    return (c_mm * mu).float()


class CenterHead(nn.Module):
    """CE's linear layer plus learnable class centres c_k (K, D) in the feature space.

    ``forward`` keeps the features it saw in ``last_features`` (and its output) for
    :meth:`per_sample_loss`.
    """

    def __init__(self, in_features: int, num_classes: int, *, lam: float) -> None:
        super().__init__()
        self.in_features = in_features
        self.lam = lam
        self.linear = nn.Linear(in_features, num_classes)
        self.centres = nn.Parameter(torch.zeros(num_classes, in_features))
        self.last_features: torch.Tensor | None = None
        self._last_output: torch.Tensor | None = None

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        self.last_features = features
        self._last_output = self.linear(features)
        return self._last_output

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """CE(logits, y) + (λ/2)·‖f − c_y‖², (N,), with f from the last forward pass.

        ``logits`` may be the first rows of that pass's output (evaluation cuts a padded last
        batch: :func:`~msanalysis.training.data.eval_batches`); any other logits raise.
        """
        f, n, out = self.last_features, logits.shape[0], self._last_output
        is_prefix = out is not None and logits.data_ptr() == out.data_ptr()
        if f is not None and n < f.shape[0] and is_prefix:
            f = f[:n]  # the same storage from its first row: the first n samples of the pass
        if f is None or f.shape[0] != n:
            raise ValueError(
                "center loss needs the features of the forward pass that gave these logits"
            )
        pull = (f.float() - self.centres[target.long()]).pow(2).sum(1)
        return F.cross_entropy(logits, target.long(), reduction="none") + 0.5 * self.lam * pull


class DistanceHead(nn.Module):
    """Logits −scale·‖z − μ_k‖² of a linear embedding z = W f + b, for L-GM and MMC.

    Args:
      in_features: D, the width of the features f (and of the embedding z).
      centres: (K, D) initial centres μ_k.
      learnable: centres are parameters (L-GM's means) or a fixed buffer (MMC's).
      scale: 1/2 for L-GM, 1 for MMC.
      margin: L-GM's α: in training the true class's distance counts (1 + α) times.
      lam: weight of the likelihood term (1/2)·‖z − μ_y‖² added to the loss (L-GM);
        ``None``: that term IS the loss (MMC).
    """

    def __init__(
        self,
        in_features: int,
        centres: torch.Tensor,
        *,
        learnable: bool,
        scale: float,
        margin: float = 0.0,
        lam: float | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.scale, self.margin, self.lam = in_features, scale, margin, lam
        self.embed = nn.Linear(in_features, centres.shape[1])
        # Different names, so that an L-GM checkpoint never loads into an MMC model or back.
        if learnable:
            self.means = nn.Parameter(centres.clone())
        else:
            self.register_buffer("centres", centres.clone())

    @property
    def mu(self) -> torch.Tensor:
        """The (K, D) centres: L-GM's learnable ``means`` or MMC's fixed ``centres``."""
        return self.means if "means" in self._parameters else self.centres

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        z = self.embed(features).float()
        return -self.scale * (z[:, None, :] - self.mu).pow(2).sum(-1)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The training loss per sample, (N,), from the logits alone (d_k = −logit_k/scale)."""
        target = target.long()
        true = logits.gather(1, target[:, None]).squeeze(1)  # −scale·d_y
        half_d_true = -true / (2 * self.scale)  # (1/2)·d_y
        if self.lam is None:
            return half_d_true
        shifted = logits.scatter(1, target[:, None], (1 + self.margin) * true[:, None])
        return F.cross_entropy(shifted, target, reduction="none") + self.lam * half_d_true


@dataclass(frozen=True)
class BaselineSpec:
    """A baseline: its hyper-parameters' defaults, its head factory and its source."""

    defaults: dict[str, float]
    head: Callable[..., nn.Module]  # (in_features, num_classes, **params) -> head
    source: str


def _lgm_head(in_features: int, num_classes: int, *, alpha: float, lam: float) -> nn.Module:
    means = torch.randn(num_classes, in_features)
    return DistanceHead(in_features, means, learnable=True, scale=0.5, margin=alpha, lam=lam)


def _mmc_head(in_features: int, num_classes: int, *, c_mm: float) -> nn.Module:
    centres = mmc_centres(num_classes, in_features, c_mm=c_mm)
    return DistanceHead(in_features, centres, learnable=False, scale=1.0)


#: name -> spec. ``sce`` is not here: it is the family's ``ce``.
BASELINES: dict[str, BaselineSpec] = {
    "center": BaselineSpec(
        {"lam": 0.003}, lambda d, k, lam: CenterHead(d, k, lam=lam), "Wen et al. 2016"
    ),
    "lgm": BaselineSpec({"alpha": 0.3, "lam": 0.1}, _lgm_head, "Wan et al. 2018"),
    "mmc": BaselineSpec({"c_mm": 10.0}, _mmc_head, "Pang et al. 2020"),
}


def baseline_params(name: str, params: Mapping[str, float]) -> dict[str, float]:
    """The defaults of baseline ``name`` updated by ``params``, checked.

    Raises:
      ValueError: an unknown baseline, an unknown parameter, or a value out of range
        (λ, α >= 0; C_MM > 0).
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    defaults = BASELINES[name].defaults
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(
            f"{name} takes {', '.join(defaults)}; got unknown parameter(s) {', '.join(unknown)}"
        )
    out = {**defaults, **{k: float(v) for k, v in params.items()}}
    for key, value in out.items():
        ok = value > 0 if key == "c_mm" else value >= 0
        if not (ok and math.isfinite(value)):
            raise ValueError(f"{name}: {key} must be {'> 0' if key == 'c_mm' else '>= 0'}")
    return out


def with_baseline_head(net: nn.Module, loss: str, params: Mapping[str, float]) -> nn.Module:
    """``net`` with the head of baseline ``loss`` in place of its last layer; other losses: as is.

    The head is sized from ``net.feature_dim`` and the old head's ``out_features`` (K).
    """
    if loss not in BASELINES:
        return net
    values = baseline_params(loss, params)
    num_classes = net.head.out_features
    net.set_head(BASELINES[loss].head(net.feature_dim, num_classes, **values))
    return net


class HeadLoss(CheckedLoss):
    """A head's per-sample training loss, reduced as ``nn.CrossEntropyLoss`` does ('mean').

    ``check_values`` as :class:`~msanalysis.training.losses.FamilyLoss`: 'eager' raises on a
    NaN/inf loss at once, 'deferred' records it in :meth:`nonfinite_seen`, 'off' neither.
    """

    def __init__(
        self, per_sample: PerSampleLoss, name: str, *, check_values: CheckValues = "eager"
    ) -> None:
        super().__init__(check_values)
        self.per_sample, self.name = per_sample, name

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        eager = self.check_values == "eager"
        check_logits_target(logits, target, check_values=eager)
        loss = self.per_sample(logits, target)
        if eager and not torch.isfinite(loss).all():
            raise ValueError(f"{self.name} loss is NaN/inf")
        out = loss.mean()
        self._record(out)
        return out


def _head_of(model: nn.Module) -> nn.Module:
    inner = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    return inner.head


def build_criterion(
    loss: str,
    params: Mapping[str, float],
    net: nn.Module,
    *,
    check_values: CheckValues = "eager",
) -> CheckedLoss:
    """The training criterion (logits, target) -> scalar of ``loss`` on ``net``.

    A baseline's criterion is its head's loss (the head must be installed by
    :func:`with_baseline_head`); any other name is the family's :func:`build_loss`.
    ``check_values`` is passed on (see :class:`~msanalysis.training.losses.CheckedLoss`).
    """
    if loss not in BASELINES:
        return build_loss(loss, check_values=check_values, **params)
    head = _head_of(net)
    if not hasattr(head, "per_sample_loss"):
        raise ValueError(f"the model has no {loss} head (use with_baseline_head first)")
    return HeadLoss(head.per_sample_loss, loss, check_values=check_values)


def baseline_objective(loss: str, model: nn.Module) -> PerSampleLoss:
    """The baseline's own training loss, per sample, as an attack objective (reports name it)."""
    head = _head_of(model)

    def objective(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return head.per_sample_loss(logits, target)

    objective.__name__ = f"loss:{loss}"
    return objective


def load_model_state(net: nn.Module, state: Mapping[str, Any], loss: str, *, origin: str) -> None:
    """``net.load_state_dict(state)``, with one line naming the head when the keys differ.

    Raises:
      CheckpointError: the state (from file ``origin``) has other keys than ``net``, e.g. it
        was written with another head.
    """
    mine, theirs = set(net.state_dict()), set(state)
    if mine != theirs:
        missing, extra = sorted(mine - theirs), sorted(theirs - mine)
        raise CheckpointError(
            f"{origin}: the weights are not those of a {loss!r} model (a checkpoint trained "
            f"with another head?): missing {', '.join(missing[:3]) or 'none'}"
            f"{' ...' if len(missing) > 3 else ''}; unexpected {', '.join(extra[:3]) or 'none'}"
            f"{' ...' if len(extra) > 3 else ''}"
        )
    net.load_state_dict(state)
