"""Transposed convolution (also called fractionally strided convolution).

A convolution is a linear map: y = A x, where A depends on the weight. The
transposed convolution with the *same* weight computes A^T x. Two consequences
shape this file:

* Its forward pass is the convolution's input gradient, dL/dx = A^T dL/dy: every
  input pixel scatters a copy of the kernel, scaled by its value, into the output,
  and overlapping copies add up. With stride S the copies land S pixels apart,
  which is why it upsamples (U-Net decoders, GAN generators).
* Its backward pass needs A again: dL/dx = A dL/dy is an ordinary convolution
  of the output gradient, and the weight gradient is the convolution's weight
  gradient with the roles of input and output gradient swapped.

So nothing new is computed here: the three products are those of ``conv2d``
(``cnnlib.ops._im2col``), used in the other order.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.ops._args import as_tuple, check_non_negative, check_positive
from cnnlib.ops._im2col import ConvGeometry, products
from cnnlib.ops.conv import autocast_inputs, check_conv_tensors, check_groups

_OP = "conv_transpose2d"


class _ConvTranspose2dFunction(torch.autograd.Function):
    """conv_transpose2d on batched input; ``geom`` describes the conv it transposes."""

    @staticmethod
    def forward(ctx, input, weight, bias, geom):
        ctx.geom = geom
        ctx.has_bias = bias is not None
        ctx.save_for_backward(input, weight)
        # The transposed conv of x is the conv's input gradient with dL/dy = x.
        strategy = products(weight, geom)
        output = strategy.input_grad(strategy.prepare_grad(input), weight)
        if bias is not None:
            output += bias.view(-1, 1, 1)
        return output

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        strategy = products(weight, ctx.geom)
        # grad_output plays the conv's input in both products: prepare it once.
        conv_input = strategy.prepare_input(grad_output)
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            # The transpose of A^T is A: an ordinary convolution of the gradient.
            grad_input = strategy.output(conv_input, weight)
        if ctx.needs_input_grad[1]:
            # The conv's weight gradient pairs its input (here: grad_output) with
            # its output gradient (here: our input).
            grad_weight = strategy.weight_grad(conv_input, strategy.prepare_grad(input))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum((0, 2, 3))
        return grad_input, grad_weight, grad_bias, None


def conv_transpose2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """2-D transposed convolution, like ``torch.nn.functional.conv_transpose2d``.

    The adjoint of ``conv2d`` with the same weight, stride, padding, dilation and
    groups: it maps a (N, C_in, H, W) tensor back to the size that such a conv
    would have turned into (H, W). Note the argument order (``groups`` before
    ``dilation``), which follows torch.

    Args:
        input: (N, C_in, H, W), or (C_in, H, W) for a single image.
        weight: (C_in, C_out/groups, KH, KW): as the conv's weight, the first
            dimension is the channels on the small side.
        bias: (C_out,) or None.
        stride: spacing (SH, SW) of the kernel copies in the output.
        padding: rows/columns (PH, PW) cropped from each side of the output.
        output_padding: extra rows/columns (OPH, OPW) on the bottom/right, to pick
            one of the several sizes a strided conv maps to the same H; must be
            smaller than the stride or the dilation.
        groups: independent channel groups, as in ``conv2d``.
        dilation: spacing (DH, DW) between kernel taps.

    Shape:
        output: (N, C_out, H_out, W_out) with
        ``H_out = (H - 1)*SH - 2*PH + DH*(KH - 1) + OPH + 1``, the same for W.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[[1.0, 2.0]]]])  # (1, 1, 1, 2)
        >>> conv_transpose2d(x, torch.ones(1, 1, 2, 2), stride=2)  # 2x upsampling
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.]]]])
    """
    input, weight, bias = autocast_inputs(input, weight, bias)
    groups = check_groups(groups, _OP)
    check_conv_tensors(
        _OP,
        input,
        weight,
        bias,
        2,
        "(C_in, C_out/groups, KH, KW)",
        transposed=True,
        groups=groups,
    )
    stride = as_tuple(stride, 2, _OP, "stride")
    check_positive(stride, _OP, "stride")
    dilation = as_tuple(dilation, 2, _OP, "dilation")
    check_positive(dilation, _OP, "dilation")
    padding = as_tuple(padding, 2, _OP, "padding")
    check_non_negative(padding, _OP, "padding")
    output_padding = as_tuple(output_padding, 2, _OP, "output_padding")
    check_non_negative(output_padding, _OP, "output_padding")
    for extra, s, d in zip(output_padding, stride, dilation, strict=True):
        if extra >= s and extra >= d:
            raise ValueError(
                f"{_OP}: output_padding must be smaller than the stride or the "
                f"dilation, got output_padding {output_padding}, stride {stride}, "
                f"dilation {dilation}"
            )

    c_in = input.shape[-3]
    if c_in != weight.shape[0]:
        raise ValueError(
            f"{_OP}: input has {c_in} channels but weight expects "
            f"{weight.shape[0]} (weight.shape[0])"
        )
    if c_in % groups != 0:
        raise ValueError(
            f"{_OP}: groups={groups} must divide the input channels "
            f"(weight.shape[0] = {c_in})"
        )
    size = tuple(input.shape[-2:])
    kernel = tuple(weight.shape[2:])
    out_size = tuple(
        (h - 1) * s - 2 * p + d * (k - 1) + extra + 1
        for h, s, p, d, k, extra in zip(
            size, stride, padding, dilation, kernel, output_padding, strict=True
        )
    )
    if any(o < 1 for o in out_size):
        raise ValueError(
            f"{_OP}: output size {out_size} is not positive (input {size}, kernel "
            f"{kernel}, stride {stride}, padding {padding}, dilation {dilation}); "
            f"reduce padding"
        )

    unbatched = input.dim() == 3
    if unbatched:
        input = input.unsqueeze(0)
    # The conv being transposed goes from out_size back down to size.
    geom = ConvGeometry(
        in_hw=out_size,
        out_hw=size,
        kernel_hw=kernel,
        stride=stride,
        padding=(padding[0], padding[0], padding[1], padding[1]),
        dilation=dilation,
        groups=groups,
    )
    output = _ConvTranspose2dFunction.apply(input, weight, bias, geom)
    return output.squeeze(0) if unbatched else output
