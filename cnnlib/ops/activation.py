"""Activation functions and softmax, each with its derivative written out.

Every function here is elementwise except ``softmax`` and ``log_softmax``, which
normalise along one dimension. The backward formulas are the derivatives a student
computes by hand: ``relu' = [x > 0]``, ``sigmoid' = y (1 - y)``, ``tanh' = 1 - y^2``.

In-place variants (``inplace=True``) overwrite ``input`` and return it, as in torch;
autograd is told through ``ctx.mark_dirty``. As in torch, a leaf tensor that
requires grad cannot be modified in place.
"""

from __future__ import annotations

import torch

from cnnlib.ops._args import check_floating, check_tensor

__all__ = ["leaky_relu", "log_softmax", "relu", "sigmoid", "softmax", "tanh"]


class _ReLU(torch.autograd.Function):
    """``y = max(x, 0)``; the gradient passes where the unit is active."""

    @staticmethod
    def forward(ctx, input, inplace):
        if inplace:
            output = input.clamp_(min=0)
            ctx.mark_dirty(input)
        else:
            output = input.clamp(min=0)
        # The output is enough for the backward pass: y > 0 exactly where x > 0.
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (output,) = ctx.saved_tensors
        # At x = 0 the derivative is taken as 0, like torch.
        return grad_output * (output > 0), None


class _LeakyReLU(torch.autograd.Function):
    """``y = x`` for ``x > 0``, ``y = negative_slope * x`` otherwise."""

    @staticmethod
    def forward(ctx, input, negative_slope, inplace):
        positive = input > 0
        output = torch.where(positive, input, input * negative_slope)
        if inplace:
            output = input.copy_(output)
            ctx.mark_dirty(input)
        # Keep the sign of x, not x: the output cannot tell the sides apart when
        # negative_slope <= 0, and an in-place call has overwritten x.
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (positive,) = ctx.saved_tensors
        grad_input = torch.where(
            positive, grad_output, grad_output * ctx.negative_slope
        )
        return grad_input, None, None


class _Sigmoid(torch.autograd.Function):
    """``y = 1 / (1 + exp(-x))``, the logistic function."""

    @staticmethod
    def forward(ctx, input):
        # For very negative x, exp(-x) overflows to inf and 1 / inf = 0: the right
        # limit, so this form needs no special case.
        output = 1 / (1 + torch.exp(-input))
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (output,) = ctx.saved_tensors
        return grad_output * output * (1 - output)


class _Tanh(torch.autograd.Function):
    """``y = tanh(x)``, a sigmoid rescaled to (-1, 1): ``tanh(x) = 2 s(2x) - 1``."""

    @staticmethod
    def forward(ctx, input):
        output = torch.tanh(input)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (output,) = ctx.saved_tensors
        return grad_output * (1 - output * output)


class _Softmax(torch.autograd.Function):
    """``y_i = exp(x_i) / sum_j exp(x_j)`` along ``dim``."""

    @staticmethod
    def forward(ctx, input, dim):
        # softmax(x) = softmax(x - c) for any constant c. With c = max(x) every
        # exponent is <= 0, so exp cannot overflow and the largest term is 1.
        shifted = input - input.amax(dim=dim, keepdim=True)
        exps = shifted.exp_()  # in place: `shifted` is our own temporary
        output = exps.div_(exps.sum(dim=dim, keepdim=True))
        ctx.save_for_backward(output)
        ctx.dim = dim
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        # The Jacobian is dy_i/dx_j = y_i (delta_ij - y_j), so
        # dL/dx_j = sum_i g_i y_i (delta_ij - y_j) = y_j (g_j - sum_i g_i y_i).
        dot = (grad_output * y).sum(dim=ctx.dim, keepdim=True)
        return y * (grad_output - dot), None


class _LogSoftmax(torch.autograd.Function):
    """``y_i = x_i - log(sum_j exp(x_j))`` along ``dim``."""

    @staticmethod
    def forward(ctx, input, dim):
        # Same max shift as softmax: log-sum-exp(x) = m + log(sum exp(x - m)).
        shifted = input - input.amax(dim=dim, keepdim=True)
        log_sum_exp = shifted.exp().sum(dim=dim, keepdim=True).log()
        output = shifted.sub_(log_sum_exp)
        ctx.save_for_backward(output)
        ctx.dim = dim
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        # dy_i/dx_j = delta_ij - softmax_j, and softmax = exp(y), so
        # dL/dx_j = g_j - softmax_j * sum_i g_i.
        total = grad_output.sum(dim=ctx.dim, keepdim=True)
        return grad_output - torch.exp(y) * total, None


