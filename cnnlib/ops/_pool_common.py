"""What every pooling op shares: argument checks, window views, gradient routing.

A pooling layer slides a KH x KW window over each (H, W) plane and reduces it to one
number. Three ideas carry all the pooling ops in cnnlib:

1. ``windows`` views the (padded) input as (N, C, H_out, W_out, KH, KW) with
   ``as_strided``: no data is copied, the window at output (i, j) simply starts
   ``stride`` elements further along than its neighbour.
2. Max-like ops pick ONE element per window. Their backward hands the whole output
   gradient to that element (``scatter_to_positions``).
3. Average-like ops use EVERY element of the window. Their backward hands each
   element its share (``add_windows_back``).

When windows overlap (stride < kernel) one input element sits in several windows,
and its gradient is the SUM of what each window sends back: both backward helpers
add, they never overwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnlib.ops._args import (
    as_tuple,
    check_floating,
    check_non_negative,
    check_positive,
    check_rank,
    check_tensor,
)


@dataclass(frozen=True)
class Window2d:
    """Where the pooling windows sit; every field is a (height, width) pair."""

    kernel: tuple[int, int]  # (KH, KW)
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out: tuple[int, int]  # (H_out, W_out)


def check_pool_input(input: object, op: str) -> torch.Tensor:
    """A floating (N, C, H, W) or (C, H, W) tensor with H >= 1 and W >= 1."""
    x = check_tensor(input, op, "input")
    check_floating(x, op, "input")
    check_rank(x, (3, 4), op, "input", "(N, C, H, W) or (C, H, W)")
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"{op}: input must have non-zero height and width, "
            f"got shape {tuple(x.shape)}"
        )
    return x


def pair(value: int | Sequence[int], op: str, name: str) -> tuple[int, int]:
    """``3 -> (3, 3)``; like torch, a one-element sequence ``(3,)`` also means 3."""
    if isinstance(value, Sequence) and len(value) == 1:
        value = value[0]
    return as_tuple(value, 2, op, name)  # type: ignore[return-value]


def pool_output_size(
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    ceil_mode: bool,
) -> int:
    """Number of windows along one axis: ``floor((size + 2p - d(k-1) - 1) / s) + 1``.

    ``ceil_mode`` rounds up instead, which adds a last, partial window, but only if
    that window starts inside the input or the left padding: a window lying
    entirely in the right padding would pool nothing but padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1  # ceil division
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def window_geometry(
    op: str,
    x: torch.Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> Window2d:
    """Check the pooling arguments and compute (H_out, W_out)."""
    kernel = pair(kernel_size, op, "kernel_size")
    check_positive(kernel, op, "kernel_size")
    # stride=None (or an empty list, torch's other spelling) means stride = kernel:
    # windows that tile the input without overlapping.
    if stride is None or (isinstance(stride, Sequence) and len(stride) == 0):
        step = kernel
    else:
        step = pair(stride, op, "stride")
        check_positive(step, op, "stride")
    pad = pair(padding, op, "padding")
    check_non_negative(pad, op, "padding")
    # More padding than half a window would create windows made mostly (or only)
    # of padding; torch refuses it, and so do we.
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"{op}: padding must be at most half of kernel_size "
            f"(padding <= kernel_size // 2), got padding={pad} for "
            f"kernel_size={kernel}"
        )
    dil = pair(dilation, op, "dilation")
    check_positive(dil, op, "dilation")
    H, W = x.shape[-2:]
    out = (
        pool_output_size(H, kernel[0], step[0], pad[0], dil[0], ceil_mode),
        pool_output_size(W, kernel[1], step[1], pad[1], dil[1], ceil_mode),
    )
    if out[0] < 1 or out[1] < 1:
        raise ValueError(
            f"{op}: output size would be {out[0]}x{out[1]}: kernel_size={kernel} "
            f"(dilation={dil}) does not fit in the {H}x{W} input with "
            f"padding={pad}; use a smaller kernel_size or more padding"
        )
    return Window2d(kernel, step, pad, dil, out)  # type: ignore[arg-type]


def pad_for_windows(x: torch.Tensor, geom: Window2d, value: float) -> torch.Tensor:
    """Pad (N, C, H, W) with ``value`` so that every window lies inside the result.

    Top and left get ``padding``; bottom and right get what the windows reach:
    usually ``padding`` or less, more in ceil_mode (the last window hangs over).
    """
    (H_out, W_out), (KH, KW) = geom.out, geom.kernel
    (sH, sW), (pH, pW), (dH, dW) = geom.stride, geom.padding, geom.dilation
    # All windows together span (H_out - 1) * sH + (KH - 1) * dH + 1 rows.
    bottom = max((H_out - 1) * sH + (KH - 1) * dH + 1 - pH - x.shape[-2], 0)
    right = max((W_out - 1) * sW + (KW - 1) * dW + 1 - pW - x.shape[-1], 0)
    if pH == pW == bottom == right == 0:
        return x
    return F.pad(x, (pW, right, pH, bottom), value=value)


def windows(x: torch.Tensor, geom: Window2d) -> torch.Tensor:
    """View (N, C, H, W) as (N, C, H_out, W_out, KH, KW) windows, without copying.

    ``result[n, c, i, j, a, b] = x[n, c, i*sH + a*dH, j*sW + b*dW]``: moving to the
    next window jumps ``stride`` rows (or columns), moving to the next tap inside a
    window jumps ``dilation`` rows. ``as_strided`` just writes those jumps down.
    """
    N, C = x.shape[:2]
    stride_n, stride_c, stride_h, stride_w = x.stride()
    (sH, sW), (dH, dW) = geom.stride, geom.dilation
    return x.as_strided(
        (N, C, *geom.out, *geom.kernel),
        (
            stride_n,
            stride_c,
            stride_h * sH,
            stride_w * sW,
            stride_h * dH,
            stride_w * dW,
        ),
        x.storage_offset(),
    )


