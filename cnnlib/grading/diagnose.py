"""Canonical mistakes: recognise a wrong answer and name the mistake behind it.

When a result is wrong, the checks recompute what a student who made a classic
mistake would have returned (with ``cnnlib.ops`` and the same inputs) and compare:
if the student's result is that, the message says so. Shapes are diagnosed from
the sizes alone (padding off by one, stride or dilation ignored, H and W
swapped, ...); values by recomputing the mistake (flipped kernel, missing bias,
sum instead of mean, softmax over the wrong axis, ...).

A hint only names the mistake; it never shows hidden data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from cnnlib.grading.compare import Mismatch, close

Candidate = tuple[str, Callable[[], torch.Tensor]]

# -- the messages, one per canonical mistake --------------------------------------
FLIPPED_KERNEL = (
    "you flipped the kernel: CNN layers compute cross-correlation, "
    "y[h, w] = sum over i, j of x[h*S + i, w*S + j] * W[i, j], with W as given "
    "(no 180-degree rotation)"
)
MISSING_BIAS = "you forgot the bias: add bias[o] to every position of output channel o"
KERNEL_TRANSPOSED = (
    "you swapped the kernel's rows and columns: weight is (C_out, C_in, KH, KW) "
    "and its row index i moves down the image (H)"
)
WEIGHT_IN_OUT = (
    "you swapped the kernel's channel axes: weight is (C_out, C_in, KH, KW), "
    "weight[o, c] connects input channel c to output channel o"
)
NOT_ZERO_PADDING = "zero padding adds zeros around the image, not copies of its border"
STRIDE_IGNORED = (
    "this is the size for stride 1: did you ignore the stride? Windows start "
    "S pixels apart: x[..., h*S + i, w*S + j]"
)
PADDING_IGNORED = "this is the size without padding: pad P zeros on every side first"
PADDING_ONE_SIDE = (
    "this is the size with P zeros on one side only: padding adds P on each "
    "side, 2P per dimension"
)
DILATION_IGNORED = (
    "this is the size for dilation 1: a kernel dilated by D spans D(K-1)+1 pixels "
    "and reads x[..., h*S + i*D, w*S + j*D]"
)
HW_SWAPPED = "height and width are swapped: keep (N, C, H, W) order"
CHANNELS_LAST = "channels must come second, (N, C, H, W), not last (N, H, W, C)"
SUM_NOT_MEAN = "sum instead of mean over the batch: divide by N"
LOG10 = (
    "you used the decimal logarithm; cross-entropy uses the natural one "
    "(torch.log), whose gradient is softmax - one_hot"
)
SOFTMAX_TWICE = (
    "your function receives logits (raw scores); it looks like softmax was applied "
    "twice, or to probabilities"
)
PER_EXAMPLE = "these are the per-example losses; return their mean, a 0-d tensor"
SOFTMAX_AXIS = (
    "softmax over the wrong axis: each row (the last dimension, dim=-1) must be "
    "normalised on its own"
)
SOFTMAX_GLOBAL = (
    "you normalised over the whole tensor; normalise each row (the last "
    "dimension, dim=-1) on its own"
)
UNSTABLE = (
    "exp overflows for large inputs: subtract each row's max before exp "
    "(softmax(z) = softmax(z - max z))"
)
SIGMOID_GRAD_OF_X = (
    "derivative in terms of the wrong variable: sigmoid'(x) = s(1 - s) with "
    "s = sigmoid(x); you computed x(1 - x)"
)
TANH_GRAD_OF_X = (
    "derivative in terms of the wrong variable: tanh'(x) = 1 - t^2 with "
    "t = tanh(x); you computed 1 - x^2"
)
FUNCTION_NOT_GRAD = "you returned the function's value, not its derivative"
MAX_BACK_EVERYWHERE = (
    "you sent the gradient to every element of the window; only the window's max "
    "receives it (the other elements did not change the output)"
)
MAX_BACK_NO_OVERLAP = (
    "where windows overlap, an element that is the max of several windows must "
    "receive the sum of their gradients: accumulate (+=, index_add_, "
    "scatter_add_) instead of assigning"
)
AVG_BACK_SCALE = (
    "each element of a window receives grad / (KH*KW): you forgot to divide by "
    "the window's area"
)
AVG_BACK_K = "divide by the window's area KH*KW, not by K"
AVG_SUM = "you summed each window; average pooling divides the sum by KH*KW"
DEFAULT_STRIDE = (
    "stride=None means stride = kernel_size (windows side by side, no overlap), "
    "as in torch"
)
NO_RELU = "no ReLU on the hidden layer: h = max(0, X W1 + b1)"
RELU_ON_SCORES = "don't apply ReLU to the scores: only the hidden layer has one"
NO_RELU_MASK = (
    "backpropagate through the ReLU: the hidden gradient is zero where X W1 + b1 <= 0"
)
NOT_ROTATED = (
    "grad_x correlates the zero-padded grad_out with the kernel rotated by 180 "
    "degrees; you did not rotate it (torch.flip(weight, (2, 3)))"
)


def first_match(
    got: torch.Tensor | None,
    candidates: Iterable[Candidate],
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> str | None:
    """The hint of the first candidate that ``got`` equals (within tolerance)."""
    if got is None:
        return None
    for hint, make in candidates:
        try:
            wrong = make()
        except (RuntimeError, ValueError, IndexError):
            continue  # the mistake makes no sense for this case
        if close(got, wrong, atol, rtol):
            return hint
    return None


def shape_match(
    got: torch.Tensor | None, candidates: Iterable[tuple[str, tuple[int, ...]]]
) -> str | None:
    """The hint of the first candidate shape that ``got`` has."""
    if got is None:
        return None
    shape = tuple(got.shape)
    for hint, wrong in candidates:
        if shape == tuple(wrong):
            return hint
    return None


def out_size(size: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """floor((size + 2P - D(K-1) - 1) / S) + 1."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def size_formula(size: int, k: int, s: int, p: int, d: int, axis: str = "H") -> str:
    """The output-size formula with the case's numbers, for shape messages."""
    return (
        f"{axis}_out = floor(({axis} + 2P - D(K-1) - 1)/S) + 1 = "
        f"floor(({size} + 2*{p} - {d}*({k}-1) - 1)/{s}) + 1 = "
        f"{out_size(size, k, s, p, d)}"
    )


