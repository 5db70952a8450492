"""Convolution (cross-correlation, as in every deep-learning library) in 1-D and 2-D.

``conv2d`` slides each of the C_out kernels (C_in/G, KH, KW) over the zero-padded
input and takes a dot product at every position::

    y[n, o, h, w] = b[o] + sum over c, i, j of
                    W[o, c, i, j] * x_pad[n, g*C_in/G + c, h*SH + i*DH, w*SW + j*DW]

(``g`` is the group of output channel ``o``). The arithmetic is done as matrix
products in ``cnnlib.ops._im2col``; this module checks arguments, works out the
geometry and wires the forward and backward formulas into autograd.
``conv1d`` is ``conv2d`` on images of height 1.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.ops._args import (
    as_tuple,
    check_floating,
    check_non_negative,
    check_positive,
    check_rank,
    check_same_device_dtype,
    check_tensor,
)
from cnnlib.ops._im2col import ConvGeometry, products

# --- The products, by the strategy that suits the shapes (see _im2col) ------------


def conv2d_output(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    geom: ConvGeometry,
) -> torch.Tensor:
    """y = conv(x, W) + b: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
    strategy = products(weight, geom)
    return strategy.output(strategy.prepare_input(input), weight, bias)


def conv2d_backward(
    input: torch.Tensor,
    weight: torch.Tensor,
    grad_output: torch.Tensor,
    geom: ConvGeometry,
    need_input_grad: bool = True,
    need_weight_grad: bool = True,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """dL/dx (N, C_in, H, W) and dL/dW (C_out, C_in/G, KH, KW) from dL/dy.

    Both products read dL/dy, so it is laid out for them once.
    """
    grad_input = grad_weight = None
    if not (need_input_grad or need_weight_grad):
        return grad_input, grad_weight
    strategy = products(weight, geom)
    grad = strategy.prepare_grad(grad_output)
    if need_input_grad:
        grad_input = strategy.input_grad(grad, weight)
    if need_weight_grad:
        grad_weight = strategy.weight_grad(strategy.prepare_input(input), grad)
    return grad_input, grad_weight


class _Conv2dFunction(torch.autograd.Function):
    """conv2d on batched input, with the gradients written out."""

    @staticmethod
    def forward(ctx, input, weight, bias, geom):
        ctx.geom = geom
        ctx.has_bias = bias is not None
        # x and W are all the backward pass needs; no intermediate is kept.
        ctx.save_for_backward(input, weight)
        return conv2d_output(input, weight, bias, geom)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad_input, grad_weight = conv2d_backward(
            input, weight, grad_output, ctx.geom, need_input, need_weight
        )
        grad_bias = None
        if ctx.has_bias and need_bias:
            # Each bias value was added at every (n, h, w): its gradient is the sum.
            grad_bias = grad_output.sum((0, 2, 3))
        return grad_input, grad_weight, grad_bias, None


# --- Argument checking, shared with conv_transpose2d ------------------------------

_INPUT_LAYOUTS = {1: "(C_in, L) or (N, C_in, L)", 2: "(C_in, H, W) or (N, C_in, H, W)"}


def autocast_inputs(
    input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Under ``torch.autocast``, compute in its 16-bit type, like torch's conv does."""
    device_type = input.device.type if isinstance(input, torch.Tensor) else "cpu"
    if not torch.is_autocast_enabled(device_type):
        return input, weight, bias
    dtype = torch.get_autocast_dtype(device_type)

    def cast(t):
        # Like autocast itself: float64 stays float64, other floats are cast.
        eligible = isinstance(t, torch.Tensor) and t.is_floating_point()
        return t.to(dtype) if eligible and t.dtype != torch.float64 else t

    return cast(input), cast(weight), cast(bias)


def check_conv_tensors(
    op: str,
    input: object,
    weight: object,
    bias: object,
    spatial: int,
    weight_layout: str,
    transposed: bool = False,
    groups: int = 1,
) -> None:
    """Types, ranks, devices and dtypes of input, weight and bias.

    The bias has one value per output channel: weight.shape[0] of them for a
    conv, weight.shape[1] * groups for a transposed conv.
    """
    check_tensor(input, op, "input")
    check_tensor(weight, op, "weight")
    check_floating(input, op, "input")
    check_rank(input, (spatial + 1, spatial + 2), op, "input", _INPUT_LAYOUTS[spatial])
    check_rank(weight, (spatial + 2,), op, "weight", weight_layout)
    check_same_device_dtype(input, weight, op, "input and weight")
    if bias is None:
        return
    check_tensor(bias, op, "bias")
    check_same_device_dtype(input, bias, op, "input and bias")
    n_out = weight.shape[1] * groups if transposed else weight.shape[0]
    if tuple(bias.shape) != (n_out,):
        raise ValueError(
            f"{op}: bias must have shape ({n_out},), one value per output channel, "
            f"got {tuple(bias.shape)}"
        )


def check_groups(groups: object, op: str) -> int:
    """groups is a positive int (it must also divide the channels: checked later)."""
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be positive, got {groups}")
    return groups


def padding_pairs(
    padding: str | int | tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    op: str,
) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` zero padding per spatial dimension.

    'same' pads ``DH*(KH - 1)`` in total so that H_out = H; when that total is odd
    (an even kernel), the extra row/column goes after (bottom/right), as in torch.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(
                f"{op}: padding must be 'valid', 'same', an int or a tuple of {n} "
                f"ints, got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' needs stride 1 (the output could not keep the "
                f"input size), got stride {stride}"
            )
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = as_tuple(padding, n, op, "padding")
    check_non_negative(pads, op, "padding")
    return tuple((p, p) for p in pads)


def conv_output_size(
    size: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
    op: str,
) -> tuple[int, ...]:
    """H_out = (H + top + bottom - DH*(KH - 1) - 1) // SH + 1, per dimension."""
    padded = tuple(s + a + b for s, (a, b) in zip(size, pads, strict=True))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    if any(p < r for p, r in zip(padded, reach, strict=True)):
        raise ValueError(
            f"{op}: kernel (size {kernel}, dilation {dilation}: spans {reach}) is "
            f"larger than the padded input {padded} (input {size} plus padding)"
        )
    return tuple(
        (p - r) // s + 1 for p, r, s in zip(padded, reach, stride, strict=True)
    )


def _convolve(op, spatial, input, weight, bias, stride, padding, dilation, groups):
    """conv1d/conv2d: check, lift 1-D to 2-D and batch the input, then convolve."""
    input, weight, bias = autocast_inputs(input, weight, bias)
    check_conv_tensors(
        op, input, weight, bias, spatial, "(C_out, C_in/groups, *kernel_size)"
    )
    groups = check_groups(groups, op)
    stride = as_tuple(stride, spatial, op, "stride")
    check_positive(stride, op, "stride")
    dilation = as_tuple(dilation, spatial, op, "dilation")
    check_positive(dilation, op, "dilation")
    kernel = tuple(weight.shape[2:])
    pads = padding_pairs(padding, kernel, stride, dilation, op)

    c_out, c_in_per_group = weight.shape[:2]
    c_in = input.shape[-spatial - 1]
    if c_in != c_in_per_group * groups:
        raise ValueError(
            f"{op}: input has {c_in} channels but weight expects "
            f"{c_in_per_group * groups} (weight.shape[1] * groups)"
        )
    if c_out % groups != 0:
        raise ValueError(
            f"{op}: groups={groups} must divide the output channels "
            f"(weight.shape[0] = {c_out})"
        )
    size = tuple(input.shape[-spatial:])
    out_size = conv_output_size(size, kernel, stride, pads, dilation, op)

    unbatched = input.dim() == spatial + 1
    if unbatched:
        input = input.unsqueeze(0)
    if spatial == 1:  # a signal of length L is an image of size (1, L)
        input, weight = input.unsqueeze(2), weight.unsqueeze(2)
        size, out_size, kernel = (1, *size), (1, *out_size), (1, *kernel)
        stride, dilation, pads = (1, *stride), (1, *dilation), ((0, 0), *pads)
    geom = ConvGeometry(
        in_hw=size,
        out_hw=out_size,
        kernel_hw=kernel,
        stride=stride,
        padding=(*pads[0], *pads[1]),
        dilation=dilation,
        groups=groups,
    )
    output = _Conv2dFunction.apply(input, weight, bias, geom)
    if spatial == 1:
        output = output.squeeze(2)
    return output.squeeze(0) if unbatched else output


# --- Public ops ----------------------------------------------------------------


def conv2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: str | int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """2-D convolution over a batch of images, like ``torch.nn.functional.conv2d``.

    Args:
        input: (N, C_in, H, W), or (C_in, H, W) for a single image.
        weight: (C_out, C_in/groups, KH, KW).
        bias: (C_out,) or None.
        stride: step (SH, SW) between output positions.
        padding: zeros added on each side, an int, (PH, PW), ``'valid'`` (none) or
            ``'same'`` (H_out = H, W_out = W; needs stride 1).
        dilation: spacing (DH, DW) between kernel taps.
        groups: split channels into this many independent convolutions
            (``groups = C_in``: depthwise).

    Shape:
        output: (N, C_out, H_out, W_out) with
        ``H_out = (H + 2*PH - DH*(KH - 1) - 1) // SH + 1``, the same for W.

    Example:
        >>> import torch
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> conv2d(x, torch.ones(1, 1, 2, 2), stride=2)  # sums of 2x2 blocks
        tensor([[[[10., 18.],
                  [42., 50.]]]])
    """
    return _convolve(
        "conv2d", 2, input, weight, bias, stride, padding, dilation, groups
    )


def conv1d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: str | int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """1-D convolution over a batch of signals, like ``torch.nn.functional.conv1d``.

    Computed as ``conv2d`` on images of height 1 (kernel (1, K)).

    Args:
        input: (N, C_in, L), or (C_in, L) for a single signal.
        weight: (C_out, C_in/groups, K).
        bias: (C_out,) or None.
        stride, padding, dilation, groups: as in ``conv2d``, for one dimension.

    Shape:
        output: (N, C_out, L_out) with ``L_out = (L + 2*P - D*(K - 1) - 1) // S + 1``.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[1.0, 2.0, 3.0, 4.0]]])
        >>> conv1d(x, torch.tensor([[[1.0, -1.0]]]))  # differences x[t] - x[t+1]
        tensor([[[-1., -1., -1.]]])
    """
    return _convolve(
        "conv1d", 1, input, weight, bias, stride, padding, dilation, groups
    )
