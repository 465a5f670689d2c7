"""Data parallelism under torchrun: process group set-up, device choice, batch sharding.

The same command run as `torchrun --nproc_per_node N ...` trains the same model: every
process draws the same global batch and keeps its 1/N slice; DistributedDataParallel
averages the gradients (gloo on CPU, NCCL on GPU).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from interp.errors import ConfigError


@dataclass(frozen=True)
class Placement:
    """Where this process runs: its rank among world_size processes and its device."""

    rank: int
    world_size: int
    device: torch.device
    owns_group: bool  # True when this loop created the process group (and must destroy it)

    @property
    def is_main(self) -> bool:
        """True on the process that logs and writes files."""
        return self.rank == 0


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """'cpu', 'cuda' or 'auto' to a torch.device (one GPU per local rank)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device='cuda' but no CUDA device is available; use --device cpu.")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def setup(device: str) -> Placement:
    """Join the torchrun process group when launched by torchrun, else a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    torch_device = resolve_device(device, local_rank)
    if world_size == 1:
        return Placement(0, 1, torch_device, owns_group=False)
    owns = not dist.is_initialized()
    if owns:
        backend = "nccl" if torch_device.type == "cuda" else "gloo"
        if torch_device.type == "cuda":
            torch.cuda.set_device(torch_device)
        dist.init_process_group(backend=backend)
    return Placement(dist.get_rank(), dist.get_world_size(), torch_device, owns_group=owns)


def teardown(placement: Placement) -> None:
    """Destroy the process group if `setup` created it."""
    if placement.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def shard(batch: object, rank: int, world_size: int) -> object:
    """This rank's contiguous slice (dim 0) of a tensor or tuple of tensors."""
    if world_size == 1:
        return batch
    if isinstance(batch, torch.Tensor):
        size = batch.shape[0] // world_size
        return batch[rank * size:(rank + 1) * size]
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(part, rank, world_size) for part in batch)
    raise ConfigError(f"cannot shard a batch of type {type(batch).__name__}; return tensors or tuples.")


def to_device(batch: object, device: torch.device) -> object:
    """Move a tensor or tuple of tensors to `device`."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(part, device) for part in batch)
    return batch


def all_max(flag: bool, placement: Placement) -> bool:
    """True on every process when it is True on any (a stop request must be unanimous)."""
    if placement.world_size == 1:
        return flag
    tensor = torch.tensor([1.0 if flag else 0.0], device=placement.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def all_mean(value: float, placement: Placement) -> float:
    """Mean of a float over processes (for logging the global training loss)."""
    if placement.world_size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=placement.device)
    dist.all_reduce(tensor)
    return tensor.item() / placement.world_size


def barrier(placement: Placement) -> None:
    """Wait for every process (after rank 0 wrote files)."""
    if placement.world_size > 1:
        dist.barrier()
