"""Classification and segmentation metrics, computed from predictions and targets.

Every metric accepts either predicted class indices or raw scores (logits or
probabilities, with the classes along dimension 1), so the same call works on a
classifier's (N, C) output and on a segmentation network's (N, C, H, W) output:

* ``accuracy``, ``top_k_accuracy``: fraction of correct predictions;
* ``confusion_matrix``: counts of (true class, predicted class) pairs, the table
  every other metric here can be read from;
* ``iou_per_class`` / ``mean_iou`` (Jaccard index) and ``dice_per_class`` /
  ``mean_dice`` (F1 score): overlap of predicted and true regions, per class.

Conventions follow scikit-learn: confusion-matrix rows are true classes, columns
predicted classes. Targets equal to ``ignore_index`` (e.g. unlabelled border pixels)
are left out of every count.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _as_labels(input: Tensor, target: Tensor, where: str) -> Tensor:
    """Class indices from ``input``: itself if already labels, else argmax over dim 1.

    Scores have one more dimension than the targets (the class dimension C).
    """
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{where}: input and target must be torch.Tensors")
    if input.dim() == target.dim() + 1:
        return input.argmax(dim=1)  # (N, C, ...) -> (N, ...)
    if input.shape != target.shape:
        raise ValueError(
            f"{where}: input must be class indices shaped like target "
            f"{tuple(target.shape)} or scores shaped (N, C, ...) with one more "
            f"dimension, got {tuple(input.shape)}"
        )
    return input


def _valid(target: Tensor, ignore_index: int | None) -> Tensor:
    """Boolean mask of the positions that count (target not ignored)."""
    if ignore_index is None:
        return torch.ones_like(target, dtype=torch.bool)
    return target != ignore_index


def _ratio(hits: int, total: int) -> float:
    """hits / total as a Python (float64) number; NaN when nothing was counted."""
    return hits / total if total else float("nan")


def accuracy(input: Tensor, target: Tensor, ignore_index: int | None = None) -> float:
    """Fraction of positions where the predicted class equals the target.

    Args:
        input: predicted labels shaped like ``target``, or scores (N, C, ...)
            whose argmax over dim 1 is the prediction.
        target: true labels, (N) for classification or (N, H, W) for segmentation.
        ignore_index: target value to leave out (None: count every position).

    Returns:
        A Python float in [0, 1] (NaN when nothing is counted).

    Example:
        >>> import torch
        >>> accuracy(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]))
        0.75
    """
    pred = _as_labels(input, target, "accuracy")
    valid = _valid(target, ignore_index)
    correct = (pred == target) & valid
    return _ratio(correct.sum().item(), valid.sum().item())


def top_k_accuracy(
    input: Tensor, target: Tensor, k: int = 5, ignore_index: int | None = None
) -> float:
    """Fraction of positions whose target is among the ``k`` highest scores.

    ILSVRC reports top-5 error = 1 - top_k_accuracy(scores, labels, k=5).

    Args:
        input: scores (N, C, ...), C >= k.
        target: true labels (N, ...).
        k: how many of the highest-scoring classes count as a hit.
        ignore_index: target value to leave out.

    Example:
        >>> import torch
        >>> scores = torch.tensor([[0.1, 0.5, 0.4], [0.8, 0.15, 0.05]])
        >>> top_k_accuracy(scores, torch.tensor([2, 1]), k=2)
        1.0
    """
    if input.dim() != target.dim() + 1:
        raise ValueError(
            "top_k_accuracy: input must be scores of shape (N, C, ...) with one "
            f"more dimension than target {tuple(target.shape)}, got "
            f"{tuple(input.shape)}"
        )
    if not 1 <= k <= input.shape[1]:
        raise ValueError(
            f"top_k_accuracy: k must be in [1, C={input.shape[1]}], got {k}"
        )
    top = input.topk(k, dim=1).indices  # (N, k, ...)
    hit = (top == target.unsqueeze(1)).any(dim=1) & _valid(target, ignore_index)
    return _ratio(hit.sum().item(), _valid(target, ignore_index).sum().item())


def confusion_matrix(
    input: Tensor,
    target: Tensor,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> Tensor:
    """Count how often true class i was predicted as class j.

    Args:
        input: predicted labels shaped like ``target``, or scores (N, C, ...).
        target: true labels.
        num_classes: C; default: the score dimension, or 1 + the largest label seen.
        ignore_index: target value to leave out.

    Returns:
        ``cm`` of shape (C, C), dtype int64, on the input's device: ``cm[i, j]`` is
        the number of positions with target i and prediction j (rows: truth, as in
        ``sklearn.metrics.confusion_matrix``).

    Example:
        >>> import torch
        >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]))
        tensor([[1, 1],
                [0, 1]])
    """
    pred = _as_labels(input, target, "confusion_matrix")
    if num_classes is None:
        if input.dim() == target.dim() + 1:
            num_classes = input.shape[1]
        else:
            valid = target[_valid(target, ignore_index)]
            num_classes = int(max(pred.max().item(), valid.max().item())) + 1
    valid = _valid(target, ignore_index)
    pred, true = pred[valid].long(), target[valid].long()
    if true.numel() and (true.min() < 0 or true.max() >= num_classes):
        raise ValueError(
            f"confusion_matrix: targets must lie in [0, num_classes={num_classes}) "
            "or equal ignore_index"
        )
    # Each (true, pred) pair gets its own bin, true * C + pred; counting the bins
    # and folding the counts into a (C, C) table gives the matrix in one pass.
    counts = torch.bincount(true * num_classes + pred, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)  # (C, C)


def iou_from_confusion(cm: Tensor) -> Tensor:
    """Per-class IoU = TP / (TP + FP + FN) read off a confusion matrix.

    Classes that appear neither in the targets nor in the predictions have no
    IoU; they get NaN so that ``nanmean`` leaves them out of the mean.

    Shape:
        cm (C, C) -> (C,), float64.
    """
    cm = cm.double()
    tp = cm.diagonal()
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp  # predicted + true - both
    return tp / union  # 0 / 0 = NaN for absent classes


def dice_from_confusion(cm: Tensor) -> Tensor:
    """Per-class Dice = 2 TP / (2 TP + FP + FN) read off a confusion matrix.

    Shape:
        cm (C, C) -> (C,), float64; NaN for classes absent from truth and prediction.
    """
    cm = cm.double()
    tp = cm.diagonal()
    return 2 * tp / (cm.sum(dim=0) + cm.sum(dim=1))


def iou_per_class(
    input: Tensor,
    target: Tensor,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> Tensor:
    """Intersection over union (Jaccard index) of each class.

    IoU_c = |pred == c and target == c| / |pred == c or target == c|.

    Args:
        input: predicted labels or scores (N, C, ...).
        target: true labels, e.g. a (N, H, W) mask.
        num_classes: C (see ``confusion_matrix``).
        ignore_index: target value to leave out.

    Returns:
        A float64 tensor of shape (C,); NaN for a class absent from both.

    Example:
        >>> import torch
        >>> iou_per_class(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1]))
        tensor([0.5000, 0.6667], dtype=torch.float64)
    """
    cm = confusion_matrix(input, target, num_classes, ignore_index)
    return iou_from_confusion(cm)


def mean_iou(
    input: Tensor,
    target: Tensor,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> float:
    """Mean of ``iou_per_class`` over the classes present in target or prediction.

    Example:
        >>> import torch
        >>> round(mean_iou(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1])), 4)
        0.5833
    """
    return iou_per_class(input, target, num_classes, ignore_index).nanmean().item()


def dice_per_class(
    input: Tensor,
    target: Tensor,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> Tensor:
    """Dice coefficient (F1 score) of each class: 2 |A and B| / (|A| + |B|).

    A is the set of positions predicted as the class, B the set labelled with it.
    Dice = 2 IoU / (1 + IoU), so it ranks models like IoU but is kinder to
    small errors.

    Returns:
        A float64 tensor of shape (C,); NaN for a class absent from both.

    Example:
        >>> import torch
        >>> dice_per_class(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1]))
        tensor([0.6667, 0.8000], dtype=torch.float64)
    """
    cm = confusion_matrix(input, target, num_classes, ignore_index)
    return dice_from_confusion(cm)


def mean_dice(
    input: Tensor,
    target: Tensor,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> float:
    """Mean of ``dice_per_class`` over the classes present in target or prediction.

    Example:
        >>> import torch
        >>> round(mean_dice(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1])), 4)
        0.7333
    """
    return dice_per_class(input, target, num_classes, ignore_index).nanmean().item()
