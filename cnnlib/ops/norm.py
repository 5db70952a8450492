"""Normalisation layers: batch normalisation and local response normalisation.

Batch norm (Ioffe & Szegedy, 2015) standardises each channel with statistics of
the current mini-batch, then rescales it with learned ``weight`` (gamma) and
``bias`` (beta). Local response normalisation (Krizhevsky et al., 2012, AlexNet)
divides each activation by the energy of its neighbours across channels.

Both backward passes reuse statistics computed in the forward pass (the batch mean
and variance, the LRN denominators). Those were computed without recording a graph,
so the backward formulas cannot themselves be differentiated: ``once_differentiable``
makes a second derivative raise an error instead of returning a wrong value.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.ops._args import check_floating, check_tensor

__all__ = ["batch_norm", "local_response_norm"]


class _BatchNorm(torch.autograd.Function):
    """``y = gamma * (x - mean) / sqrt(var + eps) + beta``, per channel."""

    @staticmethod
    def forward(
        ctx, input, running_mean, running_var, weight, bias, training, momentum, eps
    ):
        # input (N, C, *): every dimension but the channel one is averaged over.
        dims = [0, *range(2, input.dim())]
        shape = (1, -1) + (1,) * (input.dim() - 2)  # view of a (C,) as (1, C, 1, ...)
        if training:
            # One pass for both moments. The biased variance (divide by n)
            # normalises the batch, as in the paper.
            var, mean = torch.var_mean(input, dim=dims, correction=0)  # (C,) each
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(momentum * mean)
            if running_var is not None:
                # The running variance estimates the population, so it stores
                # the unbiased variance (divide by n - 1), like torch.
                n = input.numel() // input.shape[1]
                running_var.mul_(1 - momentum).add_(momentum * n / (n - 1) * var)
        else:
            mean, var = running_mean, running_var
        invstd = torch.rsqrt(var + eps)  # (C,)

        # gamma (x - mean) invstd + beta = x * scale + shift, with per-channel
        # scale = gamma invstd and shift = beta - mean scale: one pass over x.
        scale = invstd if weight is None else weight * invstd
        shift = -mean * scale if bias is None else bias - mean * scale
        output = torch.addcmul(shift.view(shape), input, scale.view(shape))
        # float32 statistics with a bfloat16 input promote the result; return the
        # input's dtype, as torch does (a no-op when the dtypes agree).
        output = output.to(input.dtype)

        ctx.save_for_backward(input, weight, mean, invstd)
        ctx.training, ctx.dims, ctx.shape = training, dims, shape
        ctx.has_bias = bias is not None
        return output

    @staticmethod
    @once_differentiable  # mean, invstd carry no graph: see the module docstring
    def backward(ctx, grad_output):
        input, weight, mean, invstd = ctx.saved_tensors
        dims, shape = ctx.dims, ctx.shape
        n = input.numel() // input.shape[1]
        gamma = torch.ones_like(invstd) if weight is None else weight

        # Two per-channel sums over the batch, with x_hat = (x - mean) invstd:
        #   sum(g)          is dL/dbeta
        #   sum(g x_hat)    is dL/dgamma, computed as invstd (sum(g x) - mean sum(g))
        #                   to avoid building x_hat.
        sum_g = grad_output.sum(dim=dims)  # (C,)
        sum_g_xhat = invstd * ((grad_output * input).sum(dim=dims) - mean * sum_g)

        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            if ctx.training:
                # Ioffe & Szegedy (2015), Algorithm 1's backward: mean and var
                # depend on every x, which adds two correction terms:
                #   dL/dx = gamma invstd (g - mean(g) - x_hat mean(g x_hat)).
                # With x_hat = (x - mean) invstd this is a per-channel affine map
                # of g and x: dL/dx = a g + b x + c.
                a = gamma * invstd
                b = -a * invstd * sum_g_xhat / n
                c = -a * sum_g / n - b * mean
                grad_input = torch.addcmul(c.view(shape), input, b.view(shape))
                grad_input = grad_input.addcmul_(grad_output, a.view(shape))
            else:
                # The running statistics are constants: only the scaling remains.
                grad_input = grad_output * (gamma * invstd).view(shape)
        if weight is not None and ctx.needs_input_grad[3]:
            grad_weight = sum_g_xhat
        if ctx.has_bias and ctx.needs_input_grad[4]:
            grad_bias = sum_g
        return grad_input, None, None, grad_weight, grad_bias, None, None, None


class _LocalResponseNorm(torch.autograd.Function):
    """``y_c = x_c / d_c^beta``, ``d_c = k + alpha/size * sum_{c' near c} x_c'^2``."""

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        # input (N, C, *); the window of channel c is [c - size//2, c + (size-1)//2].
        before, after = size // 2, (size - 1) // 2
        window_sum = _channel_window_sum(input * input, before, after)  # (N, C, *)
        denom = k + (alpha / size) * window_sum
        output = input * denom.pow(-beta)
        ctx.save_for_backward(input, output, denom)
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        return output

    @staticmethod
    @once_differentiable  # denom carries no graph: see the module docstring
    def backward(ctx, grad_output):
        input, output, denom = ctx.saved_tensors
        size, alpha, beta = ctx.size, ctx.alpha, ctx.beta
        before, after = size // 2, (size - 1) // 2
        # x_j appears in its own numerator and in the denominator d_c of every
        # channel c whose window holds j, that is c in [j - after, j + before]:
        #   dL/dx_j = g_j d_j^-beta
        #             - 2 alpha beta / size * x_j * sum_c g_c x_c d_c^(-beta-1).
        # The sum runs over the mirrored window, so it swaps before and after.
        through_denom = grad_output * output / denom  # g_c x_c d_c^(-beta-1)
        spread = _channel_window_sum(through_denom, after, before)
        grad_input = (
            grad_output * denom.pow(-beta) - (2 * alpha * beta / size) * input * spread
        )
        return grad_input, None, None, None, None


def _channel_window_sum(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """``out[:, c] = sum(x[:, c - before : c + after + 1])``, zeros past the edges."""
    # F.pad lists (left, right) pairs from the last dimension backwards; only the
    # channel dimension (dim 1) gets padding.
    pad = [0, 0] * (x.dim() - 2) + [before, after]
    padded = torch.nn.functional.pad(x, pad)  # (N, C + before + after, *)
    windows = padded.unfold(1, before + after + 1, 1)  # (N, C, *, size), a view
    return windows.sum(dim=-1)


def batch_norm(
    input: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> torch.Tensor:
    """Batch normalisation over ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)`` input.

    Each channel ``c`` is normalised over all of its ``n = N * L`` (or
    ``N * H * W``) values: ``y = gamma_c (x - mean_c) / sqrt(var_c + eps) + beta_c``.

    * ``training=True``: mean and (biased) variance of this batch. If given, the
      running statistics are updated in place:
      ``running = (1 - momentum) * running + momentum * batch_statistic``, where
      the variance stored is the unbiased one (``var * n / (n - 1)``), as in torch.
    * ``training=False``: ``running_mean`` and ``running_var`` are used instead.

    Args:
        input: ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` or None (None only when training).
        weight, bias: gamma and beta, ``(C,)`` each, or None (1 and 0).
        training: use batch statistics (and update the running ones).
        momentum: weight of the new batch in the running average. For a
            cumulative average (``torch.nn.BatchNorm2d(momentum=None)``) pass
            ``1 / num_batches_seen``: the functional op holds no counter.
        eps: added to the variance so an all-constant channel does not divide by 0.

    Returns:
        Same shape as ``input``.

    Reference: Ioffe & Szegedy, 2015, "Batch Normalization: Accelerating Deep
    Network Training by Reducing Internal Covariate Shift", Algorithm 1.

    Example:
        >>> x = torch.tensor([[1.0], [3.0]])
        >>> batch_norm(x, None, None, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
    """
    op = "batch_norm"
    check_tensor(input, op, "input")
    check_floating(input, op, "input")
    if input.dim() < 2:
        raise ValueError(
            f"{op}: input must be (N, C), (N, C, L) or (N, C, H, W), "
            f"got shape {tuple(input.shape)}"
        )
    channels = input.shape[1]
    for name, tensor in [
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ]:
        if tensor is None:
            continue
        check_tensor(tensor, op, name)
        if tensor.shape != (channels,):
            raise ValueError(
                f"{op}: {name} must have one entry per channel, shape ({channels},), "
                f"got {tuple(tensor.shape)}"
            )
        if tensor.device != input.device:
            raise ValueError(
                f"{op}: input and {name} are on different devices "
                f"({input.device}, {tensor.device})"
            )
    if momentum is None or not 0.0 <= momentum <= 1.0:
        raise ValueError(
            f"{op}: momentum must be a float in [0, 1], got {momentum!r}; for a "
            "cumulative average pass momentum=1/num_batches_seen"
        )
    if training:
        if input.numel() // max(channels, 1) <= 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training "
                f"(the variance of one value is 0), got input shape "
                f"{tuple(input.shape)}"
            )
    elif running_mean is None or running_var is None:
        raise ValueError(
            f"{op}: running_mean and running_var are required when training=False"
        )
    return _BatchNorm.apply(
        input, running_mean, running_var, weight, bias, training, momentum, eps
    )


def local_response_norm(
    input: torch.Tensor,
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> torch.Tensor:
    """Local response normalisation across channels, exactly as torch computes it.

    ``y_c = x_c / (k + alpha / size * sum_{c'} x_{c'}^2) ^ beta``, the sum running
    over channels ``c' in [c - size//2, c + (size-1)//2]`` that exist (missing
    channels at the edges count as 0).

    Two differences from the AlexNet paper (Krizhevsky et al., 2012, section
    3.3), which writes ``k + alpha * sum(...)`` with ``k=2, n=5, alpha=1e-4,
    beta=0.75``: torch (and so cnnlib) divides alpha by ``size``, so the paper's
    setting is ``size=5, alpha=5e-4, beta=0.75, k=2``; and for an even ``size`` the
    window is not centred (one more channel before c than after).

    Args:
        input: ``(N, C, *)`` with at least 3 dimensions, e.g. ``(N, C, H, W)``.
        size: number of neighbouring channels in the sum (including c).
        alpha, beta, k: as in the formula.

    Returns:
        Same shape as ``input``.

    Example:
        >>> x = torch.ones(1, 3, 1, 1)
        >>> local_response_norm(x, size=3, alpha=3.0, beta=1.0, k=0.0).flatten()
        tensor([0.5000, 0.3333, 0.5000])
    """
    op = "local_response_norm"
    check_tensor(input, op, "input")
    check_floating(input, op, "input")
    if input.dim() < 3:
        raise ValueError(
            f"{op}: input must have at least 3 dimensions (N, C, L) or (N, C, H, W), "
            f"got shape {tuple(input.shape)}"
        )
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{op}: size must be a positive int, got {size!r}")
    return _LocalResponseNorm.apply(input, size, float(alpha), float(beta), float(k))
