"""``Dropout``: randomly silence units during training (Srivastava et al., 2014)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlib import ops
from cnnlib.nn._impl import Impl, SwitchableLayer


class Dropout(SwitchableLayer):
    """Zero each element with probability ``p`` in training, scale the rest by 1/(1-p).

    The scaling ("inverted dropout") keeps each unit's expected value unchanged, so
    in eval mode (``model.eval()``) the layer is simply the identity.

    Args:
        p: probability of zeroing an element, in [0, 1].
        inplace: overwrite the input instead of allocating the output.
        impl: "scratch", "native" or a callable ``fn(input, p, training, inplace)``.

    Shape:
        input (*) -> output (*), same shape.

    Example:
        >>> import torch
        >>> drop = Dropout(0.5).eval()
        >>> drop(torch.ones(3))
        tensor([1., 1., 1.])
    """

    scratch_fn = staticmethod(ops.dropout)
    native_fn = staticmethod(F.dropout)

    def __init__(
        self, p: float = 0.5, inplace: bool = False, *, impl: Impl = "scratch"
    ) -> None:
        super().__init__(impl)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.function(input, self.p, self.training, self.inplace)

    def settings_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
