"""``Flatten``: the reshape between the conv part and the dense part of a CNN."""

from __future__ import annotations

import torch


class Flatten(torch.nn.Module):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one.

    With the defaults a batch of feature maps (N, C, H, W) becomes (N, C*H*W), ready
    for a ``Linear`` layer. It is a reshape with no arithmetic, so unlike the other
    layers it has no ``impl`` to choose (``set_impl``/``use_impl`` skip it).

    Args:
        start_dim: first dimension to merge (1 keeps the batch dimension).
        end_dim: last dimension to merge.

    Shape:
        input (N, C, H, W) -> output (N, C*H*W) with the defaults.

    Example:
        >>> import torch
        >>> Flatten()(torch.zeros(2, 64, 5, 5)).shape
        torch.Size([2, 1600])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not isinstance(input, torch.Tensor):
            raise TypeError(
                f"Flatten: input must be a torch.Tensor, got {type(input).__name__}"
            )
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
