"""max_pool2d and avg_pool2d against torch (float64), gradcheck, dtypes and errors."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from cnnlib.ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
    stochastic_pool2d,
)

# Batched with odd sizes, unbatched (C, H, W), and an empty batch.
SHAPES = [(2, 3, 7, 8), (3, 6, 5), (0, 2, 6, 7)]
KERNELS = [1, 2, 3, (2, 3), (3, 1)]
STRIDES = [None, 1, (2, 1), 3]
PADDINGS = [0, 1, (1, 0)]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _padding_fits(kernel, padding):
    """Torch allows padding <= kernel_size // 2; larger is tested as an error."""
    return all(p <= k // 2 for p, k in zip(_pair(padding), _pair(kernel), strict=True))


def _compare_with_torch(ours, theirs, x, rng, **kwargs):
    """Same output, same indices (if returned) and same input gradient as torch.

    Where torch refuses the arguments (e.g. a window larger than the padded
    input), cnnlib must refuse them too.
    """
    x_torch = x.detach().clone().requires_grad_()
    x_ours = x.detach().clone().requires_grad_()
    try:
        expected = theirs(x_torch, **kwargs)
    except RuntimeError:
        with pytest.raises(ValueError):
            ours(x_ours, **kwargs)
        return
    got = ours(x_ours, **kwargs)
    if isinstance(expected, tuple):
        (expected, expected_idx), (got, got_idx) = expected, got
        assert got_idx.dtype == torch.int64
        assert torch.equal(got_idx, expected_idx)
    assert got.shape == expected.shape
    assert_close(got, expected)
    upstream = torch.randn(expected.shape, generator=rng, dtype=x.dtype).to(x.device)
    (grad_expected,) = torch.autograd.grad(expected, x_torch, upstream)
    (grad_got,) = torch.autograd.grad(got, x_ours, upstream)
    assert_close(grad_got, grad_expected)


MAX_GRID = [
    (k, s, p, d)
    for k, s, p, d in itertools.product(KERNELS, STRIDES, PADDINGS, [1, (2, 3)])
    if _padding_fits(k, p)
]


@pytest.mark.parametrize("kernel_size, stride, padding, dilation", MAX_GRID)
def test_max_pool2d_matches_torch(kernel_size, stride, padding, dilation, rng):
    for shape, ceil_mode in itertools.product(SHAPES, [False, True]):
        x = torch.randn(shape, generator=rng, dtype=torch.float64)
        kwargs = dict(
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            ceil_mode=ceil_mode,
            return_indices=True,
        )
        _compare_with_torch(max_pool2d, F.max_pool2d, x, rng, **kwargs)


AVG_GRID = [
    (k, s, p)
    for k, s, p in itertools.product(KERNELS, STRIDES, PADDINGS)
    if _padding_fits(k, p)
]


@pytest.mark.parametrize("kernel_size, stride, padding", AVG_GRID)
def test_avg_pool2d_matches_torch(kernel_size, stride, padding, rng):
    for shape, ceil_mode, count_include_pad in itertools.product(
        SHAPES, [False, True], [True, False]
    ):
        x = torch.randn(shape, generator=rng, dtype=torch.float64)
        kwargs = dict(
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            ceil_mode=ceil_mode,
            count_include_pad=count_include_pad,
        )
        _compare_with_torch(avg_pool2d, F.avg_pool2d, x, rng, **kwargs)


@pytest.mark.parametrize("divisor_override", [1, 3, -2])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=(3, 2), stride=1, padding=(1, 0), count_include_pad=False),
    ],
)
def test_avg_pool2d_divisor_override_matches_torch(kwargs, divisor_override, rng):
    for shape in SHAPES:
        x = torch.randn(shape, generator=rng, dtype=torch.float64)
        _compare_with_torch(
            avg_pool2d,
            F.avg_pool2d,
            x,
            rng,
            divisor_override=divisor_override,
            **kwargs,
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=2, stride=1),  # overlapping windows share elements
        dict(kernel_size=3, stride=1, padding=1),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=(2, 3), stride=1, dilation=(2, 1)),
    ],
)
def test_max_pool2d_ties_route_gradient_like_torch(kwargs, rng):
    # Values in {0, 1, 2}: most windows hold several equal maxima. Torch picks the
    # first in row-major order; indices and gradients must agree with it.
    x = torch.randint(0, 3, (2, 3, 9, 10), generator=rng).to(torch.float64)
    _compare_with_torch(max_pool2d, F.max_pool2d, x, rng, return_indices=True, **kwargs)


