"""The fully connected layer ``Linear`` (Keras calls it Dense)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlib import ops
from cnnlib.nn._impl import Impl, SwitchableLayer, check_input
from cnnlib.nn._init import reset_weight_and_bias_


class Linear(SwitchableLayer):
    """Fully connected layer: ``y = x W^T + b``.

    Same arguments, parameters and initialisation as ``torch.nn.Linear``, plus
    ``impl``: "scratch" (``cnnlib.ops.linear``), "native" (``torch.nn.functional.
    linear``) or a callable ``fn(input, weight, bias)``.

    Args:
        in_features: size of each input sample, D_in.
        out_features: size of each output sample, D_out.
        bias: learn an additive bias.
        device, dtype: where and in which dtype the parameters are created.
        impl: which function computes the forward pass.

    Shape:
        input (*, D_in) -> output (*, D_out), where * is any number of leading
        dimensions (usually just N). weight: (D_out, D_in), bias: (D_out,).
        Parameters: D_in*D_out + D_out.

    Example:
        >>> import torch
        >>> fc = Linear(784, 512)
        >>> fc(torch.zeros(32, 784)).shape
        torch.Size([32, 512])
        >>> sum(p.numel() for p in fc.parameters())
        401920
    """

    scratch_fn = staticmethod(ops.linear)
    native_fn = staticmethod(F.linear)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.in_features = in_features
        self.out_features = out_features
        factory = {"device": device, "dtype": dtype}
        self.weight = torch.nn.Parameter(
            torch.empty(out_features, in_features, **factory)
        )
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights with torch.nn's default scheme."""
        reset_weight_and_bias_(self.weight, self.bias)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(
            self,
            input,
            None,
            "(*, in_features)",
            min_rank=1,
            dim=-1,
            size=self.in_features,
            setting="in_features",
        )
        return self.function(input, self.weight, self.bias)

    def settings_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
