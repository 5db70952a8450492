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

Two ways to run the products, chosen by ``products()``; each first prepares the
input and the output gradient as operands, which the products then share:

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


# --- im2col and its adjoint ---------------------------------------------------


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


# --- Explicit: build cols, one matmul per group --------------------------------


class ExplicitProducts:
    """The three products with ``cols`` in memory; any stride, dilation, groups.

    Groups are independent convolutions side by side: with channels as the outer
    index of the rows of ``cols`` and of ``W``, group g owns one block of rows of
    each, and ``bmm`` does all groups in one call.
    """

    def __init__(self, geom: ConvGeometry):
        self.geom = geom

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """cols of x (N, C_in, H, W), split by group: (G, C_in/G*KH*KW, N*L)."""
        n, c_in = x.shape[:2]
        flat = to_flat_grid(x, self.geom.padded_hw, _input_corner(self.geom))
        grid = flat.view(c_in, n, *self.geom.padded_hw)  # (C_in, N, Hp, Wp)
        cols = im2col(grid, self.geom)  # (C_in*KH*KW, N*L)
        rows, positions = cols.shape
        return cols.view(self.geom.groups, rows // self.geom.groups, positions)

    def prepare_grad(self, grad_output: torch.Tensor) -> torch.Tensor:
        """dY (N, C_out, H_out, W_out) as (G, C_out/G, N*L)."""
        n, c_out, h_out, w_out = grad_output.shape
        g = self.geom.groups
        return grad_output.transpose(0, 1).reshape(g, c_out // g, n * h_out * w_out)

    def output(
        self, cols: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Y = W @ cols(X) + b: (N, C_out, H_out, W_out)."""
        c_out, g = weight.shape[0], self.geom.groups
        n = cols.shape[2] // (self.geom.out_hw[0] * self.geom.out_hw[1])
        w = weight.reshape(g, c_out // g, -1)  # (G, C_out/G, C_in/G*KH*KW)
        if bias is None:
            y = torch.bmm(w, cols)  # (G, C_out/G, N*L)
        else:  # baddbmm adds the bias (one per row) while it multiplies
            y = torch.baddbmm(bias.view(g, c_out // g, 1), w, cols)
        y = y.view(c_out, n, *self.geom.out_hw)  # (C_out, N, H_out, W_out)
        return y.transpose(0, 1).contiguous()  # (N, C_out, H_out, W_out)

    def input_grad(self, grad: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """dX = col2im(W^T @ dY): every output gradient flows back along its patch."""
        c_out, g = weight.shape[0], self.geom.groups
        c_in = weight.shape[1] * g
        n = grad.shape[2] // (self.geom.out_hw[0] * self.geom.out_hw[1])
        w = weight.reshape(g, c_out // g, -1)  # (G, C_out/G, C_in/G*KH*KW)
        grad_cols = torch.bmm(w.transpose(1, 2), grad)  # (G, C_in/G*KH*KW, N*L)
        grid = col2im(grad_cols.flatten(0, 1), self.geom, c_in, n)  # (C_in, N, Hp, Wp)
        corner, size = _input_corner(self.geom), self.geom.in_hw
        return from_flat_grid(grid.flatten(1), n, self.geom.padded_hw, corner, size)

    def weight_grad(self, cols: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """dW = dY @ cols(X)^T: each weight sums input*gradient over all positions."""
        grad_w = torch.bmm(grad, cols.transpose(1, 2))  # (G, C_out/G, C_in/G*KH*KW)
        g, c_out_per_group, rows = grad_w.shape
        kh, kw = self.geom.kernel_hw
        # (C_out, C_in/G, KH, KW)
        return grad_w.view(g * c_out_per_group, rows // (kh * kw), kh, kw)


# --- Shifted: stride 1, one group, one matmul per tap on views -------------------


class ShiftedProducts:
    """The three products as sums over kernel taps of matmuls on shifted views.

    Both operands live on the flat padded grid (C, N*Hp*Wp), where tap (i, j)
    links grid position q of the output to position q + shift_ij of the input.
    ``reach``, the largest shift, is the margin of zeros that lets every shifted
    view stay inside its buffer.

    Each tap is one matmul over the whole batch. Splitting the grid into blocks
    that stay in the CPU cache across taps was measured too: no faster on an idle
    2-core CPU, and much slower on a shared one, where every extra call waits for
    torch's threads to get a core.
    """

    def __init__(self, geom: ConvGeometry):
        self.geom = geom
        self.taps = geom.tap_shifts()
        self.reach = self.taps[-1][2]

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """x zero-padded on the flat grid, zeros after: (C_in, N*Hp*Wp + reach)."""
        corner = _input_corner(self.geom)
        return to_flat_grid(x, self.geom.padded_hw, corner, tail=self.reach)

    def prepare_grad(self, grad_output: torch.Tensor) -> torch.Tensor:
        """dY at the top-left of each image's grid, zeros elsewhere and before.

        Output (h, w) is computed at grid position (h, w); the positions the
        forward pass discarded get zero gradient. Shape (C_out, reach + N*Hp*Wp).
        """
        return to_flat_grid(grad_output, self.geom.padded_hw, (0, 0), head=self.reach)

    def output(
        self,
        x_flat: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Y[:, q] = b + sum over taps W_ij @ X[:, q + shift_ij]."""
        m = x_flat.shape[1] - self.reach  # N*Hp*Wp
        w = weight.permute(2, 3, 0, 1).contiguous()  # (KH, KW, C_out, C_in)
        if bias is None:
            y_flat = x_flat.new_zeros(weight.shape[0], m)  # (C_out, N*Hp*Wp)
        else:  # the sum over taps starts at the bias
            y_flat = bias.view(-1, 1).repeat(1, m)  # (C_out, N*Hp*Wp)
        for i, j, shift in self.taps:
            y_flat.addmm_(w[i, j], x_flat[:, shift : shift + m])
        # Keep the top-left (H_out, W_out) of each grid; the rest hung over the edge.
        n, grid_hw = self._batch(m), self.geom.padded_hw
        return from_flat_grid(y_flat, n, grid_hw, (0, 0), self.geom.out_hw)

    def input_grad(self, g_flat: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """dX[:, q] = sum over taps W_ij^T @ dY[:, q - shift_ij]: (N, C_in, H, W).

        Input position q fed output q - shift_ij through tap (i, j), so its gradient
        gathers from there: a "full" convolution of dY with the flipped kernel.
        """
        m, head = g_flat.shape[1] - self.reach, self.reach
        w_t = weight.permute(2, 3, 1, 0).contiguous()  # (KH, KW, C_in, C_out)
        grad_flat = g_flat.new_zeros(weight.shape[1], m)  # (C_in, N*Hp*Wp)
        for i, j, shift in self.taps:
            grad_flat.addmm_(w_t[i, j], g_flat[:, head - shift : head - shift + m])
        n, corner = self._batch(m), _input_corner(self.geom)
        grid_hw = self.geom.padded_hw
        return from_flat_grid(grad_flat, n, grid_hw, corner, self.geom.in_hw)

    def weight_grad(self, x_flat: torch.Tensor, g_flat: torch.Tensor) -> torch.Tensor:
        """dW_ij = sum over grid positions q of dY[:, q] X[:, q + shift_ij]^T."""
        m, head = x_flat.shape[1] - self.reach, self.reach
        c_in, c_out = x_flat.shape[0], g_flat.shape[0]
        grad_w = x_flat.new_empty(*self.geom.kernel_hw, c_out, c_in)
        g_grid = g_flat[:, head:]  # (C_out, N*Hp*Wp)
        for i, j, shift in self.taps:
            torch.mm(g_grid, x_flat[:, shift : shift + m].T, out=grad_w[i, j])
        return grad_w.permute(2, 3, 0, 1).contiguous()  # (C_out, C_in, KH, KW)

    def _batch(self, m: int) -> int:
        return m // (self.geom.padded_hw[0] * self.geom.padded_hw[1])


Products = ExplicitProducts | ShiftedProducts


def products(weight: torch.Tensor, geom: ConvGeometry) -> Products:
    """Choose the shifted products when they apply and ``cols`` would be big.

    ``cols`` has C_in*KH*KW rows against C_out rows for the output, so when
    C_in*KH*KW > C_out the explicit buffer outweighs the output it produces (a 3x3
    conv with 64 channels: 9x); the shifted form avoids it. For few input channels
    (an RGB first layer) one big matmul beats KH*KW thin ones. Half precision keeps
    the explicit form: one matmul sums all C_in*KH*KW terms at float32 precision,
    while summing taps would round to 8 or 11 bits after every tap.
    """
    c_out, c_in_per_group, kh, kw = weight.shape
    shifted = (
        geom.stride == (1, 1)
        and geom.groups == 1
        and weight.dtype in (torch.float32, torch.float64)
        and c_in_per_group * kh * kw > c_out
    )
    return ShiftedProducts(geom) if shifted else ExplicitProducts(geom)
