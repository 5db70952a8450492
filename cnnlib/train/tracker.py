"""Accumulate the loss and the metrics of one pass over a loader, batch by batch.

A metric averaged over batches is not the metric of the whole epoch (mean IoU of
batch means is not the mean IoU of the set), so ``MetricTracker`` keeps sums and
a confusion matrix, and computes every metric once, at the end, from the totals.
The totals are tensors on the training device: summing them costs no
host-device synchronisation per batch, and under ``torch.distributed`` one
all-reduce of each total gives the metric over every process's shard.

Metric names understood by ``fit`` and ``evaluate``:

* ``"accuracy"``: fraction of correct argmax predictions;
* ``"top5_accuracy"`` (any ``"top{k}_accuracy"``): target among the k best scores;
* ``"mean_iou"``, ``"mean_dice"``: segmentation overlap, averaged over classes;
* any callable ``fn(logits, target) -> float``, reported under ``fn.__name__`` and
  averaged over batches weighted by batch size (fine for per-sample metrics).

Targets outside [0, C) (e.g. ``ignore_index=-100`` or 255 borders) are not counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from cnnlib.train.metrics import dice_from_confusion, iou_from_confusion

Metric = str | Callable[[Tensor, Tensor], float]

_CONFUSION_METRICS = ("accuracy", "mean_iou", "mean_dice")
_TOP_K = re.compile(r"top(\d+)_accuracy")


def metric_name(metric: Metric) -> str:
    """The key a metric gets in results and in ``History``."""
    if isinstance(metric, str):
        if metric not in _CONFUSION_METRICS and not _TOP_K.fullmatch(metric):
            known = ", ".join(repr(m) for m in _CONFUSION_METRICS)
            raise ValueError(
                f"unknown metric {metric!r}: use one of {known}, 'top5_accuracy' "
                "(any k), or a callable fn(logits, target) -> float"
            )
        return metric
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__)
    raise TypeError(f"a metric must be a name or a callable, got {metric!r}")


class MetricTracker:
    """Running totals of loss and metrics over the batches of one epoch.

    Args:
        metrics: names or callables (see the module docstring).

    Example:
        >>> import torch
        >>> tracker = MetricTracker(["accuracy"])
        >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
        >>> tracker.update(torch.tensor(0.5), logits, torch.tensor([0, 1, 1]))
        >>> tracker.compute()
        {'loss': 0.5, 'accuracy': 0.6666666666666666}
    """

    def __init__(self, metrics: Iterable[Metric] = ()) -> None:
        self.metrics = list(metrics)
        self.names = [metric_name(m) for m in self.metrics]
        self.loss_sum: Tensor | None = None  # sum over samples of the batch loss
        self.count: Tensor | None = None  # samples seen
        self.confusion: Tensor | None = None  # (C, C) over all positions
        self.sums: dict[str, Tensor] = {}  # top-k hits and callable metric sums
        self.positions: Tensor | None = None  # labelled positions (for top-k)

    def update(self, loss: Tensor, logits: Tensor, target: Tensor) -> None:
        """Add one batch: mean ``loss``, ``logits`` (N, C, ...), ``target`` (N, ...)."""
        logits = logits.detach()
        n = target.shape[0]
        device = logits.device
        if self.count is None:
            self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
            self.count = torch.zeros((), dtype=torch.int64, device=device)
            self.positions = torch.zeros((), dtype=torch.int64, device=device)
        self.loss_sum += loss.detach().double() * n
        self.count += n
        if not self.metrics:
            return
        needs_classes = any(isinstance(m, str) for m in self.metrics)
        if needs_classes:
            if logits.dim() != target.dim() + 1:
                raise ValueError(
                    f"metrics {self.names} need scores of shape (N, C, ...) with "
                    f"one more dimension than the target {tuple(target.shape)}, got "
                    f"{tuple(logits.shape)}"
                )
            num_classes = logits.shape[1]
            valid = (target >= 0) & (target < num_classes)
            self.positions += valid.sum()
        for metric, name in zip(self.metrics, self.names, strict=True):
            if callable(metric):
                value = torch.as_tensor(metric(logits, target), dtype=torch.float64)
                self._add(name, value.to(device) * n)
            elif (match := _TOP_K.fullmatch(metric)) is not None:
                k = min(int(match.group(1)), num_classes)
                top = logits.topk(k, dim=1).indices  # (N, k, ...)
                hits = (top == target.unsqueeze(1)).any(dim=1) & valid
                self._add(name, hits.sum())
        if any(m in _CONFUSION_METRICS for m in self.metrics):
            pred = logits.argmax(dim=1)[valid]
            true = target[valid].long()
            counts = torch.bincount(true * num_classes + pred, minlength=num_classes**2)
            counts = counts.reshape(num_classes, num_classes)  # (C, C)
            if self.confusion is not None:
                counts = counts + self.confusion
            self.confusion = counts

    def _add(self, name: str, value: Tensor) -> None:
        self.sums[name] = self.sums[name] + value if name in self.sums else value

    def compute(self, reduce: Callable[[Tensor], Tensor] | None = None) -> dict:
        """Loss and metrics over everything seen, as Python floats.

        Args:
            reduce: applied to every total before the division, e.g. a sum over
                the processes of a distributed run; None for a single process.
        """
        if self.count is None:
            raise RuntimeError(
                "MetricTracker.compute: no batch was added (empty loader?)"
            )
        totals = {"loss_sum": self.loss_sum, "count": self.count, "pos": self.positions}
        if self.confusion is not None:
            totals["confusion"] = self.confusion
        totals.update(self.sums)
        if reduce is not None:
            totals = {key: reduce(value.clone()) for key, value in totals.items()}
        count = totals["count"].item()
        results = {"loss": totals["loss_sum"].item() / count}
        cm = totals.get("confusion")
        for metric, name in zip(self.metrics, self.names, strict=True):
            if metric == "accuracy":
                value = cm.diagonal().sum().item() / cm.sum().item()
            elif metric == "mean_iou":
                value = iou_from_confusion(cm).nanmean().item()
            elif metric == "mean_dice":
                value = dice_from_confusion(cm).nanmean().item()
            elif callable(metric):
                value = totals[name].item() / count
            else:  # top-k
                value = totals[name].item() / totals["pos"].item()
            results[name] = value
        return results
