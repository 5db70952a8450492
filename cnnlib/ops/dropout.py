"""Inverted dropout (Srivastava et al., 2014, "Dropout: A Simple Way to Prevent
Neural Networks from Overfitting").

During training each element is zeroed with probability ``p`` and the survivors are
scaled by ``1 / (1 - p)``, so the expected value of every element is unchanged and
evaluation needs no rescaling at all: at test time dropout is the identity. (The
paper instead scales the weights by ``1 - p`` at test time; the two agree in
expectation.)
"""

from __future__ import annotations

import torch

from cnnlib.ops._args import check_floating, check_tensor

__all__ = ["dropout"]


class _Dropout(torch.autograd.Function):
    """``y = x * mask / (1 - p)`` with ``mask ~ Bernoulli(1 - p)`` elementwise."""

    @staticmethod
    def forward(ctx, input, p, inplace):
        if p == 1:
            # Everything is dropped; 1 / (1 - p) would divide by zero.
            noise = torch.zeros_like(input)
        else:
            # Draw from torch's global generator, as torch's CPU kernel does, so
            # torch.manual_seed makes runs repeatable (and equal to torch's on CPU).
            noise = torch.empty_like(input).bernoulli_(1 - p)  # 1 = keep
            noise.div_(1 - p)  # the survivors' scale, folded into the mask
        if inplace:
            output = input.mul_(noise)
            ctx.mark_dirty(input)
        else:
            output = input * noise
        ctx.save_for_backward(noise)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        # The same mask and scale: a dropped unit passes no gradient back.
        (noise,) = ctx.saved_tensors
        return grad_output * noise, None, None


def dropout(
    input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> torch.Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    Args:
        input: any shape ``(*)``.
        p: drop probability in [0, 1]; ``p=1`` gives zeros, ``p=0`` the input.
        training: when False, return ``input`` unchanged (the identity).
        inplace: overwrite ``input`` with the result and return it.

    Every call draws a new mask from torch's global random generator; seed it with
    ``torch.manual_seed`` for repeatable runs.

    Example:
        >>> x = torch.ones(4)
        >>> dropout(x, p=0.5, training=False)
        tensor([1., 1., 1., 1.])
    """
    op = "dropout"
    check_tensor(input, op, "input")
    check_floating(input, op, "input")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p!r}")
    if not training:
        return input
    return _Dropout.apply(input, float(p), inplace)
