"""Classification losses: cross-entropy and negative log-likelihood.

Both take class scores laid out like torch's: ``(N, C)`` for one label per sample,
``(N, C, d1, d2, ...)`` for one label per position (per-pixel labels
``(N, C, H, W)`` in segmentation), or ``(C,)`` for a single sample. The class
dimension is always dim 1 (dim 0 for ``(C,)``).

The elementwise losses (``mse_loss``, ``binary_cross_entropy``,
``binary_cross_entropy_with_logits``) live in ``loss_elementwise.py`` and are
importable from here too.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.ops._args import check_floating, check_reduction, check_tensor
from cnnlib.ops.loss_elementwise import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    mse_loss,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "mse_loss",
    "nll_loss",
]


class _SoftmaxCrossEntropy(torch.autograd.Function):
    """Per-position loss ``-sum_c q_c log softmax(x)_c`` for a target weighting q.

    ``q`` (``target_weights``) holds, for each position, the target distribution
    already multiplied by the class weights: a one-hot row for a class label,
    a smoothed or soft row otherwise, and a zero row for an ignored position.
    """

    @staticmethod
    def forward(ctx, input, target_weights):
        # input, target_weights: (N, C, *). Log-softmax along C with the max
        # shifted out, so that exp never overflows (see activation.log_softmax).
        shifted = input - input.amax(dim=1, keepdim=True)
        log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        # 0 * log(0) counts as 0, the usual convention: a class with zero target
        # weight adds nothing even when its score is -inf (a masked class).
        terms = torch.where(target_weights == 0, 0.0, target_weights * log_probs)
        loss = -terms.sum(dim=1)  # (N, *)
        ctx.save_for_backward(log_probs, target_weights)
        return loss

    @staticmethod
    @once_differentiable  # log_probs was computed without a graph in forward
    def backward(ctx, grad_loss):
        log_probs, target_weights = ctx.saved_tensors
        grad_loss = grad_loss.unsqueeze(1)  # (N, 1, *), broadcasts over C
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            # d/dx_j of -sum_c q_c log p_c is p_j * sum_c q_c - q_j. Without class
            # weights q sums to 1 and this is the famous "softmax minus one-hot".
            # A 'mean' reduction arrives here as grad_loss = 1 / N.
            probs = torch.exp(log_probs)
            q_total = target_weights.sum(dim=1, keepdim=True)  # (N, 1, *)
            grad_input = (probs * q_total - target_weights) * grad_loss
            # An ignored position gets no gradient, even when grad_loss is nan
            # (a 'mean' over targets that are all ignored divides by 0, as in torch).
            grad_input = torch.where(q_total == 0, 0.0, grad_input)
        if ctx.needs_input_grad[1]:
            grad_target = -log_probs * grad_loss
        return grad_input, grad_target


class _NLLLoss(torch.autograd.Function):
    """Per-position loss ``-w[t] * log_probs[t]``: pick the target's log-probability."""

    @staticmethod
    def forward(ctx, log_probs, index, sample_weight):
        # log_probs (N, C, *); index (N, 1, *) valid class ids; sample_weight (N, *)
        # holds w[t] (0 at ignored positions).
        picked = log_probs.gather(1, index).squeeze(1)  # (N, *)
        ctx.save_for_backward(index, sample_weight)
        ctx.input_shape = log_probs.shape
        # Zero weight means zero loss, even where the picked log-probability is
        # -inf (0 * -inf would be nan).
        return torch.where(sample_weight == 0, 0.0, -sample_weight * picked)

    @staticmethod
    def backward(ctx, grad_loss):
        index, sample_weight = ctx.saved_tensors
        # Only the picked entry of each row got used, so only it gets a gradient.
        # Zero weight, zero gradient: also when grad_loss is nan because a 'mean'
        # over targets that are all ignored divided by 0.
        grad = torch.where(sample_weight == 0, 0.0, -sample_weight * grad_loss)
        grad = grad.unsqueeze(1)  # (N, 1, *)
        zeros = grad_loss.new_zeros(ctx.input_shape)
        return zeros.scatter(1, index, grad), None, None


def cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Softmax cross-entropy between class scores (logits) and targets.

    For one position with scores ``x``, target distribution ``q`` and class
    weights ``w``: ``loss = -sum_c w_c q_c log softmax(x)_c``. With a class label
    ``t``, ``q`` is one-hot and the loss is ``-w_t log softmax(x)_t``.

    Args:
        input: raw scores (not probabilities), ``(N, C)``, ``(N, C, d1, ...)``
            e.g. ``(N, C, H, W)`` for per-pixel classes, or ``(C,)``.
        target: either class indices (int64 or uint8) of shape ``(N,)``,
            ``(N, d1, ...)`` or ``()``, values in ``[0, C)`` or ``ignore_index``;
            or class probabilities (floating) of the same shape as ``input``.
        weight: ``(C,)`` rescaling of each class, or None.
        ignore_index: a class-index target equal to this contributes nothing,
            not even to the mean's denominator. Only for class-index targets.
        reduction: ``'none'`` (shape ``(N, d1, ...)``), ``'sum'``, or ``'mean'``.
            For class indices 'mean' divides by the total weight ``sum_i w_{t_i}``
            of the non-ignored positions (their count when unweighted); for
            probabilities by the number of positions ``N * d1 * ...``.
        label_smoothing: ``eps`` in [0, 1]; the target becomes
            ``(1 - eps) q + eps / C`` (Szegedy et al., 2016, "Rethinking the
            Inception Architecture", section 7).

    Gradient: ``softmax(x) * sum_c(w_c q_c) - w q`` per position, i.e.
    ``softmax(x) - one_hot(t)`` in the plain case, scaled by the reduction.

    Example:
        >>> scores = torch.tensor([[2.0, 0.0, 0.0]])
        >>> round(cross_entropy(scores, torch.tensor([0])).item(), 4)
        0.2395
    """
    op = "cross_entropy"
    check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    input, unbatched = _check_scores(input, target, op)
    target = target.unsqueeze(0) if unbatched else target
    num_classes = input.shape[1]
    weight_view = _class_weight_view(weight, input, op)  # (1, C, 1, ...) or None

    if target.is_floating_point():
        # Class probabilities: one distribution per position, same shape as input.
        if target.shape != input.shape:
            raise ValueError(
                f"{op}: a floating target holds class probabilities and must have "
                f"the shape of input {_shape(input, unbatched)}, got "
                f"{_shape(target, unbatched)}; class indices must be int64"
            )
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index applies only to class-index targets")
        dist = target
        if label_smoothing > 0:
            dist = dist * (1 - label_smoothing) + label_smoothing / num_classes
        if weight_view is not None:
            dist = dist * weight_view
        loss = _SoftmaxCrossEntropy.apply(input, dist)  # (N, *)
        denominator = loss.numel()
    else:
        index, valid = _check_class_index(target, input, ignore_index, op, unbatched)
        # The target as a distribution over classes: one-hot, optionally
        # smoothed, zeroed at ignored positions, times the class weights.
        dist = torch.zeros_like(input).scatter_(1, index, 1.0)  # (N, C, *)
        if label_smoothing > 0:
            dist = dist * (1 - label_smoothing) + label_smoothing / num_classes
        dist = dist * valid.unsqueeze(1)
        if weight_view is not None:
            dist = dist * weight_view
        loss = _SoftmaxCrossEntropy.apply(input, dist)  # (N, *)
        denominator = _target_weight(index, valid, weight)
    loss = _reduce(loss, reduction, denominator)
    return loss.squeeze(0) if unbatched and reduction == "none" else loss


def nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    """Negative log-likelihood: ``-w_t * input[t]`` for each position's label ``t``.

    ``input`` holds log-probabilities, e.g. from ``log_softmax(scores, dim=1)``;
    ``nll_loss(log_softmax(x, 1), t)`` equals ``cross_entropy(x, t)``.

    Args:
        input: log-probabilities ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (int64 or uint8) ``(N,)``, ``(N, d1, ...)`` or
            ``()``, values in ``[0, C)`` or ``ignore_index``.
        weight: ``(C,)`` rescaling of each class, or None.
        ignore_index: targets equal to this contribute nothing.
        reduction: ``'none'``, ``'sum'``, or ``'mean'`` (divides by the total
            weight of the non-ignored targets).

    Example:
        >>> log_probs = torch.tensor([[-0.5, -1.0]])
        >>> nll_loss(log_probs, torch.tensor([1]))
        tensor(1.)
    """
    op = "nll_loss"
    check_reduction(reduction, op)
    input, unbatched = _check_scores(input, target, op)
    target = target.unsqueeze(0) if unbatched else target
    if target.is_floating_point():
        raise TypeError(
            f"{op}: target must hold class indices (int64), got {target.dtype}; "
            "for class probabilities use cross_entropy"
        )
    _class_weight_view(weight, input, op)  # only checks weight
    index, valid = _check_class_index(target, input, ignore_index, op, unbatched)
    sample_weight = valid.to(input.dtype)  # (N, *)
    if weight is not None:
        sample_weight = weight.detach()[index.squeeze(1)] * sample_weight
    loss = _NLLLoss.apply(input, index, sample_weight)  # (N, *)
    loss = _reduce(loss, reduction, sample_weight.sum())
    return loss.squeeze(0) if unbatched and reduction == "none" else loss


def _reduce(
    loss: torch.Tensor, reduction: str, denominator: torch.Tensor | int
) -> torch.Tensor:
    """'none' keeps every position's loss; 'mean' divides the sum by ``denominator``."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / denominator


def _target_weight(
    index: torch.Tensor, valid: torch.Tensor, weight: torch.Tensor | None
) -> torch.Tensor:
    """Sum of the class weights of the non-ignored targets: the mean's denominator."""
    if weight is None:
        return valid.sum()
    return (weight.detach()[index.squeeze(1)] * valid).sum()


def _check_scores(
    input: torch.Tensor, target: torch.Tensor, op: str
) -> tuple[torch.Tensor, bool]:
    """Check ``input``; return it with a batch dimension and whether it had none."""
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    check_floating(input, op, "input")
    if input.dim() == 0:
        raise ValueError(f"{op}: input must be (C,), (N, C) or (N, C, d1, ...), got ()")
    if input.device != target.device:
        raise ValueError(
            f"{op}: input and target are on different devices "
            f"({input.device}, {target.device})"
        )
    unbatched = input.dim() == 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _check_class_index(
    target: torch.Tensor,
    input: torch.Tensor,
    ignore_index: int,
    op: str,
    unbatched: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check class-index targets (N, *) for ``input`` (N, C, *).

    Returns ``index`` (N, 1, *) int64 with ignored positions set to class 0 (any
    valid class would do: their weight is zeroed), and the mask ``valid`` (N, *).
    """
    if target.dtype not in (torch.int64, torch.uint8):
        raise TypeError(
            f"{op}: target must hold class indices as int64 (torch.long) or uint8, "
            f"or class probabilities in a floating tensor shaped like input; "
            f"got {target.dtype}"
        )
    expected = (input.shape[0], *input.shape[2:])
    if tuple(target.shape) != expected:
        expected = expected[1:] if unbatched else expected
        raise ValueError(
            f"{op}: for input of shape {_shape(input, unbatched)} the class-index "
            f"target must have shape {expected} (one class per position), "
            f"got {_shape(target, unbatched)}"
        )
    target = target.long()
    valid = target != ignore_index
    num_classes = input.shape[1]
    # One host sync to check the range: a wrong label would otherwise turn into
    # an out-of-bounds index deep inside gather.
    bad = valid & ((target < 0) | (target >= num_classes))
    if bad.any():
        value = target[bad][0].item()
        raise IndexError(
            f"{op}: target contains class {value} but input has {num_classes} "
            f"classes (expected 0..{num_classes - 1} or ignore_index={ignore_index})"
        )
    index = torch.where(valid, target, 0).unsqueeze(1)  # (N, 1, *)
    return index, valid


def _class_weight_view(
    weight: torch.Tensor | None, input: torch.Tensor, op: str
) -> torch.Tensor | None:
    """Check ``weight`` is (C,) and shape it (1, C, 1, ...) to broadcast over input."""
    if weight is None:
        return None
    check_tensor(weight, op, "weight")
    num_classes = input.shape[1]
    if weight.shape != (num_classes,):
        raise ValueError(
            f"{op}: weight must have one entry per class, shape ({num_classes},), "
            f"got {tuple(weight.shape)}"
        )
    if weight.device != input.device:
        raise ValueError(
            f"{op}: input and weight are on different devices "
            f"({input.device}, {weight.device})"
        )
    # Class weights are constants of the loss, not parameters: no gradient.
    return weight.detach().view(1, num_classes, *([1] * (input.dim() - 2)))


def _shape(x: torch.Tensor, unbatched: bool) -> tuple[int, ...]:
    """The shape the caller passed (without the batch dimension we added)."""
    return tuple(x.shape[1:]) if unbatched else tuple(x.shape)
