"""``fit``: the training loop of the course, for any model, loader and optimizer.

One epoch is the five lines every chapter writes by hand: for each batch,
forward, loss, ``zero_grad``, ``backward``, ``step``. ``fit`` repeats them for a
number of epochs and adds what a real run needs around them: validation,
metrics, a learning-rate schedule, early stopping, checkpoints, mixed precision,
progress bars and multi-GPU data parallelism, and returns a ``History`` for
``cnnlib.viz.plot_history``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from cnnlib.train._batch import resolve_device, set_epoch, split_batch, to_device
from cnnlib.train.amp import autocast, check_amp, grad_scaler
from cnnlib.train.checkpoint import save_checkpoint, unwrap
from cnnlib.train.distributed import (
    all_reduce_sum,
    is_distributed,
    is_main_process,
    is_sharded,
)
from cnnlib.train.early_stopping import EarlyStopping
from cnnlib.train.evaluate import evaluate
from cnnlib.train.history import History
from cnnlib.train.tracker import Metric, MetricTracker

LossFn = Callable[[Tensor, Tensor], Tensor]
Transform = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def train_one_epoch(
    model: torch.nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    *,
    loss_fn: LossFn = F.cross_entropy,
    metrics: Sequence[Metric] = ("accuracy",),
    device: torch.device,
    transform: Transform | None = None,
    amp: str | None = None,
    scaler: torch.amp.GradScaler | None = None,
    channels_last: bool = False,
    max_grad_norm: float | None = None,
    progress: bool = False,
) -> tuple[dict[str, float], int]:
    """One pass over ``loader`` with an optimizer step per batch.

    Returns:
        The epoch's mean loss and metrics (as ``evaluate`` returns them, computed
        on the training batches as they were trained on), and the number of
        training samples processed by all processes together.
    """
    model.train()
    tracker = MetricTracker(metrics)
    samples = 0
    bar = tqdm(loader, desc="train", leave=False, disable=not progress)
    for i, batch in enumerate(bar):
        x, y = split_batch(batch, "fit")
        x, y = to_device(x, device, channels_last), to_device(y, device)
        if transform is not None:
            # Augment on the device, after the transfer: a GPU transforms a whole
            # batch at once, where DataLoader workers would go image by image.
            x, y = transform(x, y)
        with autocast(amp, device):
            scores = model(x)  # (N, C) or (N, C, H, W)
            loss = loss_fn(scores, y)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:  # fp16: scale the loss so small gradients survive
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)  # true gradients, for clipping and the step
        else:
            loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        if scaler is not None:
            scaler.step(optimizer)  # skipped if the gradients overflowed
            scaler.update()
        else:
            optimizer.step()
        tracker.update(loss.float(), scores.float(), y)
        samples += y.shape[0]
        if progress and i % 10 == 0:  # .item() waits for the GPU: not every batch
            bar.set_postfix(loss=f"{loss.item():.4f}")
    sharded = is_distributed() and is_sharded(loader)
    if sharded:
        samples = int(all_reduce_sum(torch.tensor(samples, device=device)).item())
    return tracker.compute(all_reduce_sum if sharded else None), samples


def fit(
    model: torch.nn.Module,
    train_loader: Iterable,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn = F.cross_entropy,
    val_loader: Iterable | None = None,
    metrics: Sequence[Metric] = ("accuracy",),
    scheduler: object | None = None,
    early_stopping: EarlyStopping | None = None,
    transform: Transform | None = None,
    device: str | torch.device | None = None,
    amp: str | None = None,
    channels_last: bool = False,
    max_grad_norm: float | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs and return what was measured.

    Works with any ``torch.nn.Module`` that maps a batch of inputs to class scores
    (logits): (N, C) for classification with targets (N,), or (N, C, H, W) for
    segmentation with targets (N, H, W) (the default loss handles both).

    Args:
        model: the network; moved to ``device`` (in place).
        train_loader: yields ``(inputs, targets)`` batches; reshuffled each epoch.
        epochs: number of passes over ``train_loader``.
        optimizer: built on ``model.parameters()`` (torch's or ``cnnlib.train.optim``).
        loss_fn: ``loss_fn(scores, targets)`` -> scalar, default torch's
            ``cross_entropy``; ``cnnlib.ops.cross_entropy`` is the from-scratch one.
        val_loader: evaluated after every epoch (eval mode, no augmentation).
        metrics: names ("accuracy", "top5_accuracy", "mean_iou", "mean_dice") or
            callables ``fn(scores, targets) -> float``.
        scheduler: a ``torch.optim.lr_scheduler`` object stepped once per epoch
            (``ReduceLROnPlateau`` receives the monitored value).
        early_stopping: an ``EarlyStopping``; also defines the monitored value.
        transform: ``transform(inputs, targets) -> (inputs, targets)``, applied to
            every *training* batch after it is on the device (augmentation).
        device: default ``cnnlib.best_device()`` (cuda, then mps, then cpu).
        amp: mixed precision: None, "bf16" (CUDA, CPU, MPS) or "fp16" (CUDA,
            MPS; with a gradient scaler).
        channels_last: channels-last memory format for the model and 4-D inputs.
        max_grad_norm: clip the gradient norm to this value before each step.
        progress: show tqdm progress bars (epochs, and batches within one).
        checkpoint: a file path: model, optimizer, epoch and history are saved
            there after every epoch that improves the monitored value.

    Returns:
        A ``History``; ``history.best_epoch`` indexes its lists.

    Under ``torch.distributed`` (see ``cnnlib.train.distributed``), pass a DDP
    model and sharded loaders: metrics are summed over processes, and only rank 0
    shows progress and writes the checkpoint.

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> x = torch.randn(64, 2)
        >>> y = (x[:, 0] > 0).long()
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
        >>> model = torch.nn.Linear(2, 2)
        >>> opt = torch.optim.SGD(model.parameters(), lr=0.5)
        >>> history = fit(model, loader, epochs=3, optimizer=opt, device="cpu",
        ...               progress=False)
        >>> len(history.train_loss), history.train_loss[-1] < history.train_loss[0]
        (3, True)
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    device = resolve_device(device)
    check_amp(amp, device)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    scaler = grad_scaler(amp, device)
    progress = progress and is_main_process()
    main = is_main_process()

    if early_stopping is not None:
        early_stopping.reset()
        monitor, mode = early_stopping.monitor, early_stopping.mode
    else:
        monitor, mode = ("val_loss" if val_loader is not None else "train_loss"), "min"
    history = History(monitor=monitor)
    best = math.inf if mode == "min" else -math.inf  # used without early_stopping

    epoch_bar = tqdm(range(epochs), desc="epochs", disable=not progress)
    for epoch in epoch_bar:
        start = time.perf_counter()
        set_epoch(train_loader, epoch)
        lr = optimizer.param_groups[0]["lr"]
        train, samples = train_one_epoch(
            model,
            train_loader,
            optimizer,
            loss_fn=loss_fn,
            metrics=metrics,
            device=device,
            transform=transform,
            amp=amp,
            scaler=scaler,
            channels_last=channels_last,
            max_grad_norm=max_grad_norm,
            progress=progress,
        )
        train_time = time.perf_counter() - start
        record = {f"train_{name}": value for name, value in train.items()}
        if val_loader is not None:
            val = evaluate(
                model,
                val_loader,
                loss_fn=loss_fn,
                metrics=metrics,
                device=device,
                amp=amp,
                channels_last=channels_last,
            )
            record.update({f"val_{name}": value for name, value in val.items()})
        record["lr"] = lr
        record["epoch_time"] = time.perf_counter() - start
        record["images_per_sec"] = samples / train_time
        history.append(record)

        if monitor not in record:
            raise KeyError(
                f"fit: cannot monitor {monitor!r}; this run records {sorted(record)}"
            )
        value = record[monitor]
        stop = False
        if early_stopping is not None:
            stop = early_stopping.step(value, unwrap(model))
            improved = early_stopping.best_epoch == epoch
        else:
            improved = (value < best) if mode == "min" else (value > best)
            best = value if improved else best
        if improved:
            history.best_epoch = epoch
            if checkpoint is not None and main:
                save_checkpoint(
                    checkpoint, model, optimizer, epoch=epoch + 1, history=history
                )
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(value)
        elif scheduler is not None:
            scheduler.step()
        epoch_bar.set_postfix(
            {k: f"{v:.4f}" for k, v in record.items() if k.startswith(("train", "val"))}
        )
        if stop:
            break

    if early_stopping is not None and early_stopping.restore_best_weights:
        early_stopping.restore(unwrap(model))
    return history
