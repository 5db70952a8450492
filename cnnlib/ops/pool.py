"""Max and average pooling, written from window views with explicit backward passes.

Shapes: input (N, C, H, W) or unbatched (C, H, W); output (N, C, H_out, W_out) with

    H_out = floor((H + 2 * padding - dilation * (KH - 1) - 1) / stride) + 1

(ceil instead of floor with ``ceil_mode=True``), and the same for W_out. The
adaptive and stochastic poolings live in ``pool_adaptive.py`` and
``pool_stochastic.py`` and are re-exported here, so ``cnnlib.ops.pool`` offers all
five.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cnnlib.ops._pool_common import (
    Window2d,
    add_windows_back,
    check_pool_input,
    pad_for_windows,
    pick_positions,
    scatter_to_positions,
    sum_windows,
    window_geometry,
    window_positions,
    windows,
)
from cnnlib.ops.pool_adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from cnnlib.ops.pool_stochastic import stochastic_pool2d

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "max_pool2d",
    "stochastic_pool2d",
]


class _MaxPool2d(torch.autograd.Function):
    """y[n, c, i, j] = max of window (i, j); the gradient flows to that argmax."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, geom: Window2d):
        N, C, H, W = x.shape
        # Pad with -inf, not 0. Padding must never win the max: with zeros, a window
        # of negative values at the border would output 0, a value that appears
        # nowhere in the input (and its gradient would vanish into the padding).
        padded = pad_for_windows(x, geom, value=float("-inf"))
        win = windows(padded, geom)  # (N, C, H_out, W_out, KH, KW), a view
        # One copy to lay each window out flat. When kernel == stride and there is
        # no padding this is the classic reshape trick for non-overlapping tiles
        # (view H as (H_out, KH), W as (W_out, KW), move KH next to KW): the view
        # above is exactly that, so no separate fast path is needed.
        KH, KW = geom.kernel
        win = win.reshape(N, C, *geom.out, KH * KW)  # (N, C, H_out, W_out, KH*KW)
        # argmax returns the FIRST maximum of each window in row-major order,
        # which is also the element torch's own max_pool2d picks among ties.
        # (argmax + gather rather than Tensor.max(dim): same result, but we
        # measured Tensor.max(dim) far slower on small tensors on a busy CPU.)
        choice = win.argmax(dim=-1)  # (N, C, H_out, W_out)
        out = win.gather(-1, choice.unsqueeze(-1)).squeeze(-1)
        # Turn "element k of window (i, j)" into torch's convention: the flat
        # index h * W + w in the input plane (what max_unpool2d expects).
        indices = pick_positions(window_positions((H, W), geom, x.device), choice)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.in_hw = (H, W)
        return out, indices

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor, grad_indices: torch.Tensor | None):
        # d max(a_1..a_K) / d a_k is 1 for the argmax and 0 for the others, so each
        # output gradient lands on exactly one input element; every other element
        # of the window gets nothing. With overlapping windows (e.g. 3x3 stride 2)
        # the same element can be the argmax of several windows and then
        # accumulates all their gradients.
        (indices,) = ctx.saved_tensors
        return scatter_to_positions(grad_out, indices, ctx.in_hw), None


