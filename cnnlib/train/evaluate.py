"""``evaluate`` (loss and metrics over a loader) and ``predict`` (model outputs)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from cnnlib.train._batch import resolve_device, split_batch, to_device
from cnnlib.train.amp import autocast
from cnnlib.train.checkpoint import unwrap
from cnnlib.train.distributed import all_reduce_sum, is_distributed, is_sharded
from cnnlib.train.tracker import Metric, MetricTracker


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    loader: Iterable,
    *,
    loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy,
    metrics: Sequence[Metric] = ("accuracy",),
    device: str | torch.device | None = None,
    amp: str | None = None,
    channels_last: bool = False,
    progress: bool = False,
) -> dict[str, float]:
    """Loss and metrics of ``model`` over every batch of ``loader``, in eval mode.

    Dropout is off and batch norm uses its running statistics; the model's
    train/eval mode is restored afterwards. Under ``torch.distributed`` with a
    sharded loader (``distributed_loader``) the totals are summed over processes.

    Args:
        model: any module mapping inputs to scores (N, C, ...).
        loader: yields ``(inputs, targets)`` batches.
        loss_fn: ``loss_fn(scores, targets)``, mean over the batch.
        metrics: names ("accuracy", "top5_accuracy", "mean_iou", "mean_dice") or
            callables ``fn(scores, targets) -> float``.
        device: where to compute; default ``cnnlib.best_device()``.
        amp: None, "bf16" or "fp16": autocast as in ``fit``.
        channels_last: channels-last memory format for the inputs.
        progress: show a progress bar.

    Returns:
        ``{"loss": ..., "accuracy": ..., ...}`` as Python floats.

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=4)
        >>> sorted(evaluate(torch.nn.Linear(3, 2), loader, device="cpu"))
        ['accuracy', 'loss']
    """
    device = resolve_device(device)
    inner = unwrap(model)  # no DDP collectives needed without gradients
    was_training = inner.training
    inner.to(device).eval()
    tracker = MetricTracker(metrics)
    try:
        for batch in tqdm(loader, desc="eval", leave=False, disable=not progress):
            x, y = split_batch(batch, "evaluate")
            x, y = to_device(x, device, channels_last), to_device(y, device)
            with autocast(amp, device):
                scores = inner(x)
                loss = loss_fn(scores, y)
            tracker.update(loss.float(), scores.float(), y)
    finally:
        inner.train(was_training)
    reduce = all_reduce_sum if is_distributed() and is_sharded(loader) else None
    return tracker.compute(reduce)


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    data: Tensor | Iterable,
    *,
    device: str | torch.device | None = None,
    return_logits: bool = False,
    batch_size: int = 256,
    amp: str | None = None,
) -> Tensor:
    """Run ``model`` in eval mode over ``data`` and gather its outputs on the CPU.

    Args:
        model: any module mapping inputs to scores (N, C, ...).
        data: an input tensor (N, ...), or a loader whose batches are inputs or
            ``(inputs, targets)`` pairs (targets are ignored).
        device: where to compute; default ``cnnlib.best_device()``.
        return_logits: return the raw scores instead of the predicted classes.
        batch_size: batch size used when ``data`` is a tensor.
        amp: None, "bf16" or "fp16"; scores are returned in float32 either way.

    Returns:
        Predicted classes (argmax over dim 1), int64 of shape (N, ...) (e.g. (N,) or
        (N, H, W)); or with ``return_logits`` the scores (N, C, ...).

    Example:
        >>> import torch
        >>> predict(torch.nn.Linear(3, 4), torch.randn(5, 3), device="cpu").shape
        torch.Size([5])
    """
    device = resolve_device(device)
    if isinstance(data, Tensor):
        data = DataLoader(data, batch_size=batch_size)
    inner = unwrap(model)
    was_training = inner.training
    inner.to(device).eval()
    outputs = []
    try:
        for batch in data:
            x = batch[0] if isinstance(batch, list | tuple) else batch
            with autocast(amp, device):
                scores = inner(to_device(x, device))
            outputs.append(scores.float().cpu())
    finally:
        inner.train(was_training)
    scores = torch.cat(outputs)
    return scores if return_logits else scores.argmax(dim=1)
