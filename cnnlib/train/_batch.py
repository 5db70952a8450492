"""Helpers shared by ``fit``, ``evaluate`` and ``predict``: batches and devices."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from cnnlib.train.amp import to_channels_last


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device``; None: the best present (cuda, mps, cpu).

    A device that this machine lacks (e.g. "cuda" on a laptop) raises an error
    saying so, instead of failing later inside the first forward pass.
    """
    from cnnlib.device import best_device  # late import: cnnlib imports cnnlib.train

    return best_device(device)


def split_batch(batch: object, where: str) -> tuple[Tensor, Tensor]:
    """``(inputs, targets)`` from a loader's batch, which must be a pair."""
    if isinstance(batch, list | tuple) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(
        f"{where}: each batch must be a pair (inputs, targets), as a DataLoader over "
        f"a TensorDataset(x, y) gives; got {type(batch).__name__}"
        + (f" of length {len(batch)}" if isinstance(batch, list | tuple) else "")
    )


def to_device(x: Tensor, device: torch.device, channels_last: bool = False) -> Tensor:
    """Move a batch tensor to ``device`` (asynchronously from pinned memory on CUDA)."""
    x = x.to(device, non_blocking=device.type == "cuda")
    return to_channels_last(x) if channels_last else x


def set_epoch(loader: Iterable, epoch: int) -> None:
    """Tell a ``DistributedSampler`` the epoch, so each epoch gets a new shuffle."""
    for sampler in (
        getattr(loader, "sampler", None),
        getattr(getattr(loader, "batch_sampler", None), "sampler", None),
    ):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            return
