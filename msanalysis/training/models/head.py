"""Every registry network as a feature extractor followed by a head.

``net.forward_features(x)`` is the penultimate representation, (N, D), and ``net.head`` the
last layer mapping it to the logits, so ``net(x) == net.head(net.forward_features(x))``. The
baselines of :mod:`msanalysis.training.baselines` (Center loss, L-GM, MMC) replace the head
with :meth:`HeadMixin.set_head`; CE and MS models keep their ``nn.Linear`` head, so their
outputs and state-dict keys are what they were before the split.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["HeadMixin", "NormalizedNet"]


class HeadMixin:
    """Head access for an ``nn.Module`` whose last layer sits at ``head_path``.

    A subclass defines ``forward_features(x) -> (N, D)`` and calls ``self.head`` in
    ``forward``; ``head_path`` names the head's attribute (default ``linear``), nested for
    heads inside an ``nn.Sequential`` (``("classifier", "3")``).
    """

    head_path: tuple[str, ...] = ("linear",)

    @property
    def head(self) -> nn.Module:
        return self.get_submodule(".".join(self.head_path))  # type: ignore[attr-defined]

    @property
    def feature_dim(self) -> int:
        """D, the width of ``forward_features``' output (the head's ``in_features``)."""
        return int(self.head.in_features)

    def set_head(self, head: nn.Module) -> None:
        """Put ``head`` (it must have ``in_features == feature_dim``) in place of the last layer."""
        width = getattr(head, "in_features", None)
        if width != self.feature_dim:
            raise ValueError(
                f"head {type(head).__name__} takes {width} features, but "
                f"{type(self).__name__} has {self.feature_dim}"
            )
        parent = self.get_submodule(".".join(self.head_path[:-1]))  # type: ignore[attr-defined]
        setattr(parent, self.head_path[-1], head)


class NormalizedNet(nn.Sequential):
    """``nn.Sequential(Normalize, net)`` that passes ``net``'s head API through.

    Its state-dict keys are those of the plain ``nn.Sequential`` (``0.mean``, ``1.conv1...``),
    so checkpoints written before this class existed load unchanged.
    """

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self[1].forward_features(self[0](x))

    @property
    def head(self) -> nn.Module:
        return self[1].head

    @property
    def feature_dim(self) -> int:
        return self[1].feature_dim

    def set_head(self, head: nn.Module) -> None:
        self[1].set_head(head)
