"""cnnlib.ops.conv_transpose2d against torch, and as the adjoint of conv2d."""

from __future__ import annotations

import itertools
import random

import pytest
import torch
import torch.nn.functional as F

from cnnlib.ops import conv2d, conv_transpose2d
from tests.ops.test_conv import (
    BATCHES,
    assert_matches_torch,
    leaf,
    raises_like_torch,
    torch_accepts,
)

# (C_in, C_out, groups); the weight is (C_in, C_out/groups, KH, KW).
CHANNELS = [(1, 1, 1), (3, 2, 1), (2, 5, 1), (4, 6, 2), (4, 4, 4), (6, 3, 3), (8, 3, 1)]
KERNELS = [(1, 1), (2, 2), (3, 3), (2, 3), (4, 1)]
SIZES = [(1, 1), (3, 4), (5, 5), (2, 6)]
STRIDES = [1, 2, 2, (1, 2), 3]
PADDINGS = [0, 1, (0, 2)]
OUTPUT_PADDINGS = [0, 0, 1, (1, 0), 2]  # invalid ones (>= stride and dilation) too
DILATIONS = [1, 1, 2, (2, 1)]


def grid(count: int, seed: int = 2) -> list[tuple]:
    everything = itertools.product(
        BATCHES, CHANNELS, KERNELS, SIZES, STRIDES, PADDINGS, OUTPUT_PADDINGS,
        DILATIONS, (True, False),
    )  # fmt: skip
    return random.Random(seed).sample(list(everything), count)


def case_id(case) -> str:
    batch, channels, kernel, size, stride, padding, out_pad, dilation, bias = case
    return (
        f"N{batch}-{channels}-k{kernel}-in{size}-s{stride}-p{padding}-op{out_pad}"
        f"-d{dilation}-{'bias' if bias else 'nobias'}"
    ).replace(" ", "")


