"""The networks of the experiments, one architecture per module, behind one registry.

>>> from msanalysis.training.models import build_model
>>> net = build_model("small-cnn")                       # Fashion-MNIST stats inside
>>> net = build_model("resnet18", in_channels=1, normalize="fashion-mnist")

Every image model starts with a :class:`Normalize` layer holding its dataset's mean and std
(:mod:`msanalysis.training.datasets_stats`), so it takes images in [0, 1]. The toy MLP takes
raw 2-D points and has no normalisation unless one is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from torch import nn

from ...registry import lookup
from ..datasets_stats import ChannelStats, dataset_stats
from .densenet import densenet121
from .googlenet import googlenet
from .head import HeadMixin, NormalizedNet
from .mlp import mlp
from .normalize import Normalize
from .resnet import resnet18, resnet34
from .small_cnn import small_cnn

__all__ = [
    "ModelSpec",
    "MODELS",
    "Normalize",
    "HeadMixin",
    "NormalizedNet",
    "get_model",
    "build_model",
    "model_info",
    "count_parameters",
    "eval_mode",
]

# (mean, std) given directly, or the name of a dataset of DATASET_STATS.
NormalizeArg = tuple[Sequence[float], Sequence[float]] | str | None


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture: its factory, default input shape and default dataset stats."""

    name: str
    factory: Callable[..., nn.Module]
    input_shape: tuple[int, ...]  # one sample, channels first; (features,) for the MLP
    dataset: str | None  # whose stats the Normalize layer gets by default; None: no layer
    description: str


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("resnet18", resnet18, (3, 32, 32), "cifar10", "CIFAR ResNet-18 (kuangliu)"),
        ModelSpec("resnet34", resnet34, (3, 32, 32), "cifar10", "CIFAR ResNet-34 (kuangliu)"),
        ModelSpec("googlenet", googlenet, (3, 32, 32), "cifar10", "CIFAR GoogLeNet (kuangliu)"),
        ModelSpec(
            "densenet121",
            densenet121,
            (3, 32, 32),
            "cifar10",
            "CIFAR DenseNet-121, k=32 (kuangliu)",
        ),
        ModelSpec(
            "small-cnn", small_cnn, (1, 28, 28), "fashion-mnist", "2 conv + 2 dense, for 28x28"
        ),
        ModelSpec("mlp", mlp, (2,), None, "toy 2 -> 64 -> classes, ReLU"),
    )
}


def get_model(name: str) -> ModelSpec:
    """Look an architecture up by name, with an error that lists the valid names."""
    return lookup(MODELS, name, kind="model")


def _given_stats(normalize: NormalizeArg) -> ChannelStats | None:
    """The stats asked for: (mean, std), a dataset name, or None."""
    if isinstance(normalize, str):
        return dataset_stats(normalize)
    if normalize is None:
        return None
    mean, std = normalize
    return ChannelStats(tuple(mean), tuple(std))


def _default_stats(spec: ModelSpec, channels: int) -> ChannelStats | None:
    """The model's default dataset's stats, if they fit ``channels``."""
    if spec.dataset is None:
        return None
    stats = dataset_stats(spec.dataset)
    if len(stats.mean) != channels:
        raise ValueError(
            f"model {spec.name!r} with in_channels={channels}: its default stats "
            f"({spec.dataset}) have "
            f"{len(stats.mean)} channel(s); pass normalize=(mean, std) or a dataset name"
        )
    return stats


def build_model(
    name: str,
    *,
    num_classes: int = 10,
    in_channels: int | None = None,
    normalize: NormalizeArg = None,
    **options: Any,
) -> nn.Module:
    """A freshly initialised network, normalisation included.

    Args:
      name: one of :data:`MODELS` (resnet18, resnet34, googlenet, densenet121, small-cnn, mlp).
      num_classes: number of logits, >= 2.
      in_channels: input channels (input features for the MLP); default from the model's
        input shape, or the length of ``normalize``'s mean when that is given.
      normalize: (mean, std) per channel, a dataset name of
        :data:`~msanalysis.training.datasets_stats.DATASET_STATS`, or None for the model's
        default dataset (none for the MLP).
      **options: extra keyword arguments of the architecture (``hidden`` for small-cnn, mlp).

    Returns:
      ``NormalizedNet(Normalize, net)`` (an ``nn.Sequential``), or the bare net when there is
      no normalisation; either has ``forward_features``, ``head`` and ``set_head``
      (:mod:`~msanalysis.training.models.head`).
    """
    spec = get_model(name)
    if num_classes < 2:
        raise ValueError(f"num_classes={num_classes}: expected >= 2")
    stats = _given_stats(normalize)
    channels = in_channels or (len(stats.mean) if stats is not None else spec.input_shape[0])
    if channels < 1:
        raise ValueError(f"in_channels={channels}: expected >= 1")
    if stats is None:
        stats = _default_stats(spec, channels)
    elif len(stats.mean) != channels:
        raise ValueError(f"normalize has {len(stats.mean)} channel(s) but in_channels={channels}")
    net = spec.factory(num_classes=num_classes, in_channels=channels, **options)
    return net if stats is None else NormalizedNet(Normalize(stats.mean, stats.std), net)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (buffers such as Normalize's mean/std not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def model_info(num_classes: int = 10) -> list[dict[str, Any]]:
    """Name, default input shape, parameter count and description of every registered model."""
    return [
        {
            "name": spec.name,
            "input_shape": list(spec.input_shape),
            "parameters": count_parameters(build_model(spec.name, num_classes=num_classes)),
            "normalize": spec.dataset,
            "description": spec.description,
        }
        for spec in MODELS.values()
    ]


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block, then give each submodule its own mode back.

    Attacks and evaluations must see the deterministic network (dropout off, batch norm on its
    running stats) whatever mode the caller left it in, and must not change that mode: a
    training loop that calls an attack keeps training afterwards. Each submodule's flag is
    restored, not only the top one, so a partly frozen model stays as it was.

    Args:
      model: the network; its ``training`` flags are restored even if the block raises.

    Returns:
      A context manager yielding ``model``.

    Examples:
      >>> from torch import nn
      >>> net = nn.Sequential(nn.Linear(2, 2), nn.Dropout()).train()
      >>> net[1].eval()  # doctest: +ELLIPSIS
      Dropout(...)
      >>> with eval_mode(net):
      ...     print(net.training, net[0].training)
      False False
      >>> net.training, net[1].training
      (True, False)
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training