class _AvgPool2d(torch.autograd.Function):
    """y[n, c, i, j] = sum of window (i, j) / divisor[i, j]."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, geom: Window2d, divisor: torch.Tensor):
        # Zero padding adds nothing to a sum; whether the padded cells count in
        # the average is decided by the divisor alone.
        padded = pad_for_windows(x, geom, value=0.0)
        out = sum_windows(padded, geom) / divisor  # (N, C, H_out, W_out)
        ctx.save_for_backward(divisor)
        ctx.geom = geom
        ctx.in_hw = tuple(x.shape[-2:])
        ctx.padded_hw = tuple(padded.shape[-2:])
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (divisor,) = ctx.saved_tensors
        geom = ctx.geom
        # y = (a_1 + ... + a_K) / divisor, so d y / d a_k = 1 / divisor for every
        # element of the window: each one receives an equal share.
        share = grad_out / divisor  # (N, C, H_out, W_out)
        grad_windows = share[..., None, None].expand(*share.shape, *geom.kernel)
        grad_padded = add_windows_back(grad_windows, ctx.padded_hw, geom)
        # Gradients that fell on the padding belong to no input: drop them.
        (pH, pW), (H, W) = geom.padding, ctx.in_hw
        return grad_padded[:, :, pH : pH + H, pW : pW + W], None, None


def _window_sizes(
    size: int, geom: Window2d, axis: int, count_include_pad: bool
) -> torch.Tensor:
    """(out,): how many cells each window counts along one axis (for avg_pool2d)."""
    kernel, padding = geom.kernel[axis], geom.padding[axis]
    start = torch.arange(geom.out[axis]) * geom.stride[axis] - padding
    # A ceil_mode window may hang past the right padding; like torch, count only
    # up to the end of the padding.
    end = torch.clamp(start + kernel, max=size + padding)
    if not count_include_pad:  # count real input cells only
        start, end = start.clamp(min=0), end.clamp(max=size)
    return end - start


def max_pool2d(
    input: torch.Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """2-D max pooling: the largest value of each KH x KW window.

    Args:
        input: (N, C, H, W) or (C, H, W), floating point.
        kernel_size: (KH, KW) or one int for both.
        stride: step between windows; None means ``kernel_size``.
        padding: implicit -inf border, at most ``kernel_size // 2``.
        dilation: spacing between the taps of a window.
        ceil_mode: round H_out, W_out up, adding a last partial window.
        return_indices: also return where each maximum was, as flat indices
            ``h * W + w`` into each input plane (torch's convention, accepted by
            torch's ``max_unpool2d``).

    Shape:
        output and indices: (N, C, H_out, W_out) or (C, H_out, W_out),
        H_out = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1.

    Backward: each output gradient goes to the argmax of its window (the first
    one among ties, as torch); overlapping windows add up.

    Example:
        >>> x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
        >>> max_pool2d(x, 2)
        tensor([[[4.]]])
    """
    op = "max_pool2d"
    x = check_pool_input(input, op)
    geom = window_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    unbatched = x.dim() == 3
    out, indices = _MaxPool2d.apply(x.unsqueeze(0) if unbatched else x, geom)
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def avg_pool2d(
    input: torch.Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor:
    """2-D average pooling: the mean of each KH x KW window.

    Args:
        input: (N, C, H, W) or (C, H, W), floating point.
        kernel_size: (KH, KW) or one int for both.
        stride: step between windows; None means ``kernel_size``.
        padding: implicit zero border, at most ``kernel_size // 2``.
        ceil_mode: round H_out, W_out up, adding a last partial window.
        count_include_pad: divide by the window size including padded cells
            (True) or by the number of real input cells in the window (False).
        divisor_override: divide every window sum by this number instead.

    Shape:
        output: (N, C, H_out, W_out) or (C, H_out, W_out),
        H_out = floor((H + 2*padding - KH) / stride) + 1.

    Example:
        >>> x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
        >>> avg_pool2d(x, 2)
        tensor([[[2.5000]]])
    """
    op = "avg_pool2d"
    x = check_pool_input(input, op)
    geom = window_geometry(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int):
            raise TypeError(
                f"{op}: divisor_override must be an int or None, "
                f"got {divisor_override!r}"
            )
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must not be zero")
        divisor = torch.full(geom.out, float(divisor_override))
    else:
        H, W = x.shape[-2:]
        rows = _window_sizes(H, geom, 0, count_include_pad)  # (H_out,)
        cols = _window_sizes(W, geom, 1, count_include_pad)  # (W_out,)
        divisor = rows[:, None] * cols[None, :]  # (H_out, W_out)
    divisor = divisor.to(device=x.device, dtype=x.dtype)
    unbatched = x.dim() == 3
    out = _AvgPool2d.apply(x.unsqueeze(0) if unbatched else x, geom, divisor)
    return out.squeeze(0) if unbatched else out