@pytest.mark.parametrize("case", grid(120), ids=case_id)
def test_conv_transpose2d_matches_torch(case, device):
    (
        batch,
        (c_in, c_out, groups),
        kernel,
        size,
        stride,
        padding,
        out_pad,
        dilation,
        bias,
    ) = case
    torch.manual_seed(0)
    shape = (c_in, *size) if batch is None else (batch, c_in, *size)
    x = torch.randn(shape, dtype=torch.float64, device=device)
    w = torch.randn(c_in, c_out // groups, *kernel, dtype=torch.float64, device=device)
    b = torch.randn(c_out, dtype=torch.float64, device=device) if bias else None
    kwargs = dict(
        stride=stride,
        padding=padding,
        output_padding=out_pad,
        groups=groups,
        dilation=dilation,
    )
    if not torch_accepts(F.conv_transpose2d, (x, w, b), kwargs):
        raises_like_torch(conv_transpose2d, F.conv_transpose2d, (x, w, b), kwargs)
        return
    assert_matches_torch(conv_transpose2d, F.conv_transpose2d, (x, w, b), kwargs)


@pytest.mark.parametrize(
    "stride, padding, dilation, groups, c_in, c_out",
    [
        (2, 1, 1, 1, 3, 4),
        (1, 1, 1, 1, 8, 2),
        (3, 0, 2, 2, 4, 6),
        ((2, 1), (1, 0), 1, 1, 2, 2),
    ],
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(
    stride, padding, dilation, groups, c_in, c_out, device
):
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)> for every x and y."""
    torch.manual_seed(1)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    x = torch.randn(2, c_in, 11, 10, dtype=torch.float64, device=device)
    w = torch.randn(c_out, c_in // groups, 3, 3, dtype=torch.float64, device=device)
    y = torch.randn_like(conv2d(x, w, **kwargs))
    # Choose output_padding so that the transposed conv gives back x's size.
    back = conv_transpose2d(y, w, **kwargs)
    extra = (x.shape[2] - back.shape[2], x.shape[3] - back.shape[3])
    back = conv_transpose2d(y, w, output_padding=extra, **kwargs)
    assert back.shape == x.shape
    left = (conv2d(x, w, **kwargs) * y).sum()
    right = (x * back).sum()
    torch.testing.assert_close(left, right)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(stride=2),
        dict(stride=2, padding=1, output_padding=1),
        # output_padding may reach the stride when it stays below the dilation.
        dict(stride=1, padding=1, dilation=2, output_padding=1),
        dict(stride=(1, 2), groups=2),
    ],
)
def test_conv_transpose2d_gradcheck(kwargs, device):
    torch.manual_seed(2)
    groups = kwargs.get("groups", 1)
    x = leaf(1, 4, 3, 3, device=device)
    w, b = leaf(4, 6 // groups, 3, 2, device=device), leaf(6, device=device)
    fn = lambda *t: conv_transpose2d(*t, **kwargs)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))


def test_float32_and_bfloat16(device):
    torch.manual_seed(3)
    x = torch.randn(4, 16, 8, 8, device=device)
    w = torch.randn(16, 8, 3, 3, device=device) / 12
    kwargs = dict(stride=2, padding=1, output_padding=1)
    exact = F.conv_transpose2d(x.double(), w.double(), **kwargs)
    single = conv_transpose2d(x, w, **kwargs)
    torch.testing.assert_close(single.double(), exact, rtol=1e-4, atol=1e-5)
    half = conv_transpose2d(x.bfloat16(), w.bfloat16(), **kwargs)
    assert half.dtype == torch.bfloat16
    assert (half.double() - exact).abs().max() < 3e-2 * exact.abs().max()


def test_empty_batch_and_unbatched(device):
    w = torch.randn(3, 2, 2, 2, device=device, requires_grad=True)
    x = torch.randn(0, 3, 4, 4, device=device, requires_grad=True)
    y = conv_transpose2d(x, w, stride=2)
    assert y.shape == (0, 2, 8, 8)
    y.sum().backward()
    assert x.grad.shape == x.shape
    assert torch.equal(w.grad, torch.zeros_like(w))
    single = torch.randn(3, 4, 4, dtype=torch.float64, device=device)
    w64 = w.detach().double()
    out = conv_transpose2d(single, w64, stride=2)
    torch.testing.assert_close(out, conv_transpose2d(single[None], w64, stride=2)[0])


def test_docstring_example():
    x = torch.tensor([[[[1.0, 2.0]]]])
    y = conv_transpose2d(x, torch.ones(1, 1, 2, 2), stride=2)
    # Each input value is copied into its own 2x2 block: nearest-neighbour upsampling.
    expected = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    torch.testing.assert_close(y, expected)


def r(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


ERRORS = [
    ("output_padding >= stride", (r(1, 4, 3, 3), r(4, 2, 3, 3)),
     dict(stride=2, output_padding=2), ["output_padding"]),
    ("output_padding without stride", (r(1, 4, 3, 3), r(4, 2, 3, 3)),
     dict(output_padding=1), ["output_padding", "stride", "dilation"]),
    ("channels", (r(1, 3, 3, 3), r(4, 2, 3, 3)), {}, ["3 channels", "expects 4"]),
    ("groups", (r(1, 3, 3, 3), r(3, 2, 3, 3)), dict(groups=2), ["groups"]),
    ("padding string", (r(1, 4, 3, 3), r(4, 2, 3, 3)), dict(padding="same"),
     ["padding"]),
    ("negative padding", (r(1, 4, 3, 3), r(4, 2, 3, 3)), dict(padding=-1), ["padding"]),
    ("negative output_padding", (r(1, 4, 3, 3), r(4, 2, 3, 3)),
     dict(output_padding=-1), ["output_padding"]),
    ("output too small", (r(1, 4, 1, 1), r(4, 2, 1, 1)), dict(padding=1),
     ["output size"]),
    ("stride zero", (r(1, 4, 3, 3), r(4, 2, 3, 3)), dict(stride=0), ["stride"]),
    ("dilation zero", (r(1, 4, 3, 3), r(4, 2, 3, 3)), dict(dilation=0), ["dilation"]),
    ("bias length", (r(1, 4, 3, 3), r(4, 2, 3, 3), r(4)), {}, ["bias", "(2,)"]),
    ("input rank", (r(4, 3), r(4, 2, 3, 3)), {}, ["input"]),
    ("weight rank", (r(1, 4, 3, 3), r(4, 2, 3)), {}, ["weight"]),
    ("dtype", (r(1, 4, 3, 3, dtype=torch.float64), r(4, 2, 3, 3)), {}, ["dtype"]),
]  # fmt: skip


@pytest.mark.parametrize(
    "args, kwargs, words", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_conv_transpose2d_errors_like_torch(args, kwargs, words):
    with pytest.raises(Exception):  # noqa: B017
        F.conv_transpose2d(*args, **kwargs)
    with pytest.raises((ValueError, TypeError)) as error:
        conv_transpose2d(*args, **kwargs)
    message = str(error.value)
    assert message.startswith("conv_transpose2d: ")
    for word in words:
        assert word in message
