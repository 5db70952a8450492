"""Convolution layers: ``Conv1d`` and ``Conv2d``.

Each holds a weight of shape (C_out, C_in/groups, *kernel) and a bias of shape
(C_out,), created and initialised exactly like ``torch.nn.Conv1d``/``Conv2d``, and
computes its output with ``cnnlib.ops.conv1d``/``conv2d`` (``impl="scratch"``), torch's
kernel (``impl="native"``) or a function you pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlib import ops
from cnnlib.nn._impl import Impl, SwitchableLayer, check_input
from cnnlib.nn._init import reset_weight_and_bias_
from cnnlib.ops._args import as_tuple

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(SwitchableLayer):
    """What Conv1d and Conv2d share: arguments, parameters, padding, repr."""

    n_dims: int  # number of spatial dimensions: 1 or 2
    layout: str  # the expected input shape, for error messages

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: str | int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        name, n = type(self).__name__, self.n_dims
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must both be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, "
                f"got {padding_mode!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(kernel_size, n, name, "kernel_size")
        self.stride = as_tuple(stride, n, name, "stride")
        self.dilation = as_tuple(dilation, n, name, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: padding must be an int, a tuple of {n} ints, 'same' or "
                    f"'valid', got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' needs stride 1, got stride={stride}"
                )
            self.padding = padding
        else:
            self.padding = as_tuple(padding, n, name, "padding")
        self.groups = groups
        self.padding_mode = padding_mode

        factory = {"device": device, "dtype": dtype}
        self.weight = torch.nn.Parameter(
            torch.empty(
                out_channels, in_channels // groups, *self.kernel_size, **factory
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

    def _pads(self) -> list[tuple[int, int]]:
        """(before, after) padding of each spatial dimension, first dimension first."""
        if self.padding == "valid":
            return [(0, 0)] * self.n_dims
        if self.padding == "same":
            # The output keeps the input size when dilation*(K-1) zeros are added in
            # total; an odd total puts the extra zero after, as torch does.
            pairs = zip(self.dilation, self.kernel_size, strict=True)
            totals = [d * (k - 1) for d, k in pairs]
            return [(t // 2, t - t // 2) for t in totals]
        return [(p, p) for p in self.padding]

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(
            self,
            input,
            (self.n_dims + 1, self.n_dims + 2),
            self.layout,
            dim=-(self.n_dims + 1),
            size=self.in_channels,
            setting="in_channels",
        )
        pads = self._pads()
        if self.padding_mode == "zeros" and all(a == b for a, b in pads):
            padding = tuple(a for a, _ in pads)
        else:
            # Pad explicitly: for reflect/replicate/circular modes, and for 'same'
            # with an even kernel, whose zeros do not split evenly. F.pad lists the
            # last dimension first: (W_before, W_after, H_before, H_after).
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            input = F.pad(
                input, [p for pair in reversed(pads) for p in pair], mode=mode
            )
            padding = (0,) * self.n_dims
        return self.function(
            input,
            self.weight,
            self.bias,
            self.stride,
            padding,
            self.dilation,
            self.groups,
        )

    def settings_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0,) * self.n_dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.n_dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) over sequences, e.g. embedded text.

    Same arguments, parameters and initialisation as ``torch.nn.Conv1d``, plus
    ``impl``: "scratch" (``cnnlib.ops.conv1d``), "native" (``torch.nn.functional.
    conv1d``) or a callable ``fn(input, weight, bias, stride, padding, dilation,
    groups)``.

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size, stride, dilation: ints or 1-tuples.
        padding: int, 1-tuple, "valid" (none) or "same" (output length = input
            length; stride must be 1).
        groups: split channels into this many independent convolutions.
        bias: learn a bias per output channel.
        padding_mode: "zeros", "reflect", "replicate" or "circular".
        device, dtype: where and in which dtype the parameters are created.
        impl: which function computes the forward pass.

    Shape:
        input (N, C_in, L) or (C_in, L) -> output (N, C_out, L_out) with
        L_out = floor((L + 2*padding - dilation*(K - 1) - 1) / stride) + 1.

    Example:
        >>> import torch
        >>> conv = Conv1d(8, 16, kernel_size=3, padding=1)
        >>> conv(torch.zeros(4, 8, 50)).shape
        torch.Size([4, 16, 50])
    """

    n_dims = 1
    layout = "(N, C_in, L) or (C_in, L)"
    scratch_fn = staticmethod(ops.conv1d)
    native_fn = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over images: the CNN's core layer.

    Same arguments, parameters and initialisation as ``torch.nn.Conv2d``, plus
    ``impl``: "scratch" (``cnnlib.ops.conv2d``), "native" (``torch.nn.functional.
    conv2d``) or a callable ``fn(input, weight, bias, stride, padding, dilation,
    groups)`` such as your own conv2d.

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size, stride, dilation: ints or (height, width) pairs.
        padding: int, pair, "valid" (none) or "same" (output size = input size;
            stride must be 1).
        groups: split channels into this many independent convolutions
            (``groups=C_in`` is a depthwise convolution).
        bias: learn a bias per output channel.
        padding_mode: "zeros", "reflect", "replicate" or "circular".
        device, dtype: where and in which dtype the parameters are created.
        impl: which function computes the forward pass.

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, H_out, W_out) with
        H_out = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1
        (and W_out likewise with KW). weight: (C_out, C_in/groups, KH, KW).

    Example:
        >>> import torch
        >>> conv = Conv2d(1, 6, kernel_size=5)
        >>> conv(torch.zeros(2, 1, 32, 32)).shape
        torch.Size([2, 6, 28, 28])
        >>> conv.weight.shape, conv.bias.shape
        (torch.Size([6, 1, 5, 5]), torch.Size([6]))
    """

    n_dims = 2
    layout = "(N, C_in, H, W) or (C_in, H, W)"
    scratch_fn = staticmethod(ops.conv2d)
    native_fn = staticmethod(F.conv2d)
