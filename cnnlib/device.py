"""Where to run (CUDA, then Apple's MPS, then the CPU) and how to seed a run.

``best_device()`` picks the fastest device present; ``seed_everything(seed)`` makes a
notebook or script repeatable. Seeding is the one place where cnnlib touches global
state, on purpose: the random generators of Python, NumPy and torch are global.
Library code that needs randomness takes a ``torch.Generator`` instead, made with
``make_generator``.
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

_KINDS = ("cuda", "mps", "cpu")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return _mps_available()
    return True


def best_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to compute on: CUDA if present, else MPS (Apple GPUs), else CPU.

    Args:
        prefer: ask for one device ("cuda", "cuda:1", "mps" or "cpu") instead of
            the automatic choice; an error says so if it is not available here.

    Returns:
        A ``torch.device``.

    Example:
        >>> import torch
        >>> device = best_device()
        >>> x = torch.zeros(3, device=device)
        >>> best_device("cpu")
        device(type='cpu')
    """
    if prefer is None:
        for kind in _KINDS:
            if _available(kind):
                return torch.device(kind)
    try:
        device = torch.device(prefer)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"best_device: prefer must be one of {_KINDS} (optionally with an index, "
            f"e.g. 'cuda:1') or None, got {prefer!r}"
        ) from error
    if device.type not in _KINDS:
        raise ValueError(
            f"best_device: prefer must be one of {_KINDS} or None, got {prefer!r}"
        )
    if not _available(device.type):
        raise RuntimeError(
            f"best_device: {device.type!r} was requested but is not available on "
            f"this machine (torch {torch.__version__}); best_device() picks what is"
        )
    if device.type == "cuda" and device.index is not None:
        count = torch.cuda.device_count()
        if device.index >= count:
            raise RuntimeError(
                f"best_device: {str(device)!r} was requested but this machine has "
                f"{count} CUDA device(s)"
            )
    return device


def seed_everything(seed: int = 0, *, deterministic: bool = False) -> int:
    """Seed Python's ``random``, NumPy and torch (CPU and every GPU) with ``seed``.

    This changes global state on purpose, for notebooks and scripts; library
    functions never call it.

    Args:
        seed: the seed, a non-negative int.
        deterministic: also ask torch for deterministic kernels (slower on GPU;
            ops without a deterministic version then warn). GPU results can differ
            between runs without it, even with the same seed.

    Returns:
        The seed, so that it can be logged.

    Example:
        >>> import torch
        >>> _ = seed_everything(42)
        >>> a = torch.rand(2)
        >>> _ = seed_everything(42)
        >>> torch.equal(a, torch.rand(2))
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(
            f"seed_everything: seed must be a non-negative int, got {seed!r}"
        )
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy seed takes 32 bits
    torch.manual_seed(seed)  # seeds the CPU and all CUDA generators
    if deterministic:
        # cuBLAS needs this workspace setting to be deterministic (CUDA >= 10.2).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed


def make_generator(
    seed: int, device: str | torch.device | None = None
) -> torch.Generator:
    """A seeded random generator of its own, leaving the global one untouched.

    Pass it to ``torch.rand(..., generator=g)``, ``DataLoader(generator=g)``, or
    ``cnnlib.ops`` functions that take one.

    Args:
        seed: the seed.
        device: the device the generator draws on (defaults to the CPU).

    Example:
        >>> import torch
        >>> a = torch.rand(2, generator=make_generator(0))
        >>> torch.equal(a, torch.rand(2, generator=make_generator(0)))
        True
    """
    device = torch.device("cpu") if device is None else torch.device(device)
    return torch.Generator(device=device).manual_seed(seed)


def device_info() -> dict[str, object]:
    """What this machine offers, e.g. for the book's "how to run" page.

    Returns:
        A dict with the chosen device, versions, CPU threads, and CUDA/MPS details.

    Example:
        >>> info = device_info()
        >>> info["best_device"] in ("cuda", "mps", "cpu")
        True
    """
    cuda = torch.cuda.is_available()
    info: dict[str, object] = {
        "best_device": best_device().type,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
        "cuda_available": cuda,
        "cuda_version": torch.version.cuda,
        "cudnn_version": torch.backends.cudnn.version() if cuda else None,
        "cuda_devices": [
            torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
        ]
        if cuda
        else [],
        "mps_available": _mps_available(),
    }
    return info