def test_max_pool2d_accumulates_gradient_of_overlapping_windows():
    # One large value in the middle is the max of all four 2x2 stride-1 windows
    # that contain it, so it collects all four output gradients.
    x = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    x[0, 0, 1, 1] = 5.0
    x.requires_grad_()
    out = max_pool2d(x, 2, stride=1)
    upstream = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
    out.backward(upstream)
    expected = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    expected[0, 0, 1, 1] = upstream.sum()
    assert torch.equal(x.grad, expected)


def test_max_pool2d_indices_feed_max_unpool2d(rng):
    x = torch.randn(2, 3, 8, 9, generator=rng, dtype=torch.float64)
    out, idx = max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    unpooled = F.max_unpool2d(out, idx, 3, stride=2, padding=1, output_size=x.shape)
    # Every maximum goes back to where it was taken from.
    assert torch.equal(unpooled.flatten(2).gather(2, idx.flatten(2)), out.flatten(2))
    expected, expected_idx = F.max_pool2d(
        x, 3, stride=2, padding=1, return_indices=True
    )
    assert torch.equal(
        unpooled, F.max_unpool2d(expected, expected_idx, 3, 2, 1, x.shape)
    )


def test_max_pool2d_padding_never_wins(rng):
    # All-negative input: zero padding would put 0s in the output; -inf does not.
    x = -torch.rand(1, 2, 5, 5, generator=rng, dtype=torch.float64) - 1.0
    out = max_pool2d(x, 3, stride=2, padding=1)
    assert (out < 0).all()
    assert_close(out, F.max_pool2d(x, 3, stride=2, padding=1))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=2, stride=1, padding=1, dilation=2),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    ],
)
def test_max_pool2d_all_minus_inf_indices_stay_inside_like_torch(kwargs):
    # Real -inf values tie with the -inf padding; the index must still point at
    # a real element, the same one torch reports.
    x = torch.full((1, 1, 4, 5), float("-inf"), dtype=torch.float64)
    out, idx = max_pool2d(x, return_indices=True, **kwargs)
    expected, expected_idx = F.max_pool2d(x, return_indices=True, **kwargs)
    assert torch.equal(out, expected)
    assert torch.equal(idx, expected_idx)


def test_max_pool2d_propagates_nan(rng):
    x = torch.randn(1, 1, 4, 4, generator=rng, dtype=torch.float64)
    x[0, 0, 1, 2] = float("nan")
    out, idx = max_pool2d(x, 2, return_indices=True)
    expected, expected_idx = F.max_pool2d(x, 2, return_indices=True)
    assert_close(out, expected, equal_nan=True)
    assert torch.equal(idx, expected_idx)


@pytest.mark.parametrize(
    "layout", ["channels_last", "sliced", "transposed"], ids=lambda s: s
)
def test_non_contiguous_input(layout, rng):
    # The window view is built from the input's own strides and offset.
    base = torch.randn(2, 3, 9, 9, generator=rng, dtype=torch.float64)
    x = {
        "channels_last": base.to(memory_format=torch.channels_last),
        "sliced": base[:, :, 1:, 2:],
        "transposed": base.transpose(2, 3),
    }[layout]
    for kwargs in [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)]:
        _compare_with_torch(
            max_pool2d, F.max_pool2d, x, rng, return_indices=True, **kwargs
        )
        _compare_with_torch(avg_pool2d, F.avg_pool2d, x, rng, **kwargs)


