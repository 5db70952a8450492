"""Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax.

Each wraps the op of the same name in ``cnnlib.ops`` (scratch) or torch's (native).
They have no parameters; they exist as layers so that models read as a list of
steps, as in ``Sequential(Conv2d(...), ReLU(), MaxPool2d(2))``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlib import ops
from cnnlib.nn._impl import Impl, SwitchableLayer


class ReLU(SwitchableLayer):
    """Rectified linear unit, ``max(0, x)`` element-wise.

    Args:
        inplace: overwrite the input instead of allocating the output.
        impl: "scratch", "native" or a callable ``fn(input, inplace)``.

    Shape:
        input (*) -> output (*), same shape.

    Example:
        >>> import torch
        >>> ReLU()(torch.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """

    scratch_fn = staticmethod(ops.relu)
    native_fn = staticmethod(F.relu)

    def __init__(self, inplace: bool = False, *, impl: Impl = "scratch") -> None:
        super().__init__(impl)
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.function(input, self.inplace)

    def settings_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(SwitchableLayer):
    """Leaky ReLU: ``x`` where positive, ``negative_slope * x`` elsewhere.

    Args:
        negative_slope: slope for negative inputs.
        inplace: overwrite the input instead of allocating the output.
        impl: "scratch", "native" or a callable ``fn(input, negative_slope, inplace)``.

    Shape:
        input (*) -> output (*), same shape.

    Example:
        >>> import torch
        >>> LeakyReLU(0.1)(torch.tensor([-1.0, 2.0]))
        tensor([-0.1000,  2.0000])
    """

    scratch_fn = staticmethod(ops.leaky_relu)
    native_fn = staticmethod(F.leaky_relu)

    def __init__(
        self,
        negative_slope: float = 0.01,
        inplace: bool = False,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.function(input, self.negative_slope, self.inplace)

    def settings_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace}"


class Sigmoid(SwitchableLayer):
    """Logistic sigmoid, ``1 / (1 + exp(-x))`` element-wise.

    Args:
        impl: "scratch", "native" or a callable ``fn(input)``.

    Shape:
        input (*) -> output (*), same shape, values in (0, 1).

    Example:
        >>> import torch
        >>> Sigmoid()(torch.tensor([0.0]))
        tensor([0.5000])
    """

    scratch_fn = staticmethod(ops.sigmoid)
    native_fn = staticmethod(torch.sigmoid)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.function(input)


class Tanh(SwitchableLayer):
    """Hyperbolic tangent element-wise.

    Args:
        impl: "scratch", "native" or a callable ``fn(input)``.

    Shape:
        input (*) -> output (*), same shape, values in (-1, 1).

    Example:
        >>> import torch
        >>> Tanh()(torch.tensor([0.0]))
        tensor([0.])
    """

    scratch_fn = staticmethod(ops.tanh)
    native_fn = staticmethod(torch.tanh)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.function(input)


class Softmax(SwitchableLayer):
    """Softmax along ``dim``: positive values that sum to 1, class probabilities.

    Args:
        dim: the dimension that sums to 1 (use ``dim=1`` for (N, classes) logits).
            Give it: the default None is torch's deprecated implicit choice, which
            the scratch op refuses.
        impl: "scratch", "native" or a callable ``fn(input, dim)``.

    Shape:
        input (*) -> output (*), same shape.

    Example:
        >>> import torch
        >>> Softmax(dim=1)(torch.zeros(1, 4))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """

    scratch_fn = staticmethod(ops.softmax)
    native_fn = staticmethod(F.softmax)

    def __init__(self, dim: int | None = None, *, impl: Impl = "scratch") -> None:
        super().__init__(impl)
        self.dim = dim

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.function(input, self.dim)

    def settings_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(SwitchableLayer):
    """Logarithm of the softmax along ``dim``, computed stably (for NLL loss).

    Args:
        dim: the dimension over which the softmax is taken (give it, as for
            ``Softmax``).
        impl: "scratch", "native" or a callable ``fn(input, dim)``.

    Shape:
        input (*) -> output (*), same shape.

    Example:
        >>> import torch
        >>> LogSoftmax(dim=1)(torch.zeros(1, 2))
        tensor([[-0.6931, -0.6931]])
    """

    scratch_fn = staticmethod(ops.log_softmax)
    native_fn = staticmethod(F.log_softmax)

    def __init__(self, dim: int | None = None, *, impl: Impl = "scratch") -> None:
        super().__init__(impl)
        self.dim = dim

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.function(input, self.dim)

    def settings_repr(self) -> str:
        return f"dim={self.dim}"
