"""Data-parallel training on several GPUs (or CPU processes) with DDP and torchrun.

Data parallelism in one paragraph: ``torchrun`` starts one process per GPU; each
holds a full copy of the model and trains on its own shard of every global batch
(``DistributedSampler``). During ``backward``, ``DistributedDataParallel`` averages
the gradients of all processes (an all-reduce), so every copy takes the same
step: the step that one process would take on the whole global batch with a
mean-reduced loss. Only rank 0 prints and writes files.

The usual script, launched on a machine with 4 GPUs by
``torchrun --standalone --nproc_per_node=4 train.py``::

    info = init_distributed()             # reads RANK, WORLD_SIZE, ... from torchrun
    model = wrap_ddp(build_model(), info.device)
    loader = distributed_loader(train_set, batch_size=64, seed=0)  # per process
    history = fit(model, loader, epochs=10, optimizer=..., device=info.device)
    cleanup_distributed()

The same script also runs as a single process with plain ``python train.py``:
without torchrun's variables, ``init_distributed`` starts nothing, ``wrap_ddp``
returns the model and ``distributed_loader`` an ordinary shuffling loader.
``python -m cnnlib.train.ddp_demo --help`` is a complete example.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler


@dataclass(frozen=True)
class DistributedInfo:
    """Where this process stands: its rank among ``world_size`` and its device."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True for the process that prints and saves (rank 0)."""
        return self.rank == 0


def init_distributed(backend: str | None = None) -> DistributedInfo:
    """Join the process group described by torchrun's environment variables.

    torchrun sets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` for every process it starts. Without them this is a single
    process and nothing is initialised.

    Args:
        backend: "nccl" (GPUs) or "gloo" (CPUs); default nccl when CUDA is
            available, gloo otherwise.

    Returns:
        The process's rank, local rank (GPU index on its machine), world size and
        device (``cuda:LOCAL_RANK``, else ``cpu``).
    """
    cuda = torch.cuda.is_available()
    if "WORLD_SIZE" not in os.environ:
        device = torch.device("cuda" if cuda else "cpu")
        return DistributedInfo(rank=0, local_rank=0, world_size=1, device=device)
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if cuda:
        # Before init: NCCL binds each process to the GPU it is told to use.
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend or ("nccl" if cuda else "gloo"))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    return DistributedInfo(
        rank=dist.get_rank(),
        local_rank=local_rank,
        world_size=dist.get_world_size(),
        device=device,
    )


def cleanup_distributed() -> None:
    """Leave the process group (call once at the end of the script)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main_process() -> bool:
    """True for rank 0, or when not distributed at all."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def wrap_ddp(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Move ``model`` to ``device`` and wrap it in ``DistributedDataParallel``.

    DDP copies rank 0's weights to every process at construction, so the copies
    start equal even if each process initialised its model differently. Outside a
    process group the model is returned unwrapped (on ``device``).
    """
    model = model.to(device)
    if not is_distributed():
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def distributed_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = False,
    **loader_kwargs,
) -> DataLoader:
    """A loader giving this process its shard of every global batch.

    Args:
        dataset: the full dataset (every process holds it).
        batch_size: samples per process; the global batch is ``batch_size *
            world_size``, which is the batch size the learning rate must suit.
        shuffle: reshuffle every epoch (``fit`` calls ``sampler.set_epoch``), with
            the same permutation on every process, derived from ``seed``.
        seed: seed of the shuffling permutation.
        drop_last: drop the samples that do not fill a last complete batch.
        **loader_kwargs: passed to ``DataLoader`` (num_workers, pin_memory, ...).

    Note: ``DistributedSampler`` pads the dataset by repeating a few samples so
    every process gets the same number; metrics on a sharded validation set
    therefore count up to ``world_size - 1`` samples twice.
    """
    if not is_distributed():
        generator = torch.Generator().manual_seed(seed)
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            generator=generator if shuffle else None,
            **loader_kwargs,
        )
    sampler = DistributedSampler(
        dataset, shuffle=shuffle, seed=seed, drop_last=drop_last
    )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        **loader_kwargs,
    )


def is_sharded(loader: DataLoader) -> bool:
    """True when ``loader`` draws only this process's shard (a DistributedSampler)."""
    sampler = getattr(loader, "sampler", None)
    batch_sampler = getattr(loader, "batch_sampler", None)
    inner = getattr(batch_sampler, "sampler", None)
    return isinstance(sampler, DistributedSampler) or isinstance(
        inner, DistributedSampler
    )


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place, and return it."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor
