"""Data-parallel training across processes started by ``torchrun``.

``torchrun --nproc_per_node N -m msanalysis train ...`` sets RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR and MASTER_PORT; :func:`init_distributed` reads them and joins the process group
(NCCL on GPUs, gloo on CPUs). Without them the run is a single process and nothing is set up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["Dist", "SINGLE_PROCESS", "init_distributed", "close_distributed", "all_reduce_sum"]


@dataclass(frozen=True)
class Dist:
    """This process's place among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 writes metrics and checkpoints and shows progress."""
        return self.rank == 0


#: The one process of a run without torchrun (the default of the training functions).
SINGLE_PROCESS = Dist()


def init_distributed(*, use_cuda: bool) -> Dist:
    """Join torchrun's process group when WORLD_SIZE > 1; a single-process Dist otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Dist()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Dist(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank)


def close_distributed(ctx: Dist, *, wait: bool = True) -> None:
    """Leave the process group, after every process got there when ``wait`` (not on errors)."""
    if ctx.world_size > 1:
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor, ctx: Dist) -> torch.Tensor:
    """The sum of ``tensor`` over all processes (the tensor itself when there is one)."""
    if ctx.world_size > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor
