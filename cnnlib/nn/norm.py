"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LocalResponseNorm``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlib import ops
from cnnlib.nn._impl import Impl, SwitchableLayer, check_input


class _BatchNorm(SwitchableLayer):
    """Batch normalisation (Ioffe & Szegedy, 2015), shared by the 1-D and 2-D layers.

    Parameters ``weight`` (gamma, ones) and ``bias`` (beta, zeros) and buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked``
    are named and initialised as in ``torch.nn``, so state_dicts load both ways.
    """

    scratch_fn = staticmethod(ops.batch_norm)
    native_fn = staticmethod(F.batch_norm)
    layout: str
    ranks: tuple[int, ...]
    # Version 2 of torch's batch-norm state_dict is the one with num_batches_tracked;
    # saying so lets torch load our state_dicts without patching them.
    _version = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        bias: bool = True,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        name = type(self).__name__
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"{name}: momentum must be in [0, 1] or None, got {momentum}"
            )
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = {"device": device, "dtype": dtype}
        if affine:
            self.weight = torch.nn.Parameter(torch.ones(num_features, **factory))
            if bias:
                self.bias = torch.nn.Parameter(torch.zeros(num_features, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Forget the running statistics: mean 0, variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, gamma to 1 and beta to 0."""
        self.reset_running_stats()
        if self.weight is not None:
            torch.nn.init.ones_(self.weight)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(
            self,
            input,
            self.ranks,
            self.layout,
            dim=1,
            size=self.num_features,
            setting="num_features",
        )
        # How much of this batch's statistics goes into the running ones:
        # `momentum`, or 1/(batches seen) for momentum=None, which makes the running
        # statistics the plain average over all training batches so far.
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        # Normalise with the batch's statistics in training, and in eval mode too
        # when no running statistics are kept.
        use_batch_stats = self.training or self.running_mean is None
        # Hand the running buffers over only when they are to be read (eval) or
        # updated (training with tracking).
        keep = not self.training or self.track_running_stats
        return self.function(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def settings_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features (after a Linear layer) or of 1-D signals.

    In training each feature is normalised with the batch's mean and (biased)
    variance, then scaled by ``weight`` and shifted by ``bias``; the running
    statistics (updated with the unbiased variance) replace the batch's in eval mode.

    Args:
        num_features: C, the number of features or channels.
        eps: added to the variance to avoid dividing by zero.
        momentum: weight of the new batch in the running statistics; None for the
            cumulative average over all batches.
        affine: learn ``weight`` and ``bias``.
        track_running_stats: keep running statistics (else eval uses batch ones).
        device, dtype: where and in which dtype the tensors are created.
        bias: learn ``bias`` (keyword-only, as in torch).
        impl: "scratch", "native" or a callable ``fn(input, running_mean,
            running_var, weight, bias, training, momentum, eps)``.

    Shape:
        input (N, C) or (N, C, L) -> output of the same shape.

    Example:
        >>> import torch
        >>> bn = BatchNorm1d(3)
        >>> bn(torch.randn(8, 3)).shape
        torch.Size([8, 3])
    """

    layout = "(N, C) or (N, C, L)"
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of the channels of feature maps.

    Each channel is normalised over the batch and all positions (N, H, W); see
    ``BatchNorm1d`` for the arguments.

    Args:
        num_features: C, the number of channels.
        eps, momentum, affine, track_running_stats, device, dtype, bias, impl:
            as for ``BatchNorm1d``.

    Shape:
        input (N, C, H, W) -> output (N, C, H, W).

    Example:
        >>> import torch
        >>> bn = BatchNorm2d(16)
        >>> [name for name, _ in bn.named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
    """

    layout = "(N, C, H, W)"
    ranks = (4,)


class LocalResponseNorm(SwitchableLayer):
    """Local response normalisation across channels, as in AlexNet (2012).

    Each activation is divided by ``(k + alpha/size * sum of squares over size
    neighbouring channels) ** beta``.

    Args:
        size: number of neighbouring channels summed over.
        alpha: multiplicative factor.
        beta: exponent.
        k: additive constant.
        impl: "scratch", "native" or a callable ``fn(input, size, alpha, beta, k)``.

    Shape:
        input (N, C, *) -> output of the same shape.

    Example:
        >>> import torch
        >>> lrn = LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
        >>> lrn(torch.ones(1, 8, 4, 4)).shape
        torch.Size([1, 8, 4, 4])
    """

    scratch_fn = staticmethod(ops.local_response_norm)
    native_fn = staticmethod(F.local_response_norm)

    def __init__(
        self,
        size: int,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 1.0,
        *,
        impl: Impl = "scratch",
    ) -> None:
        super().__init__(impl)
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_input(self, input, None, "(N, C, *)", min_rank=3)
        return self.function(input, self.size, self.alpha, self.beta, self.k)

    def settings_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