def test_stride_defaults_to_kernel_size(rng):
    x = torch.randn(1, 2, 6, 6, generator=rng, dtype=torch.float64)
    assert torch.equal(max_pool2d(x, (2, 3)), max_pool2d(x, (2, 3), stride=(2, 3)))
    assert torch.equal(avg_pool2d(x, (2, 3)), avg_pool2d(x, (2, 3), stride=(2, 3)))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=1, padding=1),
        dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), ceil_mode=True),
        dict(kernel_size=2, stride=1, dilation=2),
    ],
)
def test_max_pool2d_gradcheck(kwargs):
    # Distinct values 0.1 apart: gradcheck's tiny perturbations never change
    # which element is the maximum.
    x = torch.randperm(2 * 2 * 6 * 7, generator=torch.Generator().manual_seed(1))
    x = (x.to(torch.float64) / 10).reshape(2, 2, 6, 7).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: max_pool2d(t, **kwargs), (x,))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),
        dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), ceil_mode=True),
        dict(kernel_size=3, stride=2, padding=1, divisor_override=5),
    ],
)
def test_avg_pool2d_gradcheck(kwargs, rng):
    x = torch.randn(2, 2, 6, 7, generator=rng, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: avg_pool2d(t, **kwargs), (x,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision_on_device(dtype, device, rng):
    x = torch.randn(2, 4, 11, 10, generator=rng).to(device=device, dtype=dtype)
    x.requires_grad_()
    kwargs = dict(kernel_size=3, stride=2, padding=1)
    out, idx = max_pool2d(x, return_indices=True, **kwargs)
    expected, expected_idx = F.max_pool2d(x, return_indices=True, **kwargs)
    assert out.dtype == dtype and out.device == x.device
    # Max pooling only selects values: exact in any dtype.
    assert torch.equal(out, expected)
    assert torch.equal(idx, expected_idx)
    (grad,) = torch.autograd.grad(out.sum(), x)
    (grad_expected,) = torch.autograd.grad(expected.sum(), x)
    assert torch.equal(grad, grad_expected)

    avg = avg_pool2d(x, count_include_pad=False, **kwargs)
    avg_expected = F.avg_pool2d(x, count_include_pad=False, **kwargs)
    assert avg.dtype == dtype and avg.device == x.device
    assert_close(avg, avg_expected)  # dtype-aware default tolerances
    (grad,) = torch.autograd.grad(avg.sum(), x)
    (grad_expected,) = torch.autograd.grad(avg_expected.sum(), x)
    assert_close(grad, grad_expected)


X = torch.zeros(1, 2, 5, 5)

# (what, cnnlib call, torch call, words the message must contain)
ERRORS = [
    ("rank 2", lambda f: f(X[0, 0], 2), "input"),
    ("rank 5", lambda f: f(X[None], 2), "input"),
    ("zero height", lambda f: f(X[:, :, :0], 1), "input"),
    ("kernel 0", lambda f: f(X, 0), "kernel_size"),
    ("kernel -1", lambda f: f(X, -1), "kernel_size"),
    ("kernel 3 ints", lambda f: f(X, (2, 2, 2)), "kernel_size"),
    ("stride 0", lambda f: f(X, 2, 0), "stride"),
    ("stride (1, -1)", lambda f: f(X, 2, (1, -1)), "stride"),
    ("padding > kernel/2", lambda f: f(X, 2, 1, 2), "padding"),
    ("padding (0, 2) for 3", lambda f: f(X, 3, 1, (0, 2)), "padding"),
    ("negative padding", lambda f: f(X, 2, 1, -1), "padding"),
    ("kernel larger than input", lambda f: f(X, 6), "kernel_size"),
    (
        "kernel larger than padded input",
        lambda f: f(X, (8, 2), 1, (1, 0)),
        "kernel_size",
    ),
]


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize(
    "call, words", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors_like_torch(pool, call, words):
    ours = {"max": max_pool2d, "avg": avg_pool2d}[pool]
    theirs = {"max": F.max_pool2d, "avg": F.avg_pool2d}[pool]
    with pytest.raises((RuntimeError, IndexError)):
        call(theirs)
    with pytest.raises((ValueError, TypeError), match=words) as info:
        call(ours)
    assert str(info.value).startswith(f"{pool}_pool2d:")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda f: f(X, 2, dilation=0), "dilation"),
        (lambda f: f(X, 2, dilation=(1, -2)), "dilation"),
        (lambda f: f(X, 3, padding=1, dilation=4), "kernel_size"),  # span 9 > 5 + 2
    ],
)
def test_max_pool2d_dilation_errors(call, words):
    with pytest.raises(RuntimeError):
        call(F.max_pool2d)
    with pytest.raises(ValueError, match=words):
        call(max_pool2d)


def test_avg_pool2d_zero_divisor():
    with pytest.raises(RuntimeError):
        F.avg_pool2d(X, 2, divisor_override=0)
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override"):
        avg_pool2d(X, 2, divisor_override=0)


def test_type_errors():
    with pytest.raises(TypeError, match="max_pool2d: input must be a torch.Tensor"):
        max_pool2d([[[1.0]]], 1)
    with pytest.raises(TypeError, match="avg_pool2d: kernel_size"):
        avg_pool2d(X, 2.5)
    with pytest.raises(TypeError, match="max_pool2d: input must have a floating"):
        max_pool2d(torch.ones(1, 1, 2, 2, dtype=torch.int64), 2)


def test_no_native_pooling_kernel_is_called():
    # Whatever name a pooling kernel might be imported under, the profiler sees
    # the aten op it dispatches to.
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    with torch.autograd.profiler.profile() as prof:
        outs = [
            max_pool2d(x, 3, 2, 1),
            avg_pool2d(x, 3, 2, 1),
            adaptive_avg_pool2d(x, 3),
            adaptive_max_pool2d(x, 3),
            stochastic_pool2d(x, 2, generator=torch.Generator().manual_seed(0)),
            stochastic_pool2d(x, 2, training=False),
        ]
        torch.autograd.grad(sum(o.sum() for o in outs), x)
    called = {e.name for e in prof.function_events if e.name.startswith("aten::")}
    assert called  # the profiler did record the ops
    assert not {name for name in called if "pool" in name}