def sum_windows(x: torch.Tensor, geom: Window2d) -> torch.Tensor:
    """Sum of every window: (N, C, H, W) -> (N, C, H_out, W_out).

    The same numbers as ``windows(x, geom).sum(dim=(-2, -1))``, but adding one tap
    at a time (KH * KW passes over long, regular strides) runs several times
    faster than one reduction over the tiny, scattered (KH, KW) dims.
    """
    win = windows(x, geom)  # (N, C, H_out, W_out, KH, KW), a view
    # Accumulate in float32 at least, as torch does: a bfloat16 running sum would
    # round away digits at every addition.
    acc_dtype = torch.promote_types(x.dtype, torch.float32)
    total = torch.zeros(win.shape[:4], dtype=acc_dtype, device=x.device)
    for a in range(geom.kernel[0]):
        for b in range(geom.kernel[1]):
            total += win[:, :, :, :, a, b]
    return total.to(x.dtype)


def add_windows_back(
    grad_windows: torch.Tensor, plane: tuple[int, int], geom: Window2d
) -> torch.Tensor:
    """The transpose of ``windows``: sum per-window gradients back onto the plane.

    grad_windows: (N, C, H_out, W_out, KH, KW), the gradient of every window element.
    Returns (N, C, *plane). Tap (a, b) of all windows reads a regular grid of the
    plane, so we add one tap at a time; where windows overlap, an element collects
    a contribution from each window that contains it.
    """
    N, C, H_out, W_out, KH, KW = grad_windows.shape
    (sH, sW), (dH, dW) = geom.stride, geom.dilation
    grad = grad_windows.new_zeros(N, C, *plane)
    for a in range(KH):
        for b in range(KW):
            rows = slice(a * dH, a * dH + (H_out - 1) * sH + 1, sH)
            cols = slice(b * dW, b * dW + (W_out - 1) * sW + 1, sW)
            grad[:, :, rows, cols] += grad_windows[:, :, :, :, a, b]
    return grad


def tap_coordinates(
    size: int, out: int, kernel: int, stride: int, padding: int, dilation: int
) -> torch.Tensor:
    """(out, kernel): the input row (or column) read by each tap of each window.

    Taps in the padding get coordinates < 0 or >= size.
    """
    first = torch.arange(out) * stride - padding  # first tap of each window
    return first[:, None] + torch.arange(kernel) * dilation


def _real_tap_coordinates(size: int, geom: Window2d, axis: int) -> torch.Tensor:
    """``tap_coordinates``, each padding tap moved onto its window's first real one."""
    coords = tap_coordinates(
        size,
        geom.out[axis],
        geom.kernel[axis],
        geom.stride[axis],
        geom.padding[axis],
        geom.dilation[axis],
    )  # (out, kernel)
    real = (coords >= 0) & (coords < size)
    first_real = torch.where(real, coords, size).amin(dim=1, keepdim=True)
    return torch.where(real, coords, first_real.clamp(max=size - 1))


def window_positions(
    in_hw: tuple[int, int], geom: Window2d, device: torch.device
) -> torch.Tensor:
    """(H_out, W_out, KH*KW): the flat index ``h * W + w`` of each window element.

    A tap in the padding is given the position of the first real tap of its
    window. Max pooling only ever picks such a tap when the real values of the
    window are all -inf too (they tie with the -inf padding); torch then reports
    the first real position, so this keeps our indices equal to torch's and
    always inside the input.
    """
    rows = _real_tap_coordinates(in_hw[0], geom, axis=0)  # (H_out, KH)
    cols = _real_tap_coordinates(in_hw[1], geom, axis=1)  # (W_out, KW)
    positions = rows[:, None, :, None] * in_hw[1] + cols[None, :, None, :]
    # (H_out, W_out, KH, KW) -> (H_out, W_out, KH*KW)
    KH, KW = geom.kernel
    return positions.reshape(*geom.out, KH * KW).to(device)


def pick_positions(positions: torch.Tensor, choice: torch.Tensor) -> torch.Tensor:
    """Flat input index of the chosen element of each window.

    positions: (H_out, W_out, K) from ``window_positions``; choice: (N, C, H_out,
    W_out), a window-local index in [0, K). Returns (N, C, H_out, W_out), int64.
    """
    N, C = choice.shape[:2]
    table = positions.expand(N, C, *positions.shape)  # (N, C, H_out, W_out, K)
    return table.gather(-1, choice.unsqueeze(-1)).squeeze(-1)


def scatter_to_positions(
    grad_out: torch.Tensor, indices: torch.Tensor, in_hw: tuple[int, int]
) -> torch.Tensor:
    """Send each output gradient to the input element it came from.

    grad_out, indices: (N, C, H_out, W_out), indices flat into H*W.
    Returns (N, C, H, W). ``scatter_add_`` (not ``scatter_``): an element that is
    the chosen one of several overlapping windows receives the sum of their
    gradients.
    """
    N, C = grad_out.shape[:2]
    grad = grad_out.new_zeros(N, C, in_hw[0] * in_hw[1])
    grad.scatter_add_(2, indices.flatten(2), grad_out.flatten(2))
    return grad.view(N, C, *in_hw)
