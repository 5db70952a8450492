"""Performance options of ``fit``: mixed precision and the channels-last layout.

Mixed precision runs the matrix products and convolutions in a 16-bit float type
(about twice the throughput and half the memory traffic on GPUs with tensor
cores) while the weights, the loss and the optimizer stay in float32:

* ``"bf16"`` (bfloat16): float32's exponent range with fewer mantissa bits, so
  gradients do not underflow; works on recent CUDA GPUs, CPUs (oneDNN) and MPS.
* ``"fp16"`` (float16): more mantissa bits, much smaller range, so small gradients
  would flush to zero; a ``GradScaler`` multiplies the loss before ``backward``
  and divides the gradients back before the step. CUDA and MPS only here.

``channels_last`` stores a (N, C, H, W) tensor in memory as (N, H, W, C) (the shape
is unchanged): convolution kernels on tensor cores and oneDNN prefer it.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

import torch

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_amp(amp: str | None, device: torch.device) -> None:
    """Raise a clear error if ``amp`` is not usable on ``device``."""
    if amp is None:
        return
    if amp not in AMP_DTYPES:
        raise ValueError(f"fit: amp must be None, 'bf16' or 'fp16', got {amp!r}")
    if amp == "fp16" and device.type == "cpu":
        raise ValueError(
            "fit: amp='fp16' needs a CUDA or MPS device (CPU autocast computes in "
            "bfloat16); use amp='bf16' on the CPU"
        )


def autocast(amp: str | None, device: torch.device) -> AbstractContextManager:
    """The autocast context for ``amp`` on ``device`` (a no-op when amp is None).

    Example:
        >>> import torch
        >>> with autocast("bf16", torch.device("cpu")):
        ...     y = torch.randn(2, 3) @ torch.randn(3, 4)
        >>> y.dtype
        torch.bfloat16
    """
    if amp is None:
        return contextlib.nullcontext()
    check_amp(amp, device)
    return torch.autocast(device_type=device.type, dtype=AMP_DTYPES[amp])


def grad_scaler(amp: str | None, device: torch.device) -> torch.amp.GradScaler | None:
    """A ``GradScaler`` for float16 training, None otherwise (bf16 needs none)."""
    if amp != "fp16":
        return None
    return torch.amp.GradScaler(device.type)


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """Put a 4-D (N, C, H, W) batch in channels-last memory order; other ranks as-is."""
    if x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x
