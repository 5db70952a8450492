"""Argument checking shared by the ops: clear errors that name the op and argument.

Every op validates its inputs before touching them, so a student sees
``conv2d: input has 3 channels but weight expects 4`` rather than a traceback from
deep inside a matmul. Helpers here raise ``ValueError`` (bad value) or
``TypeError`` (bad type) with messages of the form ``"<op>: <what> ..."``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def as_tuple(value: int | Sequence[int], n: int, op: str, name: str) -> tuple[int, ...]:
    """Expand an int to an n-tuple (``3 -> (3, 3)``) and check a sequence has n ints."""
    if isinstance(value, bool):
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints, got a bool"
        )
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, Sequence) and len(value) == n:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return tuple(value)
    raise TypeError(
        f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}"
    )


def check_positive(values: tuple[int, ...], op: str, name: str) -> None:
    """Stride, dilation and kernel sizes must be >= 1."""
    if any(v < 1 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {values}")


def check_non_negative(values: tuple[int, ...], op: str, name: str) -> None:
    """Padding must be >= 0."""
    if any(v < 0 for v in values):
        raise ValueError(f"{op}: {name} must be non-negative, got {values}")


def check_tensor(x: object, op: str, name: str) -> torch.Tensor:
    """The argument must be a tensor (not a numpy array or a list)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{op}: {name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_floating(x: torch.Tensor, op: str, name: str) -> None:
    """Ops that differentiate need a floating dtype."""
    if not x.is_floating_point():
        raise TypeError(
            f"{op}: {name} must have a floating dtype (float16/bfloat16/float32/"
            f"float64), got {x.dtype}"
        )


def check_rank(
    x: torch.Tensor, ranks: tuple[int, ...], op: str, name: str, layout: str
) -> None:
    """``layout`` spells the expected shapes, e.g. "(N, C_in, H, W) or (C_in, H, W)"."""
    if x.dim() not in ranks:
        raise ValueError(
            f"{op}: {name} must be {'D or '.join(str(r) for r in ranks)}D {layout}, "
            f"got shape {tuple(x.shape)}"
        )


def check_same_device_dtype(
    a: torch.Tensor, b: torch.Tensor, op: str, names: str
) -> None:
    """``names`` like "input and weight"."""
    if a.device != b.device:
        raise ValueError(
            f"{op}: {names} are on different devices ({a.device}, {b.device})"
        )
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: {names} have different dtypes ({a.dtype}, {b.dtype})")


def check_reduction(reduction: object, op: str) -> None:
    """Losses reduce with ``"none"``, ``"mean"`` or ``"sum"``, like torch."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
        )
