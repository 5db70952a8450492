"""Test cases: the lectures' worked examples first, then seeded random cases.

The lecture examples are public: the numbers of the input grids come from the
slides (see tests/lectures/ and the book), and a student who gets one wrong sees
both tensors in full. Their expected values are never written here: the checks
compute them with ``cnnlib.ops`` like every other expected value.

Random cases are hidden: made from a private, seeded ``torch.Generator`` (the
global RNG is left alone), float64, with odd and non-square sizes so that mixing
up H and W or C_in and C_out shows. Messages show their shapes and options only.

``reference(name)`` returns a ``cnnlib.ops`` function after making sure it is the
library's own code (a notebook could have replaced ``cnnlib.ops.conv2d`` by the
student's function before the grader was imported).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

import cnnlib.ops as _ops
from cnnlib.grading.compare import GradingError

_OPS_DIR = os.path.dirname(os.path.abspath(_ops.__file__)) + os.sep
_DTYPE = torch.float64

# Deck 002: the 6x6 image and the vertical-edge filter (Andrew Ng's example).
NG_IMAGE = [
    [3, 0, 1, 2, 7, 4],
    [1, 5, 8, 9, 3, 1],
    [2, 7, 2, 5, 1, 3],
    [0, 1, 3, 1, 7, 8],
    [4, 2, 1, 6, 2, 8],
    [2, 4, 5, 2, 3, 9],
]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
# Deck 002, "STRIDES": the 7x7 image and its 3x3 filter, used with stride 2.
NG_7X7 = [
    [2, 3, 7, 4, 4, 2, 9],
    [6, 6, 9, 8, 7, 4, 3],
    [3, 4, 8, 3, 8, 9, 7],
    [7, 8, 3, 6, 6, 3, 4],
    [4, 2, 1, 8, 3, 4, 6],
    [3, 2, 4, 1, 9, 8, 3],
    [0, 1, 3, 9, 2, 1, 4],
]
NG_7X7_FILTER = [[3, 4, 4], [1, 0, 2], [-1, 0, 3]]
# Deck 001, "Le pooling": the 4x4 example of 2x2 pooling with stride 2.
POOL_4X4 = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
# Deck 001, the cross-entropy exercise: three examples of class 1 (index 0).
CE_LOGITS = [[0.9, 0.2, 0.2], [0.2, 0.3, 0.2], [0.2, 0.9, 0.2]]
CE_LABELS = [0, 0, 0]
# Deck 001, activation slides: the points where the functions are evaluated.
ACTIVATION_POINTS = [-3.0, -1.0, -0.25, 0.5, 2.0, 4.0]


def grid(rows: list[list[float]]) -> torch.Tensor:
    """A slide's table of numbers as a float64 tensor (H, W)."""
    return torch.tensor(rows, dtype=_DTYPE)


def image(rows: list[list[float]]) -> torch.Tensor:
    """A one-channel slide image as a batch of one: (1, 1, H, W)."""
    return grid(rows)[None, None]


def generator(seed: int) -> torch.Generator:
    """A private generator: random cases never touch the global RNG."""
    return torch.Generator().manual_seed(seed)


def randn(gen: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """Standard normal float64 values, times ``scale``."""
    return torch.randn(shape, generator=gen, dtype=_DTYPE) * scale


def distinct(gen: torch.Generator, *shape: int) -> torch.Tensor:
    """Values that are all different (no ties), so a max has one winner.

    A random permutation of 0..n-1, plus uniform noise below 0.5, centred.
    """
    n = 1
    for size in shape:
        n *= size
    values = torch.randperm(n, generator=gen).to(_DTYPE)
    values += torch.rand(n, generator=gen, dtype=_DTYPE) * 0.5
    return ((values - n / 2) / max(n / 4, 1)).reshape(shape)


def labels(gen: torch.Generator, n: int, classes: int) -> torch.Tensor:
    """Random class indices (N,) as int64."""
    return torch.randint(classes, (n,), generator=gen)


# Captured when the grader is imported (normally before any student code runs).
_CAPTURED = {name: getattr(_ops, name) for name in _ops.__all__}


def reference(name: str) -> Callable:
    """The ``cnnlib.ops`` function ``name``, checked to be the library's own code.

    Raises:
        GradingError: it has been replaced by code defined outside cnnlib/ops.
    """
    fn = _CAPTURED[name]
    code = getattr(fn, "__code__", None)
    filename = os.path.abspath(code.co_filename) if code is not None else "?"
    if not filename.startswith(_OPS_DIR):
        raise GradingError(
            f"cnnlib.ops.{name} has been replaced (by code in {filename}); the "
            "grader cannot trust its reference. Restart the kernel and run the "
            "notebook without replacing library functions."
        )
    return fn


def input_grad(
    op: Callable, grad_out: torch.Tensor, x: torch.Tensor, *args, **kwargs
) -> torch.Tensor:
    """dL/dx for L = sum(op(x, ...) * grad_out), by cnnlib's own backward pass."""
    x = x.detach().clone().requires_grad_()
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(op(x, *args, **kwargs), x, grad_out)
    return grad
