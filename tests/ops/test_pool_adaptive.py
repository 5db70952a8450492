"""adaptive_avg_pool2d and adaptive_max_pool2d against torch (float64)."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from cnnlib.ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d

# Batched with odd sizes, unbatched (C, H, W), an empty batch, a 1x1 plane.
SHAPES = [(2, 3, 7, 9), (3, 5, 4), (0, 2, 6, 6), (1, 2, 1, 1)]
OUTPUT_SIZES = [
    1,  # global pooling
    2,
    3,  # does not divide 7 or 9: bins of unequal length that overlap
    (4, 5),
    (5, None),  # None keeps the input size
    (None, 2),
    (7, 9),  # same as the input of the first shape
    (10, 13),  # larger than the input: bins repeat rows
    (3, 1),
]


def _compare_with_torch(ours, theirs, x, rng, *args):
    x_torch = x.detach().clone().requires_grad_()
    x_ours = x.detach().clone().requires_grad_()
    expected, got = theirs(x_torch, *args), ours(x_ours, *args)
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


@pytest.mark.parametrize("output_size", OUTPUT_SIZES, ids=str)
def test_adaptive_avg_pool2d_matches_torch(output_size, rng):
    for shape in SHAPES:
        x = torch.randn(shape, generator=rng, dtype=torch.float64)
        _compare_with_torch(
            adaptive_avg_pool2d, F.adaptive_avg_pool2d, x, rng, output_size
        )


@pytest.mark.parametrize("output_size", OUTPUT_SIZES, ids=str)
def test_adaptive_max_pool2d_matches_torch(output_size, rng):
    for shape in SHAPES:
        x = torch.randn(shape, generator=rng, dtype=torch.float64)
        _compare_with_torch(
            adaptive_max_pool2d, F.adaptive_max_pool2d, x, rng, output_size, True
        )


@pytest.mark.parametrize("output_size", [1, 3, (4, 5), (10, 13)], ids=str)
def test_adaptive_max_pool2d_ties_route_gradient_like_torch(output_size, rng):
    # Values in {0, 1, 2}: bins hold several equal maxima, and overlapping bins
    # share elements; torch picks the first maximum in row-major order.
    x = torch.randint(0, 3, (2, 3, 7, 9), generator=rng).to(torch.float64)
    _compare_with_torch(
        adaptive_max_pool2d, F.adaptive_max_pool2d, x, rng, output_size, True
    )


@pytest.mark.parametrize("output_size", [0, (0, 3), (2, 0)], ids=str)
def test_empty_output_size(output_size, rng):
    # torch allows an output size of 0 (but cannot backpropagate through it):
    # the result is empty and no gradient reaches the input.
    x = torch.randn(2, 3, 5, 6, generator=rng, dtype=torch.float64, requires_grad=True)
    for ours, theirs in [
        (adaptive_avg_pool2d, F.adaptive_avg_pool2d),
        (adaptive_max_pool2d, F.adaptive_max_pool2d),
    ]:
        out = ours(x, output_size)
        assert out.shape == theirs(x, output_size).shape
        (grad,) = torch.autograd.grad(out.sum(), x)
        assert torch.equal(grad, torch.zeros_like(x))


def test_bins_follow_the_floor_ceil_rule(rng):
    # Recompute each output from its definition: the mean of rows
    # [floor(i*H/H_out), ceil((i+1)*H/H_out)) and the same for columns.
    H, W, H_out, W_out = 7, 10, 3, 4
    x = torch.randn(1, 2, H, W, generator=rng, dtype=torch.float64)
    out = adaptive_avg_pool2d(x, (H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            r0, r1 = (i * H) // H_out, -((-(i + 1) * H) // H_out)
            c0, c1 = (j * W) // W_out, -((-(j + 1) * W) // W_out)
            assert_close(out[..., i, j], x[..., r0:r1, c0:c1].mean(dim=(-2, -1)))


def test_output_size_one_is_global_pooling(rng):
    x = torch.randn(2, 3, 5, 6, generator=rng, dtype=torch.float64)
    assert_close(adaptive_avg_pool2d(x, 1), x.mean(dim=(-2, -1), keepdim=True))
    assert_close(adaptive_max_pool2d(x, 1), x.amax(dim=(-2, -1), keepdim=True))


def test_infinities_do_not_leak_into_neighbouring_bins():
    # Bins are padded by repeating an element; the average must not pick up
    # 0 * inf = nan from those repeats.
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = float("inf")
    assert torch.equal(adaptive_avg_pool2d(x, 3), F.adaptive_avg_pool2d(x, 3))


@pytest.mark.parametrize("output_size", [1, 3, (4, 2), (6, 5)], ids=str)
def test_gradcheck(output_size):
    # Distinct values 0.1 apart keep the argmax stable under gradcheck's nudges.
    x = torch.randperm(2 * 2 * 5 * 4, generator=torch.Generator().manual_seed(1))
    x = (x.to(torch.float64) / 10).reshape(2, 2, 5, 4).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: adaptive_avg_pool2d(t, output_size), x)
    assert torch.autograd.gradcheck(lambda t: adaptive_max_pool2d(t, output_size), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision_on_device(dtype, device, rng):
    x = torch.randn(2, 4, 11, 10, generator=rng).to(device=device, dtype=dtype)
    x.requires_grad_()
    out, idx = adaptive_max_pool2d(x, (3, 4), return_indices=True)
    expected, expected_idx = F.adaptive_max_pool2d(x, (3, 4), return_indices=True)
    assert out.dtype == dtype and out.device == x.device
    assert torch.equal(out, expected)  # selection is exact in any dtype
    assert torch.equal(idx, expected_idx)

    avg = adaptive_avg_pool2d(x, (3, 4))
    avg_expected = F.adaptive_avg_pool2d(x, (3, 4))
    assert avg.dtype == dtype and avg.device == x.device
    assert_close(avg, avg_expected)
    (grad,) = torch.autograd.grad(avg.sum(), x)
    (grad_expected,) = torch.autograd.grad(avg_expected.sum(), x)
    assert_close(grad, grad_expected)


X = torch.zeros(1, 2, 5, 5)


@pytest.mark.parametrize("pool", ["avg", "max"])
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda f: f(X[0, 0], 2), "input"),
        (lambda f: f(X[None], 2), "input"),
        (lambda f: f(X[:, :, :0], 2), "input"),
        (lambda f: f(X, -1), "output_size"),
        (lambda f: f(X, (2, -3)), "output_size"),
        (lambda f: f(X, (1, 2, 3)), "output_size"),
    ],
    ids=["rank 2", "rank 5", "zero height", "-1", "(2, -3)", "3 sizes"],
)
def test_errors_like_torch(pool, call, words):
    ours = {"avg": adaptive_avg_pool2d, "max": adaptive_max_pool2d}[pool]
    theirs = {"avg": F.adaptive_avg_pool2d, "max": F.adaptive_max_pool2d}[pool]
    with pytest.raises((RuntimeError, ValueError, IndexError)):
        call(theirs)
    with pytest.raises((ValueError, TypeError), match=words) as info:
        call(ours)
    assert str(info.value).startswith(f"adaptive_{pool}_pool2d:")


def test_output_size_type_error():
    with pytest.raises(TypeError, match="adaptive_avg_pool2d: output_size"):
        adaptive_avg_pool2d(X, "7")
    with pytest.raises(TypeError, match="adaptive_max_pool2d: output_size"):
        adaptive_max_pool2d(X, 2.5)
