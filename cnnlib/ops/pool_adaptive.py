"""Adaptive pooling: you choose the output size (H_out, W_out), the windows follow.

Output row i pools the input rows of its *bin*

    start_i = floor(i * H / H_out),   end_i = ceil((i + 1) * H / H_out)

and the same for columns. The bins cover the whole input; when H_out does not
divide H they differ in length and neighbours may share a row. ``output_size=1``
is global average (or max) pooling, the head of NiN, GoogLeNet and ResNet.

Bins of different lengths do not fit a strided view, so we gather them through a
table of flat positions ``h * W + w``: a (H_out, W_out, K) tensor, K being the
largest bin. Shorter bins are padded by repeating their last position, which
cannot change a maximum; for averages a mask (``real``) leaves the repeats out.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cnnlib.ops._pool_common import (
    check_pool_input,
    pick_positions,
    scatter_to_positions,
)


def _bins(size: int, out: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One axis: (out, K) input coordinates of each bin and (out, K) real-tap mask."""
    i = torch.arange(out)
    start = (i * size) // out
    end = ((i + 1) * size + out - 1) // out  # ceil division
    longest = int((end - start).max()) if out > 0 else 1
    taps = start[:, None] + torch.arange(longest)  # (out, K)
    real = taps < end[:, None]
    # Repeat each bin's last element in place of the missing taps.
    return torch.minimum(taps, end[:, None] - 1), real


def _bin_table(
    in_hw: tuple[int, int], out_hw: tuple[int, int], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(H_out, W_out, KH*KW) flat positions of every bin, and the real-tap mask."""
    rows, real_rows = _bins(in_hw[0], out_hw[0])  # (H_out, KH) each
    cols, real_cols = _bins(in_hw[1], out_hw[1])  # (W_out, KW) each
    K = rows.shape[1] * cols.shape[1]  # elements in the largest bin
    positions = rows[:, None, :, None] * in_hw[1] + cols[None, :, None, :]
    real = real_rows[:, None, :, None] & real_cols[None, :, None, :]
    # (H_out, W_out, KH, KW) -> (H_out, W_out, KH*KW)
    return (
        positions.reshape(*out_hw, K).to(device),
        real.reshape(*out_hw, K).to(device),
    )


def _gather_bins(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H_out, W_out, K): the elements of every bin."""
    N, C, H, W = x.shape
    return x.reshape(N, C, H * W)[:, :, positions]


class _AdaptiveAvgPool2d(torch.autograd.Function):
    """y[n, c, i, j] = mean of bin (i, j)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, out_hw: tuple[int, int]):
        positions, real = _bin_table(tuple(x.shape[-2:]), out_hw, x.device)
        bins = _gather_bins(x, positions)  # (N, C, H_out, W_out, K)
        count = real.sum(dim=-1)  # (H_out, W_out) elements per bin
        # torch.where, not a multiplication by the mask: 0 * inf would be nan.
        out = torch.where(real, bins, 0).sum(dim=-1) / count
        ctx.save_for_backward(positions, real, count)
        ctx.in_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        positions, real, count = ctx.saved_tensors
        N, C, H, W = ctx.in_shape
        # Each real element of bin (i, j) receives grad_out[i, j] / count[i, j];
        # an element shared by two bins receives both shares (index_add_ sums).
        share = grad_out / count  # (N, C, H_out, W_out)
        grad_bins = torch.where(real, share[..., None], 0)  # (N, C, H_out, W_out, K)
        grad = grad_out.new_zeros(N, C, H * W)
        grad.index_add_(2, positions.flatten(), grad_bins.flatten(2))
        return grad.view(N, C, H, W), None


class _AdaptiveMaxPool2d(torch.autograd.Function):
    """y[n, c, i, j] = max of bin (i, j); the gradient flows to that argmax."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, out_hw: tuple[int, int]):
        H, W = x.shape[-2:]
        positions, _ = _bin_table((H, W), out_hw, x.device)
        bins = _gather_bins(x, positions)  # (N, C, H_out, W_out, K)
        # First maximum in row-major order within the bin, as torch. A repeated
        # tap always comes after the real element it copies, so it never wins.
        choice = bins.argmax(dim=-1)  # (N, C, H_out, W_out)
        out = bins.gather(-1, choice.unsqueeze(-1)).squeeze(-1)
        indices = pick_positions(positions, choice)  # flat into H*W, as torch
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.in_hw = (H, W)
        return out, indices

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor, grad_indices: torch.Tensor | None):
        # As in max_pool2d: each output gradient goes to its argmax, and an
        # element that is the maximum of two overlapping bins collects both.
        (indices,) = ctx.saved_tensors
        return scatter_to_positions(grad_out, indices, ctx.in_hw), None


