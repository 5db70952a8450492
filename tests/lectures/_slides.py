"""Small helpers shared by the lecture tests: build slide grids, count parameters.

The five source decks live in ``/work/shared/seeds`` (text extracted from slides).
Each test names its deck file, the slide title (or the nearest heading) and the
lines of the extracted text, so a reader can open the slide the number comes from.
"""

from __future__ import annotations

import math

import torch

from cnnlib import summary

# The 6x6 image and the vertical-edge filter of deck 002 (Andrew Ng's example).
NG_IMAGE = [
    [3, 0, 1, 2, 7, 4],
    [1, 5, 8, 9, 3, 1],
    [2, 7, 2, 5, 1, 3],
    [0, 1, 3, 1, 7, 8],
    [4, 2, 1, 6, 2, 8],
    [2, 4, 5, 2, 3, 9],
]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]


def grid(rows: list[list[float]]) -> torch.Tensor:
    """A table of numbers from a slide as a float64 tensor of shape (H, W)."""
    return torch.tensor(rows, dtype=torch.float64)


def image(rows: list[list[float]]) -> torch.Tensor:
    """A one-channel slide image as a batch of one: shape (1, 1, H, W)."""
    return grid(rows)[None, None]


def kernel(rows: list[list[float]]) -> torch.Tensor:
    """One 2-D slide filter as a conv weight: shape (C_out=1, C_in=1, KH, KW)."""
    return grid(rows)[None, None]


def flipped(weight: torch.Tensor) -> torch.Tensor:
    """Rotate the kernel by 180 degrees: true convolution = correlation with this."""
    return torch.flip(weight, dims=(-2, -1))


def n_params(module: torch.nn.Module) -> int:
    """Number of scalars in the module's parameters (weights and biases)."""
    return sum(p.numel() for p in module.parameters())


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """The lectures' output-size formula, floor((I - K + 2P) / S) + 1.

    Only for the formula exercises themselves; elsewhere the tests read the size
    off a tensor that cnnlib produced.
    """
    return math.floor((size - kernel + 2 * padding) / stride) + 1


def keras_shape(shape: torch.Size | tuple[int | None, ...]) -> tuple[int, ...]:
    """(N, C, H, W) -> Keras's channels-last (H, W, C); (N, F) -> (F,).

    The Keras summaries of the lectures print shapes channels-last and without
    the batch dimension ("None"); cnnlib, like torch, is channels-first.
    """
    shape = tuple(shape)[1:]
    if len(shape) == 3:
        c, h, w = shape
        return (h, w, c)
    return shape


ACTIVATIONS = ("ReLU", "Tanh", "Sigmoid", "Softmax", "LeakyReLU", "LogSoftmax")


def keras_rows(
    model: torch.nn.Module, input_size: tuple[int, ...], *, fold_activations: bool
) -> list[tuple[str, tuple[int, ...], int]]:
    """The rows of ``cnnlib.summary`` as a Keras summary prints them.

    Each row is (layer type, output shape channels-last without the batch
    dimension, number of parameters), for the model's direct children.
    ``fold_activations`` drops the activation layers, for Keras code that passes
    ``activation=`` to Conv2D/Dense (Keras then shows no separate row for it).
    """
    rows = summary(model, input_size, depth=1).rows
    return [
        (row.type, keras_shape(row.output_shape), row.params)
        for row in rows
        if not (fold_activations and row.type in ACTIVATIONS)
    ]