def relu(input: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """Rectified linear unit ``max(x, 0)``, elementwise.

    Args:
        input: any shape ``(*)``.
        inplace: overwrite ``input`` with the result and return it.

    Example:
        >>> relu(torch.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    _check_input(input, "relu")
    return _ReLU.apply(input, inplace)


def leaky_relu(
    input: torch.Tensor, negative_slope: float = 0.01, inplace: bool = False
) -> torch.Tensor:
    """Leaky ReLU: ``x`` where ``x > 0``, ``negative_slope * x`` elsewhere.

    The small slope keeps a gradient flowing through inactive units (Maas et al.,
    2013, "Rectifier Nonlinearities Improve Neural Network Acoustic Models").

    Args:
        input: any shape ``(*)``.
        negative_slope: the slope for ``x <= 0``.
        inplace: overwrite ``input`` with the result and return it.

    Example:
        >>> leaky_relu(torch.tensor([-2.0, 3.0]), negative_slope=0.5)
        tensor([-1.,  3.])
    """
    _check_input(input, "leaky_relu")
    return _LeakyReLU.apply(input, float(negative_slope), inplace)


def sigmoid(input: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, elementwise, values in (0, 1).

    Example:
        >>> sigmoid(torch.tensor([0.0]))
        tensor([0.5000])
    """
    _check_input(input, "sigmoid")
    return _Sigmoid.apply(input)


def tanh(input: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent, elementwise, values in (-1, 1); derivative ``1 - y^2``.

    Example:
        >>> tanh(torch.tensor([0.0]))
        tensor([0.])
    """
    _check_input(input, "tanh")
    return _Tanh.apply(input)


def softmax(
    input: torch.Tensor, dim: int | None = None, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """Turn scores into probabilities along ``dim``: ``exp(x_i) / sum_j exp(x_j)``.

    Args:
        input: any shape, e.g. class scores ``(N, C)`` or per-pixel scores
            ``(N, C, H, W)`` with ``dim=1``.
        dim: the dimension that sums to 1. Required: torch's implicit choice when
            it is omitted is deprecated and easy to get wrong (it picks dim 0, the
            batch, for 3-D input), so cnnlib raises an error instead.
        dtype: if given, ``input`` is cast to it first (e.g. float32 for float16
            scores), as in torch.

    Returns:
        Same shape as ``input``, entries in [0, 1] that sum to 1 along ``dim``.

    Example:
        >>> softmax(torch.tensor([[0.0, 0.0]]), dim=1)
        tensor([[0.5000, 0.5000]])
    """
    input, dim = _prepare_softmax(input, dim, dtype, "softmax")
    return _Softmax.apply(input, dim)


def log_softmax(
    input: torch.Tensor, dim: int | None = None, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """Log of the softmax, computed directly: ``x_i - log(sum_j exp(x_j))``.

    More accurate than ``softmax(x).log()``: a probability that underflows to 0
    would give ``-inf``, while its log is an ordinary number. Arguments as for
    :func:`softmax` (``dim`` required).

    Example:
        >>> log_softmax(torch.tensor([0.0, 0.0]), dim=0).exp()
        tensor([0.5000, 0.5000])
    """
    input, dim = _prepare_softmax(input, dim, dtype, "log_softmax")
    return _LogSoftmax.apply(input, dim)


def _check_input(input: torch.Tensor, op: str) -> None:
    check_tensor(input, op, "input")
    check_floating(input, op, "input")


def _prepare_softmax(
    input: torch.Tensor, dim: int | None, dtype: torch.dtype | None, op: str
) -> tuple[torch.Tensor, int]:
    """Check the arguments, apply ``dtype`` and turn ``dim`` non-negative."""
    check_tensor(input, op, "input")
    if dim is None:
        raise TypeError(
            f"{op}: dim must be given, e.g. dim=1 for scores of shape (N, C); "
            "cnnlib does not guess it (torch's implicit dim is deprecated)"
        )
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if dtype is not None:
        input = input.to(dtype)
    check_floating(input, op, "input")
    rank = max(input.dim(), 1)  # a 0-d tensor accepts dim 0 or -1, like torch
    if not -rank <= dim < rank:
        raise IndexError(
            f"{op}: dim must be in [{-rank}, {rank - 1}] for input of shape "
            f"{tuple(input.shape)}, got {dim}"
        )
    return input, dim % rank
