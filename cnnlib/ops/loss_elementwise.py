"""Elementwise losses: one loss per element of ``input``, then a reduction.

``mse_loss`` for regression, ``binary_cross_entropy`` for probabilities from a
sigmoid, and ``binary_cross_entropy_with_logits`` for raw scores (the sigmoid is
folded into the loss, which is both more accurate and cheaper). All three are
importable from ``cnnlib.ops.loss``.

Shapes: ``input`` and ``target`` share any shape ``(*)``; 'mean' averages over all
of its elements.
"""

from __future__ import annotations

import torch

from cnnlib.ops._args import check_floating, check_reduction, check_tensor

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss"]


class _MSELoss(torch.autograd.Function):
    """``(x - y)^2`` elementwise."""

    @staticmethod
    def forward(ctx, input, target):
        diff = input - target
        # Save the inputs, not diff, so the backward itself stays differentiable.
        ctx.save_for_backward(input, target)
        return diff * diff

    @staticmethod
    def backward(ctx, grad_loss):
        input, target = ctx.saved_tensors
        grad = 2 * (input - target) * grad_loss
        return grad, -grad


class _BinaryCrossEntropy(torch.autograd.Function):
    """``-w (t log p + (1 - t) log(1 - p))`` for probabilities p."""

    @staticmethod
    def forward(ctx, input, target, weight):
        # log(0) = -inf would make the loss infinite and 0 * -inf = nan; like
        # torch, cap each log at -100 so a saturated prediction costs a finite 100.
        log_p = torch.log(input).clamp(min=-100)
        log_1mp = torch.log(1 - input).clamp(min=-100)
        loss = -(target * log_p + (1 - target) * log_1mp)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(input, target, weight)
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        input, target, weight = ctx.saved_tensors
        if weight is not None:
            grad_loss = grad_loss * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            # dL/dp = -t/p + (1 - t)/(1 - p) = (p - t) / (p (1 - p)); the
            # denominator is kept >= 1e-12 (as torch does) so p = 0 or 1 stays finite.
            denominator = (input * (1 - input)).clamp(min=1e-12)
            grad_input = (input - target) / denominator * grad_loss
        if ctx.needs_input_grad[1]:
            # dL/dt = log(1 - p) - log(p) = -logit(p)
            grad_target = (torch.log(1 - input) - torch.log(input)) * grad_loss
        return grad_input, grad_target, None


class _BinaryCrossEntropyWithLogits(torch.autograd.Function):
    """Binary cross-entropy of ``sigmoid(x)``, written in terms of x."""

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight):
        # -log sigmoid(x) = log(1 + exp(-x)) overflows for very negative x; the
        # same value as max(-x, 0) + log(1 + exp(-|x|)) never exponentiates a
        # positive number.
        neg_log_sigmoid = (-input).clamp(min=0) + torch.log1p(torch.exp(-input.abs()))
        # -log(1 - sigmoid(x)) = x - log sigmoid(x), so with a = -log sigmoid(x):
        # loss = t a + (1 - t)(x + a) = (1 - t) x + a.
        # pos_weight multiplies the positive term t a, adding (pos_weight - 1) t a.
        if pos_weight is None:
            loss = (1 - target) * input + neg_log_sigmoid
        else:
            loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * (
                neg_log_sigmoid
            )
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(input, target, weight, pos_weight)
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        input, target, weight, pos_weight = ctx.saved_tensors
        if weight is not None:
            grad_loss = grad_loss * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            # Without pos_weight dL/dx = sigmoid(x) - t: prediction minus target.
            # With it, dL/dx = sigmoid(x) (1 + (pw - 1) t) - pw t.
            probs = 1 / (1 + torch.exp(-input))
            if pos_weight is None:
                grad_input = (probs - target) * grad_loss
            else:
                scale = 1 + (pos_weight - 1) * target
                grad_input = (probs * scale - pos_weight * target) * grad_loss
        if ctx.needs_input_grad[1]:
            # dL/dt = -x (+ (pw - 1) * (-log sigmoid(x)) with pos_weight)
            grad_target = -input
            if pos_weight is not None:
                neg_log_sigmoid = (-input).clamp(min=0) + torch.log1p(
                    torch.exp(-input.abs())
                )
                grad_target = grad_target + (pos_weight - 1) * neg_log_sigmoid
            grad_target = grad_target * grad_loss
        return grad_input, grad_target, None, None


