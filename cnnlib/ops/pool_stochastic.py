"""Stochastic pooling (Zeiler & Fergus, 2013): draw each window's output at random.

Zeiler and Fergus, "Stochastic Pooling for Regularization of Deep Convolutional
Neural Networks", ICLR 2013. In a window of non-negative activations a_1..a_K
(e.g. after a ReLU) element k gets the probability

    p_k = a_k / (a_1 + ... + a_K).

Training: the output is ONE element, drawn with these probabilities. Large
activations win most often, as in max pooling, but smaller ones get their turn,
which acts as a regulariser (like dropout, the network cannot rely on one path).
Test time: the output is the expected value of the draw, sum_k p_k a_k.

torch has no such op, so cnnlib's tests check it against its definition.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cnnlib.ops._pool_common import (
    Window2d,
    add_windows_back,
    check_pool_input,
    pick_positions,
    scatter_to_positions,
    window_geometry,
    window_positions,
    windows,
)


class _StochasticPool2dTrain(torch.autograd.Function):
    """y[n, c, i, j] = a_k for one k drawn with probability p_k in window (i, j)."""

    @staticmethod
    def forward(
        ctx, x: torch.Tensor, geom: Window2d, generator: torch.Generator | None
    ):
        N, C, H, W = x.shape
        win = windows(x, geom)  # (N, C, H_out, W_out, KH, KW), a view
        KH, KW = geom.kernel
        win = win.reshape(N, C, *geom.out, KH * KW)  # (N, C, H_out, W_out, K)
        # Sample by inverting the cumulative distribution: draw u in [0, 1) and
        # pick the first k whose cumulative sum exceeds u * total. Element k owns
        # the interval [a_1 + ... + a_{k-1}, a_1 + ... + a_k) of length a_k, so it
        # is picked with probability a_k / total (never when a_k = 0).
        # bfloat16/float16 are too coarse for this: work in float32 at least.
        work = win.to(torch.promote_types(win.dtype, torch.float32))
        cumulative = work.cumsum(dim=-1)  # (N, C, H_out, W_out, K)
        total = cumulative[..., -1:]  # (N, C, H_out, W_out, 1)
        u = torch.rand(
            total.shape, generator=generator, dtype=work.dtype, device=x.device
        )
        # How many of the first K-1 cumulative sums are <= u * total is the
        # index of the drawn element (an all-zero window gets the last one, a 0).
        choice = (cumulative[..., :-1] <= u * total).sum(dim=-1, keepdim=True)
        out = win.gather(-1, choice).squeeze(-1)  # (N, C, H_out, W_out)
        indices = pick_positions(
            window_positions((H, W), geom, x.device), choice[..., 0]
        )
        # In an all-zero window nothing was really drawn (every p_k is 0/0):
        # it passes no gradient.
        drawn = total[..., 0] > 0
        ctx.save_for_backward(indices, drawn)
        ctx.in_hw = (H, W)
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        # The output IS the drawn element, so its gradient goes there and nowhere
        # else, exactly as max pooling routes it to the argmax (adding up where
        # overlapping windows drew the same element).
        indices, drawn = ctx.saved_tensors
        grad = scatter_to_positions(grad_out * drawn, indices, ctx.in_hw)
        return grad, None, None


class _StochasticPool2dEval(torch.autograd.Function):
    """y[n, c, i, j] = sum_k p_k a_k = sum_k a_k^2 / sum_k a_k over window (i, j)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, geom: Window2d):
        win = windows(x, geom)  # (N, C, H_out, W_out, KH, KW), a view
        # An all-zero window would divide 0 by 0; a tiny positive total makes
        # its output 0 (and its gradient 0) instead of nan.
        total = win.sum(dim=(-2, -1)).clamp(min=torch.finfo(x.dtype).tiny)
        p = win / total[..., None, None]  # (N, C, H_out, W_out, KH, KW)
        out = (p * win).sum(dim=(-2, -1))  # (N, C, H_out, W_out)
        ctx.save_for_backward(x, total, out)
        ctx.geom = geom
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x, total, out = ctx.saved_tensors
        geom = ctx.geom
        # y = S2 / S1 with S1 = sum_k a_k and S2 = sum_k a_k^2, so
        # d y / d a_k = (2 a_k S1 - S2) / S1^2 = (2 a_k - y) / S1.
        win = windows(x, geom)  # (N, C, H_out, W_out, KH, KW)
        # In an all-zero window the numerator is 0 and so is the derivative.
        dy_da = (2 * win - out[..., None, None]) / total[..., None, None]
        grad_windows = grad_out[..., None, None] * dy_da
        return add_windows_back(grad_windows, tuple(x.shape[-2:]), geom), None


def stochastic_pool2d(
    input: torch.Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """2-D stochastic pooling (Zeiler & Fergus, 2013); not part of torch.

    Training: each window outputs one of its elements, a_k drawn with probability
    p_k = a_k / sum_j a_j; the gradient flows to the drawn element. Evaluation
    (``training=False``): each window outputs sum_k p_k a_k, the expected value
    of the draw, and is differentiated as that formula. A window of zeros
    outputs 0 and passes no gradient.

    Args:
        input: (N, C, H, W) or (C, H, W), floating point, non-negative (e.g. the
            output of a ReLU): the activations are used as probabilities.
        kernel_size: (KH, KW) or one int for both.
        stride: step between windows; None means ``kernel_size``.
        training: draw at random (True) or take the expected value (False).
        generator: source of randomness for the draw, for reproducible runs;
            None uses torch's default generator. Must be on input's device.

    Shape:
        output: (N, C, H_out, W_out) or (C, H_out, W_out),
        H_out = floor((H - KH) / stride) + 1.

    Example:
        >>> x = torch.tensor([[[1.0, 3.0], [0.0, 0.0]]])
        >>> stochastic_pool2d(x, 2, training=False)  # (1*1 + 3*3) / (1 + 3)
        tensor([[[2.5000]]])
    """
    op = "stochastic_pool2d"
    x = check_pool_input(input, op)
    geom = window_geometry(op, x, kernel_size, stride)
    if bool((x < 0).any()):
        raise ValueError(
            f"{op}: input must be non-negative (its values are used as "
            f"probabilities; apply a ReLU first), got a minimum of {x.min().item()}"
        )
    if generator is not None and generator.device.type != x.device.type:
        raise ValueError(
            f"{op}: generator is on {generator.device} but input is on {x.device}; "
            f"create it with torch.Generator(device=input.device)"
        )
    unbatched = x.dim() == 3
    x4 = x.unsqueeze(0) if unbatched else x
    if training:
        out = _StochasticPool2dTrain.apply(x4, geom, generator)
    else:
        out = _StochasticPool2dEval.apply(x4, geom)
    return out.squeeze(0) if unbatched else out
