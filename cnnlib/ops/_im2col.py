"""Convolution as matrix multiplication: im2col, col2im and shifted views.

A 2-D convolution and its two gradients are three matrix products::

    output       Y  = W @ cols(X)           (C_out, C_in*KH*KW) @ (C_in*KH*KW, L)
    weight grad  dW = dY @ cols(X)^T        (C_out, L) @ (L, C_in*KH*KW)
    input grad   dX = col2im(W^T @ dY)      (C_in*KH*KW, C_out) @ (C_out, L)

``cols(X)`` ("im2col") has one row per (input channel, kernel tap) and one column
per output position; ``col2im`` is its adjoint: it adds every entry of a columns
matrix back onto the input pixel it was copied from.

Layout. Tensors arrive as (N, C, H, W). We swap batch and channels to
(C, N, H, W) and flatten to (C, N*H*W), so the positions of *all* images are
columns of one matrix: a single matmul serves the whole batch, and its result has
one row per output channel, which a final transpose turns back into
(N, C_out, H_out, W_out).

Two ways to run the products, chosen by ``use_shifted``:

* **explicit**: copy the patches into a real ``cols`` matrix (``im2col``) and do one
  matmul. Works for every stride, dilation and group count. Costs a buffer
  KH*KW times the size of the (strided) input.
* **shifted** (stride 1, one group): never build ``cols``. In the flattened, padded
  input (C_in, N*Hp*Wp), the ``cols`` rows of kernel tap (i, j) are the whole
  buffer shifted by ``i*DH*Wp + j*DW`` columns, provided we compute the output on
  the full padded grid (Hp, Wp) and drop the positions that hang over the edge.
  So ``Y = sum over taps W[:, :, i, j] @ X_flat[:, shift:shift+M]``: KH*KW
  matmuls on views, no extra memory, about ``Hp*Wp / (H_out*W_out)`` times the
  arithmetic (13% extra for 32x32 images with padding 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# On CPU the shifted products run over blocks of this many grid positions, so a
# block of X and of Y (64-128 channels: 1-4 MB) stays in the L2 cache while all
# KH*KW taps reuse it. Streaming the whole batch per tap instead is limited by
# memory bandwidth: blocking measured about 1.5x faster on a 2-core Xeon. GPUs
# have no such cache to fill and prefer one large product per tap.
CPU_BLOCK = 4096


@dataclass(frozen=True)
class ConvGeometry:
    """Everything that decides which input pixel meets which kernel tap.

    Sizes are those of the convolution (for ``conv_transpose2d``: of the
    convolution it is the transpose of), with
    ``H_out = (H + top + bottom - DH*(KH - 1) - 1) // SH + 1``.
    """

    in_hw: tuple[int, int]  # (H, W)
    out_hw: tuple[int, int]  # (H_out, W_out)
    kernel_hw: tuple[int, int]  # (KH, KW)
    stride: tuple[int, int]  # (SH, SW)
    padding: tuple[int, int, int, int]  # (top, bottom, left, right)
    dilation: tuple[int, int]  # (DH, DW)
    groups: int

    @property
    def padded_hw(self) -> tuple[int, int]:
        top, bottom, left, right = self.padding
        return self.in_hw[0] + top + bottom, self.in_hw[1] + left + right

    def tap_shifts(self) -> list[tuple[int, int, int]]:
        """``(i, j, shift)`` per kernel tap: where tap (i, j) reads in the flat grid."""
        (kh, kw), (dh, dw), wp = self.kernel_hw, self.dilation, self.padded_hw[1]
        return [(i, j, i * dh * wp + j * dw) for i in range(kh) for j in range(kw)]


def use_shifted(weight: torch.Tensor, geom: ConvGeometry) -> bool:
    """Choose the shifted products when they apply and ``cols`` would be big.

    ``cols`` has C_in*KH*KW rows against C_out rows for the output, so when
    C_in*KH*KW > C_out the explicit buffer outweighs the output it produces (a 3x3
    conv with 64 channels: 9x); the shifted form avoids it. For few input channels
    (an RGB first layer) one big matmul beats KH*KW thin ones. Half precision keeps
    the explicit form: one matmul accumulates all C_in*KH*KW terms in float32,
    while summing taps would round to 8 or 11 bits after every tap.
    """
    c_out, c_in_per_group, kh, kw = weight.shape
    return (
        geom.stride == (1, 1)
        and geom.groups == 1
        and weight.dtype in (torch.float32, torch.float64)
        and c_in_per_group * kh * kw > c_out
    )


# --- Layout: (N, C, h, w) <-> flat padded grid (C, head + N*Hp*Wp + tail) ---------


def to_flat_grid(
    x: torch.Tensor,
    grid_hw: tuple[int, int],
    corner: tuple[int, int],
    head: int = 0,
    tail: int = 0,
) -> torch.Tensor:
    """Place x (N, C, h, w) at ``corner`` of a zero grid (C, N, Hp, Wp), flattened.

    ``head``/``tail`` zero columns before/after let shifted views run off the
    ends of the grid without going out of bounds. Returns (C, head+N*Hp*Wp+tail).
    """
    n, c, h, w = x.shape
    (hp, wp), (r, s) = grid_hw, corner
    flat = x.new_zeros(c, head + n * hp * wp + tail)
    grid = flat[:, head : head + n * hp * wp].view(c, n, hp, wp)
    grid[:, :, r : r + h, s : s + w] = x.transpose(0, 1)
    return flat


def from_flat_grid(
    flat: torch.Tensor,
    n: int,
    grid_hw: tuple[int, int],
    corner: tuple[int, int],
    size_hw: tuple[int, int],
) -> torch.Tensor:
    """Cut the (h, w) window at ``corner`` out of a flat grid: (N, C, h, w)."""
    (hp, wp), (r, s), (h, w) = grid_hw, corner, size_hw
    grid = flat.view(flat.shape[0], n, hp, wp)  # (C, N, Hp, Wp)
    return grid[:, :, r : r + h, s : s + w].transpose(0, 1).contiguous()


def _input_corner(geom: ConvGeometry) -> tuple[int, int]:
    return geom.padding[0], geom.padding[2]  # (top, left)


# --- Explicit: build cols, one matmul per group ----------------------------------


def im2col(grid: torch.Tensor, geom: ConvGeometry) -> torch.Tensor:
    """Patches of a padded grid (C, N, Hp, Wp) as a matrix (C*KH*KW, N*H_out*W_out).

    ``as_strided`` makes a 6-D view whose element (c, i, j, n, h, w) is
    ``grid[c, n, h*SH + i*DH, w*SW + j*DW]``, without copying: stepping the kernel
    tap moves DH rows, stepping the output position moves SH rows. ``reshape``
    then copies it into the matrix.
    """
    c, n = grid.shape[:2]
    (kh, kw), (sh, sw), (dh, dw) = geom.kernel_hw, geom.stride, geom.dilation
    h_out, w_out = geom.out_hw
    s_c, s_n, s_h, s_w = grid.stride()
    patches = grid.as_strided(
        (c, kh, kw, n, h_out, w_out),
        (s_c, dh * s_h, dw * s_w, s_n, sh * s_h, sw * s_w),
    )
    return patches.reshape(c * kh * kw, n * h_out * w_out)


def col2im(cols: torch.Tensor, geom: ConvGeometry, c: int, n: int) -> torch.Tensor:
    """Adjoint of ``im2col``: sum (C*KH*KW, N*L) back into a grid (C, N, Hp, Wp).

    Each kernel tap (i, j) saw the grid through a strided window; we add its
    slice of ``cols`` back through the same window. Windows of neighbouring
    taps overlap when the stride is smaller than the kernel, hence ``+=``.
    """
    (kh, kw), (sh, sw), (dh, dw) = geom.kernel_hw, geom.stride, geom.dilation
    h_out, w_out = geom.out_hw
    cols = cols.view(c, kh, kw, n, h_out, w_out)
    grid = cols.new_zeros(c, n, *geom.padded_hw)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (h_out - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (w_out - 1) + 1, sw)
            grid[:, :, rows, columns] += cols[:, i, j]
    return grid


def _grouped_cols(x: torch.Tensor, geom: ConvGeometry) -> torch.Tensor:
    """cols of x (N, C_in, H, W), split by group: (G, C_in/G*KH*KW, N*L)."""
    flat = to_flat_grid(x, geom.padded_hw, _input_corner(geom))
    grid = flat.view(x.shape[1], x.shape[0], *geom.padded_hw)  # (C_in, N, Hp, Wp)
    cols = im2col(grid, geom)  # (C_in*KH*KW, N*L)
    # Channels are the outer index of the rows, so each group's rows are one block:
    # (G, C_in/G*KH*KW, N*L).
    rows, positions = cols.shape
    return cols.view(geom.groups, rows // geom.groups, positions)


def _grouped_grad_output(grad_output: torch.Tensor, groups: int) -> torch.Tensor:
    """dY (N, C_out, H_out, W_out) as (G, C_out/G, N*L)."""
    n, c_out = grad_output.shape[:2]
    positions = n * grad_output.shape[2] * grad_output.shape[3]
    return grad_output.transpose(0, 1).reshape(groups, c_out // groups, positions)


def explicit_output(
    x: torch.Tensor, weight: torch.Tensor, geom: ConvGeometry
) -> torch.Tensor:
    """Y = W @ cols(X), for every group at once with ``bmm``."""
    n, c_out, g = x.shape[0], weight.shape[0], geom.groups
    cols = _grouped_cols(x, geom)  # (G, C_in/G*KH*KW, N*L)
    w = weight.reshape(g, c_out // g, -1)  # (G, C_out/G, C_in/G*KH*KW)
    y = torch.bmm(w, cols)  # (G, C_out/G, N*L)
    y = y.view(c_out, n, *geom.out_hw)  # (C_out, N, H_out, W_out)
    return y.transpose(0, 1).contiguous()  # (N, C_out, H_out, W_out)


def explicit_input_grad(
    grad_output: torch.Tensor, weight: torch.Tensor, geom: ConvGeometry
) -> torch.Tensor:
    """dX = col2im(W^T @ dY): every output gradient flows back along its patch."""
    n, c_out, g = grad_output.shape[0], weight.shape[0], geom.groups
    c_in = weight.shape[1] * g
    w = weight.reshape(g, c_out // g, -1)  # (G, C_out/G, C_in/G*KH*KW)
    grad_cols = torch.bmm(w.transpose(1, 2), _grouped_grad_output(grad_output, g))
    grad_cols = grad_cols.flatten(0, 1)  # (C_in*KH*KW, N*L)
    grid = col2im(grad_cols, geom, c_in, n)  # (C_in, N, Hp, Wp)
    flat = grid.flatten(1)  # (C_in, N*Hp*Wp)
    return from_flat_grid(flat, n, geom.padded_hw, _input_corner(geom), geom.in_hw)


def explicit_weight_grad(
    x: torch.Tensor, grad_output: torch.Tensor, geom: ConvGeometry
) -> torch.Tensor:
    """dW = dY @ cols(X)^T: each weight sums input*gradient over all positions."""
    g = geom.groups
    cols = _grouped_cols(x, geom)  # (G, C_in/G*KH*KW, N*L)
    grad_w = torch.bmm(_grouped_grad_output(grad_output, g), cols.transpose(1, 2))
    c_out, c_in = grad_output.shape[1], x.shape[1]
    return grad_w.view(c_out, c_in // g, *geom.kernel_hw)  # (C_out, C_in/G, KH, KW)


# --- Shifted: stride 1, one group, one matmul per tap on views -------------------


def _blocks(total: int, device: torch.device) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of grid positions processed together."""
    size = CPU_BLOCK if device.type == "cpu" else max(total, 1)
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def shifted_output(
    x: torch.Tensor, weight: torch.Tensor, geom: ConvGeometry
) -> torch.Tensor:
    """Y on the padded grid: Y[:, q] = sum over taps W_ij @ X[:, q + shift_ij]."""
    n, c_out = x.shape[0], weight.shape[0]
    taps = geom.tap_shifts()
    reach = taps[-1][2]  # the largest shift: zero columns needed after the grid
    m = n * geom.padded_hw[0] * geom.padded_hw[1]
    x_flat = to_flat_grid(x, geom.padded_hw, _input_corner(geom), tail=reach)
    w = weight.permute(2, 3, 0, 1).contiguous()  # (KH, KW, C_out, C_in)
    y_flat = x.new_zeros(c_out, m)  # (C_out, N*Hp*Wp)
    for start, stop in _blocks(m, x.device):
        y_block = y_flat[:, start:stop]
        for i, j, shift in taps:
            y_block.addmm_(w[i, j], x_flat[:, start + shift : stop + shift])
    # Output (h, w) sits at grid position (h, w); the rest of the grid is discarded.
    return from_flat_grid(y_flat, n, geom.padded_hw, (0, 0), geom.out_hw)


