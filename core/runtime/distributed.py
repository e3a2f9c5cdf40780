"""Data-parallel meta-training over processes started by ``torchrun``.

Every process (rank) holds the whole model and draws its own episodes; after the
backward pass the gradients are averaged over the ranks, so every rank takes the same
optimiser step and the weights stay identical. With ``meta_batch`` episodes per rank
and ``world_size`` ranks, one step averages ``meta_batch * world_size`` episodes (the
global meta-batch); the learning rate is not scaled. Rank ``r`` uses the episodes a
single process with the global meta-batch would use in slot ``r``, so K processes
train on exactly the episodes of one process with a K times larger meta-batch.

A plain single process is the same code with ``world_size == 1``: every helper here is
then a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from core.runtime.devices import resolve_device

TIMEOUT = timedelta(minutes=30)  # other ranks wait in the next all-reduce while rank 0 validates


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands among ``world_size`` (one per GPU or CPU worker)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 validates, prints and writes the checkpoint."""
        return self.rank == 0

    def episode_indices(self, step: int, meta_batch: int) -> range:
        """This rank's episodes at ``step``: slot ``rank`` of the global meta-batch."""
        first = (step * self.world_size + self.rank) * meta_batch
        return range(first, first + meta_batch)


SINGLE = DistributedContext()


def from_environment(environ: Mapping[str, str] = os.environ) -> DistributedContext:
    """The context torchrun describes in RANK, WORLD_SIZE and LOCAL_RANK (one process when absent)."""
    if "WORLD_SIZE" not in environ:
        return SINGLE
    try:
        context = DistributedContext(int(environ["RANK"]), int(environ["WORLD_SIZE"]), int(environ["LOCAL_RANK"]))
    except (KeyError, ValueError):
        raise ValueError("WORLD_SIZE is set but RANK or LOCAL_RANK is missing or not a number: use torchrun") from None
    if not 0 <= context.rank < context.world_size:
        raise ValueError(f"RANK={context.rank} is outside 0..WORLD_SIZE-1={context.world_size - 1}")
    return context


def start(context: DistributedContext, device_name: str = "auto") -> torch.device:
    """This rank's device; under torchrun also joins the process group (NCCL on CUDA, gloo on CPUs)."""
    if not context.enabled:
        return resolve_device(device_name)
    device = rank_device(context, device_name)
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", timeout=TIMEOUT, device_id=device)
    else:
        dist.init_process_group("gloo", timeout=TIMEOUT)
    return device


def rank_device(context: DistributedContext, device_name: str) -> torch.device:
    """cuda:LOCAL_RANK when the device resolves to CUDA, else the CPU; MPS cannot be shared out."""
    if ":" in str(device_name):
        raise ValueError(f"under torchrun each process takes cuda:LOCAL_RANK; pass --device cuda, not {device_name}")
    device = resolve_device(device_name)
    if device.type == "mps":
        raise ValueError("distributed training runs on CUDA (nccl) or CPUs (gloo); pass --device cuda or cpu")
    if device.type != "cuda":
        return device
    if context.local_rank >= torch.cuda.device_count():
        raise ValueError(
            f"LOCAL_RANK={context.local_rank} but this node has {torch.cuda.device_count()} GPU(s); "
            "start at most that many processes per node (--nproc_per_node)"
        )
    return torch.device("cuda", context.local_rank)


def stop(context: DistributedContext) -> None:
    """Leave the process group (after training; rank 0 tests and saves alone)."""
    if context.enabled and dist.is_initialized():
        dist.barrier()  # a rank that leaves while another still talks can abort it (seen in CI with gloo)
        dist.destroy_process_group()


@contextmanager
def main_first(context: DistributedContext) -> Iterator[None]:
    """Run the body on each node's local rank 0 first, then on the others (decode and cache data once)."""
    if context.enabled and context.local_rank != 0:
        dist.barrier()
    yield
    if context.enabled and context.local_rank == 0:
        dist.barrier()


# We all-reduce gradients by hand rather than wrap the model in DistributedDataParallel:
# DDP hooks into module forward calls and parameter accumulation, but MAML's inner loop
# calls the network functionally on a dict of adapted parameters and differentiates
# through it twice, which DDP's hooks do not follow. One flat all-reduce after backward is
# exact for every algorithm here.


def average_gradients(parameters: Iterable[nn.Parameter], world_size: int) -> None:
    """Replace each parameter's .grad by its mean over the ranks, in place (one all-reduce).

    Every rank must pass the same parameters in the same order. A missing grad counts as
    zeros; it stays None only when it was None on every rank (as one process would leave it).
    """
    params = [p for p in parameters if p.requires_grad]
    if world_size == 1 or not params:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    present = torch.tensor([float(p.grad is not None) for p in params], dtype=grads[0].dtype, device=grads[0].device)
    flat = torch.cat([*(g.reshape(-1) for g in grads), present])
    dist.all_reduce(flat)
    flat.div_(world_size)
    offset = 0
    for param, count in zip(params, flat[-len(params) :].tolist(), strict=True):
        mean = flat[offset : offset + param.numel()].view(param.shape)
        offset += param.numel()
        if count == 0:
            param.grad = None
        elif param.grad is None:
            param.grad = torch.empty_like(param).copy_(mean)  # keeps the parameter's memory format
        else:
            param.grad.copy_(mean)


def average_buffers(module: nn.Module, world_size: int) -> None:
    """Average floating-point buffers (BatchNorm running statistics) over the ranks, in place.

    Keeps every rank's model identical; the running mean then follows the mean of the
    ranks' batch statistics.
    """
    buffers = [b for b in module.buffers() if b.is_floating_point()]
    if world_size == 1 or not buffers:
        return
    flat = torch.cat([b.reshape(-1).to(torch.float64) for b in buffers])
    dist.all_reduce(flat)
    flat.div_(world_size)
    offset = 0
    for buffer in buffers:
        buffer.copy_(flat[offset : offset + buffer.numel()].view(buffer.shape))
        offset += buffer.numel()


def average_values(values: list[float], world_size: int, device: torch.device) -> list[float]:
    """The mean over ranks of a few numbers (loss, accuracy), the same list on every rank."""
    if world_size == 1:
        return values
    flat = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(flat)
    return (flat / world_size).tolist()


@torch.no_grad()
def broadcast_module(module: nn.Module, context: DistributedContext) -> None:
    """Copy rank 0's parameters and buffers to every rank (the same start everywhere)."""
    if not context.enabled:
        return
    for tensor in module.state_dict().values():
        dense = tensor.contiguous()
        dist.broadcast(dense, src=0)
        if dense.data_ptr() != tensor.data_ptr():
            tensor.copy_(dense)
