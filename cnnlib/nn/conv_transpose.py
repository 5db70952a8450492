"""Transposed convolution ``ConvTranspose2d``: the learnable upsampling of U-Net."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cnnlib import ops
from cnnlib.nn._impl import Impl, SwitchableLayer, check_input
from cnnlib.nn._init import reset_weight_and_bias_
from cnnlib.ops._args import as_tuple


class ConvTranspose2d(SwitchableLayer):
    """2-D transposed convolution: spreads each input pixel over a KH x KW patch.

    It is the gradient of ``Conv2d`` with respect to its input, used to upsample
    (stride 2 doubles height and width). Same arguments, parameters and
    initialisation as ``torch.nn.ConvTranspose2d``, plus ``impl``: "scratch"
    (``cnnlib.ops.conv_transpose2d``), "native" or a callable ``fn(input, weight,
    bias, stride, padding, output_padding, groups, dilation)``.

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size, stride, dilation: ints or (height, width) pairs.
        padding: rows/columns cropped from each border of the full output.
        output_padding: extra rows/columns added on the bottom/right, to pick
            one of the ``stride`` output sizes that map back to the same input size.
        groups: split channels into independent groups.
        bias: learn a bias per output channel.
        padding_mode: only "zeros" (as in torch).
        device, dtype: where and in which dtype the parameters are created.
        impl: which function computes the forward pass.

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, H_out, W_out) with
        H_out = (H - 1)*stride - 2*padding + dilation*(KH - 1) + output_padding + 1.
        weight: (C_in, C_out/groups, KH, KW) (note: C_in first, unlike Conv2d).

    Example:
        >>> import torch
        >>> up = ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        >>> up(torch.zeros(1, 16, 14, 14)).shape
        torch.Size([1, 8, 28, 28])
    """

    scratch_fn = staticmethod(ops.conv_transpose2d)
    native_fn = staticmethod(F.conv_transpose2d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must both be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(kernel_size, 2, name, "kernel_size")
        self.stride = as_tuple(stride, 2, name, "stride")
        self.padding = as_tuple(padding, 2, name, "padding")
        self.output_padding = as_tuple(output_padding, 2, name, "output_padding")
        self.dilation = as_tuple(dilation, 2, name, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode

        factory = {"device": device, "dtype": dtype}
        self.weight = torch.nn.Parameter(
            torch.empty(
                in_channels, out_channels // groups, *self.kernel_size, **factory
            )
        )
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights with torch.nn's default scheme."""
        reset_weight_and_bias_(self.weight, self.bias)

    def _output_padding_for(
        self, input: torch.Tensor, output_size: Sequence[int]
    ) -> tuple[int, ...]:
        """The output_padding that makes the output exactly ``output_size`` (H, W)."""
        size = tuple(output_size)[-2:]
        paddings = []
        for i in range(2):
            smallest = (
                (input.shape[i - 2] - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            # Any extra between 0 and stride-1 maps back to the same input size.
            if not smallest <= size[i] < smallest + self.stride[i]:
                raise ValueError(
                    f"ConvTranspose2d: output_size {tuple(output_size)} is not "
                    f"reachable from an input of size {tuple(input.shape[-2:])}; "
                    f"dimension {i} must lie in [{smallest}, "
                    f"{smallest + self.stride[i] - 1}]"
                )
            paddings.append(size[i] - smallest)
        return tuple(paddings)

    def forward(
        self, input: torch.Tensor, output_size: Sequence[int] | None = None
    ) -> torch.Tensor:
        """Upsample ``input``; ``output_size`` (H, W or N, C, H, W) fixes the size."""
        check_input(
            self,
            input,
            (3, 4),
            "(N, C_in, H, W) or (C_in, H, W)",
            dim=-3,
            size=self.in_channels,
            setting="in_channels",
        )
        output_padding = (
            self.output_padding
            if output_size is None
            else self._output_padding_for(input, output_size)
        )
        return self.function(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )

    def settings_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