def shifted_input_grad(
    grad_output: torch.Tensor, weight: torch.Tensor, geom: ConvGeometry
) -> torch.Tensor:
    """dX[:, q] = sum over taps W_ij^T @ dY[:, q - shift_ij].

    Input position q fed output q - shift_ij through tap (i, j), so its gradient
    gathers from there: a "full" convolution of dY with the flipped kernel.
    ``head`` zero columns stand for the outputs before the start of the grid.
    """
    n, c_in = grad_output.shape[0], weight.shape[1]
    taps = geom.tap_shifts()
    head = taps[-1][2]
    m = n * geom.padded_hw[0] * geom.padded_hw[1]
    # dY on the padded grid, zero where the forward pass discarded positions.
    g_flat = to_flat_grid(grad_output, geom.padded_hw, (0, 0), head=head)
    w_t = weight.permute(2, 3, 1, 0).contiguous()  # (KH, KW, C_in, C_out)
    grad_flat = grad_output.new_zeros(c_in, m)  # (C_in, N*Hp*Wp)
    for start, stop in _blocks(m, grad_output.device):
        grad_block = grad_flat[:, start:stop]
        for i, j, shift in taps:
            grad_block.addmm_(
                w_t[i, j], g_flat[:, head + start - shift : head + stop - shift]
            )
    return from_flat_grid(grad_flat, n, geom.padded_hw, _input_corner(geom), geom.in_hw)


def shifted_weight_grad(
    x: torch.Tensor, grad_output: torch.Tensor, geom: ConvGeometry
) -> torch.Tensor:
    """dW_ij = sum over positions q of dY[:, q] X[:, q + shift_ij]^T."""
    n, c_out, c_in = x.shape[0], grad_output.shape[1], x.shape[1]
    taps = geom.tap_shifts()
    m = n * geom.padded_hw[0] * geom.padded_hw[1]
    x_flat = to_flat_grid(x, geom.padded_hw, _input_corner(geom), tail=taps[-1][2])
    g_flat = to_flat_grid(grad_output, geom.padded_hw, (0, 0))  # (C_out, N*Hp*Wp)
    grad_w = x.new_zeros(*geom.kernel_hw, c_out, c_in)  # (KH, KW, C_out, C_in)
    for start, stop in _blocks(m, x.device):
        g_block = g_flat[:, start:stop]
        for i, j, shift in taps:
            grad_w[i, j].addmm_(g_block, x_flat[:, start + shift : stop + shift].T)
    return grad_w.permute(2, 3, 0, 1).contiguous()  # (C_out, C_in, KH, KW)