def _output_size(
    output_size: int | Sequence[int | None], in_hw: tuple[int, int], op: str
) -> tuple[int, int]:
    """``5 -> (5, 5)``; ``(None, 5) -> (H, 5)``: None keeps that input size."""
    if isinstance(output_size, int) and not isinstance(output_size, bool):
        sizes = (output_size, output_size)
    elif (
        isinstance(output_size, Sequence)
        and len(output_size) == 2
        and all(
            s is None or (isinstance(s, int) and not isinstance(s, bool))
            for s in output_size
        )
    ):
        sizes = tuple(output_size)
    else:
        raise TypeError(
            f"{op}: output_size must be an int or a tuple of 2 ints (None keeps "
            f"the input size), got {output_size!r}"
        )
    sizes = (
        in_hw[0] if sizes[0] is None else sizes[0],
        in_hw[1] if sizes[1] is None else sizes[1],
    )
    if sizes[0] < 0 or sizes[1] < 0:
        raise ValueError(f"{op}: output_size must be non-negative, got {sizes}")
    return sizes  # type: ignore[return-value]


def adaptive_avg_pool2d(
    input: torch.Tensor, output_size: int | Sequence[int | None]
) -> torch.Tensor:
    """2-D adaptive average pooling: the mean of each bin, for a chosen output size.

    Args:
        input: (N, C, H, W) or (C, H, W), floating point.
        output_size: (H_out, W_out) or one int for both; None keeps H (or W).

    Shape:
        output: (N, C, H_out, W_out) or (C, H_out, W_out). Bin i of an axis spans
        [floor(i*H/H_out), ceil((i+1)*H/H_out)).

    Example:
        >>> x = torch.arange(16.0).reshape(1, 4, 4)
        >>> adaptive_avg_pool2d(x, 1)  # global average pooling
        tensor([[[7.5000]]])
    """
    op = "adaptive_avg_pool2d"
    x = check_pool_input(input, op)
    out_hw = _output_size(output_size, tuple(x.shape[-2:]), op)
    unbatched = x.dim() == 3
    out = _AdaptiveAvgPool2d.apply(x.unsqueeze(0) if unbatched else x, out_hw)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(
    input: torch.Tensor,
    output_size: int | Sequence[int | None],
    return_indices: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """2-D adaptive max pooling: the maximum of each bin, for a chosen output size.

    Args:
        input: (N, C, H, W) or (C, H, W), floating point.
        output_size: (H_out, W_out) or one int for both; None keeps H (or W).
        return_indices: also return the flat index ``h * W + w`` of each maximum
            in its input plane (torch's convention).

    Shape:
        output and indices: (N, C, H_out, W_out) or (C, H_out, W_out).

    Example:
        >>> x = torch.arange(16.0).reshape(1, 4, 4)
        >>> adaptive_max_pool2d(x, (2, 1))
        tensor([[[ 7.],
                 [15.]]])
    """
    op = "adaptive_max_pool2d"
    x = check_pool_input(input, op)
    out_hw = _output_size(output_size, tuple(x.shape[-2:]), op)
    unbatched = x.dim() == 3
    out, indices = _AdaptiveMaxPool2d.apply(x.unsqueeze(0) if unbatched else x, out_hw)
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out
