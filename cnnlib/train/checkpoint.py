"""Save and restore a training run: weights, optimizer state, epoch and history.

Checkpoints hold only tensors and plain Python values, so they load with
``torch.load(weights_only=True)``: that loader refuses to run code stored in the
file, which makes a checkpoint downloaded from a colleague safe to open.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from cnnlib.train.history import History


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a ``DistributedDataParallel``/``DataParallel`` wrapper.

    Saving the inner model keeps parameter names free of the wrapper's "module."
    prefix, so a checkpoint from a multi-GPU run loads into a plain model.
    """
    if isinstance(model, DistributedDataParallel | torch.nn.DataParallel):
        return model.module
    return model


def save_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    epoch: int | None = None,
    history: History | None = None,
    scheduler: Any | None = None,
) -> None:
    """Write ``model`` (and optimizer, scheduler, epoch, history if given) to ``path``.

    Args:
        path: file to write, conventionally ending in ".pt".
        model: its ``state_dict`` is saved (unwrapped from DDP).
        optimizer: its ``state_dict`` (momentum buffers, Adam moments) to resume.
        epoch: number of epochs completed.
        history: stored as ``History.as_dict()``, plain lists of floats.
        scheduler: a learning-rate scheduler whose ``state_dict`` is saved.

    Example:
        >>> import tempfile, torch
        >>> model = torch.nn.Linear(2, 1)
        >>> path = tempfile.mkdtemp() + "/model.pt"
        >>> save_checkpoint(path, model, epoch=3)
        >>> load_checkpoint(path, torch.nn.Linear(2, 1))["epoch"]
        3
    """
    state = {"model": unwrap(model).state_dict(), "epoch": epoch}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if history is not None:
        state["history"] = history.as_dict()
    torch.save(state, path)


def load_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    scheduler: Any | None = None,
    map_location: str | torch.device | None = "cpu",
) -> dict[str, Any]:
    """Load a checkpoint written by ``save_checkpoint`` into ``model`` (in place).

    Args:
        path: the checkpoint file.
        model: a model of the same architecture; receives the weights.
        optimizer: if given, receives the saved optimizer state.
        scheduler: if given, receives the saved scheduler state.
        map_location: where tensors are loaded ("cpu" works on any machine; the
            weights then move with the model, e.g. ``model.to("cuda")``).

    Returns:
        ``{"epoch": int | None, "history": History | None}``.
    """
    state = torch.load(path, map_location=map_location, weights_only=True)
    unwrap(model).load_state_dict(state["model"])
    if optimizer is not None:
        if "optimizer" not in state:
            raise KeyError(f"load_checkpoint: {path} holds no optimizer state")
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        if "scheduler" not in state:
            raise KeyError(f"load_checkpoint: {path} holds no scheduler state")
        scheduler.load_state_dict(state["scheduler"])
    history = state.get("history")
    return {
        "epoch": state.get("epoch"),
        "history": None if history is None else History.from_dict(history),
    }
