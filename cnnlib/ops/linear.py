"""Fully connected (dense) layer: ``y = x W^T + b``, forward and backward by hand.

The matrix form is the whole story: every output unit is a weighted sum of every
input feature. Extra leading dimensions (a batch, a sequence) are carried along, as
in ``torch.nn.functional.linear``.
"""

from __future__ import annotations

import torch

from cnnlib.ops._args import check_same_device_dtype, check_tensor

__all__ = ["linear"]


class _Linear(torch.autograd.Function):
    """``y = x W^T + b`` with the three gradients written out."""

    @staticmethod
    def forward(ctx, input, weight, bias):
        # input (*, C_in), weight (C_out, C_in) -> output (*, C_out)
        output = torch.matmul(input, weight.t())
        if bias is not None:
            output = output + bias
        ctx.save_for_backward(input, weight)
        ctx.has_bias = bias is not None
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        # dL/dx = dL/dy W: each input feature collects the gradient of every
        # output unit it feeds, weighted by the connection.
        if ctx.needs_input_grad[0]:
            grad_input = torch.matmul(grad_output, weight)  # (*, C_in)
        # dL/dW and dL/db sum over every row of the batch, so flatten the leading
        # dimensions into one: a single (C_out, M) @ (M, C_in) product.
        grad_rows = grad_output.reshape(-1, weight.shape[0])  # (M, C_out)
        if ctx.needs_input_grad[1]:
            input_rows = input.reshape(-1, weight.shape[1])  # (M, C_in)
            grad_weight = torch.matmul(grad_rows.t(), input_rows)  # (C_out, C_in)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_rows.sum(dim=0)  # (C_out,)
        return grad_input, grad_weight, grad_bias


def linear(
    input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """Apply an affine map to the last dimension: ``y = x W^T + b``.

    Args:
        input: features, shape ``(*, C_in)``: ``(C_in,)``, ``(N, C_in)``,
            ``(N, L, C_in)``, ...
        weight: shape ``(C_out, C_in)``; row ``j`` holds the weights of output
            unit ``j``.
        bias: shape ``(C_out,)``, or None.

    Returns:
        Shape ``(*, C_out)``.

    The backward pass is ``dx = dy W``, ``dW = dy^T x`` and ``db = sum(dy)``
    (summed over every leading dimension).

    Unlike torch, a 1-D weight is refused: write it as a ``(1, C_in)`` matrix.

    Example:
        >>> x = torch.ones(2, 3)
        >>> linear(x, torch.full((4, 3), 0.5), torch.zeros(4)).shape
        torch.Size([2, 4])
    """
    op = "linear"
    check_tensor(input, op, "input")
    check_tensor(weight, op, "weight")
    if weight.dim() != 2:
        raise ValueError(
            f"linear: weight must be 2D (C_out, C_in), got shape {tuple(weight.shape)}"
        )
    if input.dim() == 0:
        raise ValueError("linear: input must have at least 1 dimension (*, C_in)")
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {input.shape[-1]} features but weight expects "
            f"{weight.shape[1]}"
        )
    check_same_device_dtype(input, weight, op, "input and weight")
    if bias is not None:
        check_tensor(bias, op, "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias must have shape ({weight.shape[0]},) to match weight, "
                f"got {tuple(bias.shape)}"
            )
        check_same_device_dtype(input, bias, op, "input and bias")
    return _Linear.apply(input, weight, bias)