def window_shapes(
    n: int,
    c: int,
    hw: tuple[int, int],
    k: tuple[int, int],
    s: tuple[int, int],
    p: tuple[int, int],
    d: tuple[int, int],
) -> list[tuple[str, tuple[int, ...]]]:
    """Wrong output shapes of a sliding-window op, each with its mistake."""

    def shape(kk=k, ss=s, pp=p, dd=d, one_side=False):
        sizes = []
        for axis in range(2):
            pad = pp[axis]
            size = hw[axis] + (pad if one_side else 2 * pad)
            sizes.append(out_size(size, kk[axis], ss[axis], 0, dd[axis]))
        return (n, c, *sizes)

    right = shape()
    wrong = []
    if s != (1, 1):
        wrong.append((STRIDE_IGNORED, shape(ss=(1, 1))))
    if d != (1, 1):
        wrong.append((DILATION_IGNORED, shape(dd=(1, 1))))
    if p != (0, 0):
        wrong.append((PADDING_IGNORED, shape(pp=(0, 0))))
        wrong.append((PADDING_ONE_SIDE, shape(one_side=True)))
    for delta in (1, -1):
        pp = (p[0] + delta, p[1] + delta)
        if min(pp) >= 0:
            hint = (
                f"this is the size you would get with padding {pp[0]}, not "
                f"{p[0]}: pad P = {p[0]} zeros on each side (2P per dimension)"
            )
            wrong.append((hint, shape(pp=pp)))
    wrong.append((HW_SWAPPED, (n, c, right[3], right[2])))
    wrong.append((CHANNELS_LAST, (n, right[2], right[3], c)))
    return [(hint, sh) for hint, sh in wrong if sh != right]


def by_stage(
    mismatch: Mismatch,
    shapes: Callable[[], Iterable[tuple[str, tuple[int, ...]]]] | None = None,
    values: Callable[[], Iterable[Candidate]] | None = None,
    unstable: bool = False,
) -> str | None:
    """Route a mismatch to the shape or value diagnosis (or the stability hint)."""
    if mismatch.stage == "shape" and shapes is not None:
        return shape_match(mismatch.got, shapes())
    if mismatch.stage == "finite" and unstable:
        return UNSTABLE
    if mismatch.stage == "values" and values is not None:
        return first_match(mismatch.got, values())
    return None


def scaled(expected: torch.Tensor, factor: float) -> Callable[[], torch.Tensor]:
    """The expected result times ``factor`` (sum vs mean, missing 1/K^2, ...)."""
    return lambda: expected * factor


def log10_of(expected: torch.Tensor) -> Callable[[], torch.Tensor]:
    return lambda: expected / math.log(10)