def mse_loss(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Mean squared error ``(x - y)^2``, averaged (or summed) over all elements.

    Args:
        input: predictions, any shape ``(*)``.
        target: same shape as ``input``. Unlike torch, which only warns and
            broadcasts, a different shape is an error here: ``(N, 1)`` against
            ``(N,)`` would silently compare every prediction with every target.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Example:
        >>> mse_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]))
        tensor(5.)
    """
    op = "mse_loss"
    _check_pair(input, target, op)
    check_reduction(reduction, op)
    return _reduce(_MSELoss.apply(input, target), reduction)


def binary_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Binary cross-entropy ``-w (t log p + (1 - t) log(1 - p))`` of probabilities.

    Each log is capped below at -100, as in torch, so ``p = 0`` or ``1`` gives a
    large finite loss rather than ``inf``.

    Args:
        input: probabilities ``p`` in [0, 1], any shape ``(*)`` (e.g. after
            :func:`cnnlib.ops.sigmoid`).
        target: same shape, values in [0, 1] (usually 0 or 1).
        weight: rescales each element; must broadcast to ``input``'s shape.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Example:
        >>> p = torch.tensor([0.5])
        >>> round(binary_cross_entropy(p, torch.tensor([1.0])).item(), 4)
        0.6931
    """
    op = "binary_cross_entropy"
    _check_pair(input, target, op)
    check_reduction(reduction, op)
    _check_broadcast(weight, input, op, "weight")
    # A probability outside [0, 1] (or nan) means the sigmoid was forgotten. This
    # check costs a host sync on GPU.
    if not ((input >= 0) & (input <= 1)).all():
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1] (values from a sigmoid), "
            f"got values from {input.min().item():.4g} to {input.max().item():.4g}; "
            "for raw scores use binary_cross_entropy_with_logits"
        )
    return _reduce(_BinaryCrossEntropy.apply(input, target, weight), reduction)


def binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the scores.

    ``loss = -w (pw t log s(x) + (1 - t) log(1 - s(x)))`` with ``s`` the sigmoid,
    evaluated as ``(1 - t) x + (1 + (pw - 1) t) (max(-x, 0) + log(1 + exp(-|x|)))``
    so that no exponential can overflow.

    Args:
        input: raw scores (logits) ``x``, any shape ``(*)``.
        target: same shape, values in [0, 1].
        weight: rescales each element; must broadcast to ``input``'s shape.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        pos_weight: weight ``pw`` of the positive term, e.g. ``(C,)`` for
            ``(N, C)`` multi-label scores; ``pw = #negatives / #positives``
            balances a rare class. Must broadcast to ``input``'s shape.

    Gradient: ``sigmoid(x) - t`` per element (without pos_weight).

    Example:
        >>> x = torch.tensor([0.0])
        >>> round(binary_cross_entropy_with_logits(x, torch.tensor([1.0])).item(), 4)
        0.6931
    """
    op = "binary_cross_entropy_with_logits"
    _check_pair(input, target, op)
    check_reduction(reduction, op)
    _check_broadcast(weight, input, op, "weight")
    _check_broadcast(pos_weight, input, op, "pos_weight")
    loss = _BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight)
    return _reduce(loss, reduction)


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_pair(input: torch.Tensor, target: torch.Tensor, op: str) -> None:
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    check_floating(input, op, "input")
    check_floating(target, op, "target")
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: target must have the same shape as input {tuple(input.shape)}, "
            f"got {tuple(target.shape)}"
        )
    if input.device != target.device:
        raise ValueError(
            f"{op}: input and target are on different devices "
            f"({input.device}, {target.device})"
        )


def _check_broadcast(
    tensor: torch.Tensor | None, input: torch.Tensor, op: str, name: str
) -> None:
    """``tensor`` must broadcast to ``input``'s shape without enlarging it."""
    if tensor is None:
        return
    check_tensor(tensor, op, name)
    try:
        shape = torch.broadcast_shapes(tensor.shape, input.shape)
    except RuntimeError:
        shape = None
    if shape != input.shape:
        raise ValueError(
            f"{op}: {name} of shape {tuple(tensor.shape)} does not broadcast to "
            f"input's shape {tuple(input.shape)}"
        )
    if tensor.device != input.device:
        raise ValueError(
            f"{op}: input and {name} are on different devices "
            f"({input.device}, {tensor.device})"
        )
