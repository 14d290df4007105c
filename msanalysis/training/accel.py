"""The accelerated path's settings: device, precision and memory format, chosen explicitly.

Every part of the fast path that is not CUDA-only runs through the same code on the CPU:
bf16 autocast (``torch.autocast(device.type, dtype=torch.bfloat16)``), channels_last, data
held on the device and torch.compile. ``"auto"`` picks the CUDA defaults on a GPU (bf16,
channels_last) and float32 / contiguous elsewhere; any setting may be forced on any device.

Accuracy is measured in one precision everywhere: :func:`measured` turns any settings into
float32 ones (same device and memory format), and training's evaluation, ``best.pt``'s choice,
``attack`` and the tables all run their forward passes through it unless bf16 is asked for
explicitly (``attack --precision bf16``, whose JSON then says so). On a GPU, float32 here
means float32 convolutions: cuDNN's TF32 (PyTorch's default for convolutions) is switched off
for the forward passes of a float32 :class:`Accel`.

Examples:
    >>> accel = resolve_accel("cpu")
    >>> accel.precision, accel.memory_format
    ('fp32', 'contiguous')
    >>> resolve_accel("cpu", precision="bf16", memory_format="channels_last").autocast_dtype
    torch.bfloat16
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import torch
from torch import nn

__all__ = [
    "PRECISIONS",
    "MEMORY_FORMATS",
    "Accel",
    "AcceleratedModel",
    "resolve_device",
    "resolve_accel",
    "measured",
    "machine",
]

Precision = Literal["fp32", "bf16"]
MemoryFormat = Literal["contiguous", "channels_last"]
PRECISIONS = ("auto", "fp32", "bf16")
MEMORY_FORMATS = ("auto", "contiguous", "channels_last")


@dataclass(frozen=True)
class Accel:
    """Where and how a model runs.

    Attributes:
      device: the device holding model, data and every per-step tensor (with an index on CUDA).
      precision: ``"fp32"``, or ``"bf16"`` (forward passes under bf16 autocast, weights float32).
      memory_format: ``"contiguous"`` or ``"channels_last"`` (model and image batches).
    """

    device: torch.device
    precision: Precision = "fp32"
    memory_format: MemoryFormat = "contiguous"

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """bfloat16 under bf16, else None (no autocast)."""
        return torch.bfloat16 if self.precision == "bf16" else None

    @property
    def torch_memory_format(self) -> torch.memory_format:
        return (
            torch.channels_last
            if self.memory_format == "channels_last"
            else torch.contiguous_format
        )

    @contextlib.contextmanager
    def forward(self) -> Iterator[None]:
        """The context of a forward pass: bf16 autocast, or strict float32 (no cuDNN TF32)."""
        if self.precision == "bf16":
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                yield
            return
        tf32 = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32 = tf32

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """A batch in the chosen memory format (4-D batches only; others are returned as is)."""
        return x.contiguous(memory_format=self.torch_memory_format) if x.ndim == 4 else x

    def module(self, net: nn.Module) -> nn.Module:
        """``net`` moved to the device, in the chosen memory format (in place, as ``.to``)."""
        return net.to(self.device, memory_format=self.torch_memory_format)

    def describe(self) -> dict[str, str]:
        """Plain values for reports and JSON."""
        return {
            "device": str(self.device),
            "precision": self.precision,
            "memory_format": self.memory_format,
        }


class AcceleratedModel(nn.Module):
    """``model`` run under ``accel``: inputs in its memory format, forward in its precision,
    float32 logits out. Attacks and evaluation take it as any model (gradients flow through).
    """

    def __init__(self, model: nn.Module, accel: Accel) -> None:
        super().__init__()
        self.model = model
        self.accel = accel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self.accel.forward():
            return self.model(self.accel.images(x)).float()


def resolve_device(
    name: str | torch.device | None = "auto", *, local_rank: int = 0
) -> torch.device:
    """``"auto"``/None -> CUDA when available, else the CPU; a bare ``cuda`` gets an index.

    The index of a bare ``cuda`` is ``local_rank`` (the process's GPU under torchrun), so a
    device always names one GPU (DDP's ``device_ids`` needs it).

    Raises:
      ValueError: ``cuda`` asked for but not available.
    """
    if name is None or name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r}: no CUDA device is available")
        if device.index is None:
            device = torch.device("cuda", local_rank)
    return device


def resolve_accel(
    device: str | torch.device | None = "auto",
    *,
    precision: str = "auto",
    memory_format: str = "auto",
    local_rank: int = 0,
) -> Accel:
    """Settings from names; ``"auto"`` is bf16 / channels_last on CUDA, fp32 / contiguous elsewhere.

    Raises:
      ValueError: an unknown name, or ``cuda`` without a GPU.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if memory_format not in MEMORY_FORMATS:
        raise ValueError(
            f"memory format {memory_format!r}: choose one of {', '.join(MEMORY_FORMATS)}"
        )
    dev = resolve_device(device, local_rank=local_rank)
    cuda = dev.type == "cuda"
    if precision == "auto":
        precision = "bf16" if cuda else "fp32"
    if memory_format == "auto":
        memory_format = "channels_last" if cuda else "contiguous"
    return Accel(dev, precision, memory_format)  # type: ignore[arg-type]


def measured(accel: Accel) -> Accel:
    """The settings accuracy is measured with: ``accel`` in float32 (see the module docstring)."""
    return replace(accel, precision="fp32")


def machine() -> dict[str, str | int]:
    """The processor, torch's intra-op thread count and torch's version of this process.

    Results files record them with each training run: on a CPU the floats of a run depend on
    the thread count (the same study trained with one and with two threads gave different
    models, docs/study.md), so a run is reproduced on the same CPU model with the same threads.
    """
    info: dict[str, str | int] = {
        "cpu": _cpu_model(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _cpu_model() -> str:
    """The "model name" of /proc/cpuinfo (Linux), else what ``platform`` reports."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or platform.machine()
