"""Pooling layers: max, average, adaptive (global) and stochastic pooling.

Pooling has no parameters; it shrinks H and W by summarising each window. The
adaptive versions choose the windows to reach a fixed output size (output_size=1
is global pooling, as in NiN and ResNet heads).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlib import ops
from cnnlib.nn._impl import Impl, SwitchableLayer, check_input

_LAYOUT = "(N, C, H, W) or (C, H, W)"
_IntOrPair = int | tuple[int, int]


class MaxPool2d(SwitchableLayer):
    """Max pooling: the largest value of each KH x KW window.

    Args:
        kernel_size: window size, int or (KH, KW).
        stride: window step; defaults to ``kernel_size`` (non-overlapping windows).
        padding: implicit -inf padding on each border.
        dilation: spacing between the window's elements.
        return_indices: also return the flat index (in H*W) of each maximum.
        ceil_mode: round the output size up, so partial windows at the border count.
        impl: "scratch", "native" or a callable ``fn(input, kernel_size, stride,
            padding, dilation, ceil_mode, return_indices)``.

    Shape:
        input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out) with
        H_out = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1.

    Example:
        >>> import torch
        >>> MaxPool2d(2)(torch.zeros(1, 6, 28, 28)).shape
        torch.Size([1, 6, 14, 14])
    """

    scratch_fn = staticmethod(ops.max_pool2d)
    native_fn = staticmethod(F.max_pool2d)

    def __init__(
        self,
        kernel_size: _IntOrPair,
        stride: _IntOrPair | None = None,
        padding: _IntOrPair = 0,
        dilation: _IntOrPair = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(self, input, (3, 4), _LAYOUT)
        return self.function(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def settings_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, "
            f"ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(SwitchableLayer):
    """Average pooling: the mean of each KH x KW window.

    Args:
        kernel_size: window size, int or (KH, KW).
        stride: window step; defaults to ``kernel_size``.
        padding: implicit zero padding on each border.
        ceil_mode: round the output size up, so partial windows at the border count.
        count_include_pad: count the padding zeros in the divisor.
        divisor_override: divide every window sum by this instead.
        impl: "scratch", "native" or a callable ``fn(input, kernel_size, stride,
            padding, ceil_mode, count_include_pad, divisor_override)``.

    Shape:
        input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out) with
        H_out = floor((H + 2*padding - KH) / stride) + 1.

    Example:
        >>> import torch
        >>> AvgPool2d(2)(torch.ones(1, 1, 4, 4))
        tensor([[[[1., 1.],
                  [1., 1.]]]])
    """

    scratch_fn = staticmethod(ops.avg_pool2d)
    native_fn = staticmethod(F.avg_pool2d)

    def __init__(
        self,
        kernel_size: _IntOrPair,
        stride: _IntOrPair | None = None,
        padding: _IntOrPair = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(self, input, (3, 4), _LAYOUT)
        return self.function(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def settings_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}"
        )


class AdaptiveAvgPool2d(SwitchableLayer):
    """Average pooling to a fixed output size, whatever the input size.

    ``AdaptiveAvgPool2d(1)`` is global average pooling: one number per channel.

    Args:
        output_size: (H_out, W_out), or an int for a square; None in a position
            keeps that input size.
        impl: "scratch", "native" or a callable ``fn(input, output_size)``.

    Shape:
        input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out).

    Example:
        >>> import torch
        >>> AdaptiveAvgPool2d(1)(torch.zeros(2, 512, 7, 7)).shape
        torch.Size([2, 512, 1, 1])
    """

    scratch_fn = staticmethod(ops.adaptive_avg_pool2d)
    native_fn = staticmethod(F.adaptive_avg_pool2d)

    def __init__(
        self,
        output_size: int | None | tuple[int | None, int | None],
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.output_size = output_size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(self, input, (3, 4), _LAYOUT)
        return self.function(input, self.output_size)

    def settings_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(SwitchableLayer):
    """Max pooling to a fixed output size, whatever the input size.

    Args:
        output_size: (H_out, W_out), or an int for a square; None in a position
            keeps that input size.
        return_indices: also return the flat index (in H*W) of each maximum.
        impl: "scratch", "native" or a callable ``fn(input, output_size,
            return_indices)``.

    Shape:
        input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out).

    Example:
        >>> import torch
        >>> AdaptiveMaxPool2d((2, 2))(torch.zeros(1, 3, 9, 9)).shape
        torch.Size([1, 3, 2, 2])
    """

    scratch_fn = staticmethod(ops.adaptive_max_pool2d)
    native_fn = staticmethod(F.adaptive_max_pool2d)

    def __init__(
        self,
        output_size: int | None | tuple[int | None, int | None],
        return_indices: bool = False,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(self, input, (3, 4), _LAYOUT)
        return self.function(input, self.output_size, self.return_indices)

    def settings_repr(self) -> str:
        return f"output_size={self.output_size}"


class StochasticPool2d(SwitchableLayer):
    """Stochastic pooling (Zeiler & Fergus, 2013): sample one value per window.

    In training, each window's output is one of its values, drawn with probability
    proportional to the value (inputs should be non-negative, e.g. after a ReLU);
    in eval mode it is the probability-weighted average of the window. Like
    dropout, the randomness regularises. It follows ``train()``/``eval()``.

    Torch has no stochastic pooling kernel, so ``impl="native"`` runs the scratch
    op ``cnnlib.ops.stochastic_pool2d`` too; a callable receives
    ``fn(input, kernel_size, stride, training)``.

    Args:
        kernel_size: window size, int or (KH, KW).
        stride: window step; defaults to ``kernel_size``.
        impl: "scratch", "native" (= scratch) or a callable.

    Shape:
        input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out) with
        H_out = floor((H - KH) / stride) + 1.

    Example:
        >>> import torch
        >>> pool = StochasticPool2d(2).eval()
        >>> pool(torch.ones(1, 1, 4, 4)).shape
        torch.Size([1, 1, 2, 2])
    """

    scratch_fn = staticmethod(ops.stochastic_pool2d)
    native_fn = staticmethod(ops.stochastic_pool2d)  # no torch kernel exists

    def __init__(
        self,
        kernel_size: _IntOrPair,
        stride: _IntOrPair | None = None,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(self, input, (3, 4), _LAYOUT)
        return self.function(input, self.kernel_size, self.stride, self.training)

    def settings_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
