"""stochastic_pool2d, checked against its definition (torch has no such op).

Zeiler & Fergus (2013): in a window of non-negative a_1..a_K, p_k = a_k / sum_j a_j.
Training outputs one a_k drawn with probability p_k; evaluation outputs
sum_k p_k a_k, the expected value of that draw.
"""

import pytest
import torch
from torch.testing import assert_close

from cnnlib.ops.pool import stochastic_pool2d


def _windows(x, kernel, stride):
    """Reference windows by plain slicing: {(i, j): tensor of shape (..., KH*KW)}."""
    (KH, KW), (sH, sW) = kernel, stride
    H, W = x.shape[-2:]
    H_out, W_out = (H - KH) // sH + 1, (W - KW) // sW + 1
    return {
        (i, j): x[..., i * sH : i * sH + KH, j * sW : j * sW + KW].flatten(-2)
        for i in range(H_out)
        for j in range(W_out)
    }


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "kernel, stride", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 3), (1, 2))]
)
def test_eval_is_the_probability_weighted_average(kernel, stride, rng):
    x = torch.rand(2, 3, 7, 8, generator=rng, dtype=torch.float64)
    out = stochastic_pool2d(x, kernel, stride, training=False)
    for (i, j), a in _windows(x, kernel, stride).items():
        p = a / a.sum(dim=-1, keepdim=True)
        assert_close(out[..., i, j], (p * a).sum(dim=-1))


@pytest.mark.parametrize(
    "kernel, stride", [((2, 2), (2, 2)), ((3, 3), (1, 1)), ((2, 3), (1, 2))]
)
def test_training_samples_are_window_elements(kernel, stride, rng):
    x = torch.rand(2, 3, 7, 8, generator=rng, dtype=torch.float64)
    x[x < 0.3] = 0.0  # zeros have probability 0 and must never be drawn
    out = stochastic_pool2d(x, kernel, stride, generator=_gen(0))
    for (i, j), a in _windows(x, kernel, stride).items():
        drawn = out[..., i, j, None]  # (N, C, 1)
        is_element = ((a == drawn) & (a > 0)).any(dim=-1)
        all_zero = (a == 0).all(dim=-1)
        assert (is_element | (all_zero & (drawn[..., 0] == 0))).all()


def test_draw_frequencies_match_probabilities():
    # One window with distinct values, drawn 40,000 times (one per batch item):
    # how often each value comes out estimates its probability a_k / sum a.
    a = torch.tensor([1.0, 2.0, 3.0, 0.0, 4.0, 0.5], dtype=torch.float64)
    M = 40_000
    x = a.reshape(1, 1, 2, 3).expand(M, 1, 2, 3)
    out = stochastic_pool2d(x, (2, 3), generator=_gen(1)).flatten()
    freq = (out[:, None] == a).to(torch.float64).mean(dim=0)
    p = a / a.sum()
    # Five standard errors of a frequency: fails by chance with odds ~1e-6, and the
    # seeded generator makes the outcome the same on every run.
    assert ((freq - p).abs() <= 5 * (p * (1 - p) / M).sqrt() + 1e-12).all()
    assert freq[3] == 0  # the zero is never drawn


def test_training_mean_over_many_draws_is_the_eval_output(rng):
    x = torch.rand(2, 6, 6, generator=rng, dtype=torch.float64)
    M = 20_000
    draws = stochastic_pool2d(x.expand(M, -1, -1, -1), 3, 1, generator=_gen(2))
    expected = stochastic_pool2d(x, 3, 1, training=False)  # sum_k p_k a_k
    # The spread of a draw: E[a^2] = sum_k p_k a_k^2 = sum a^3 / sum a.
    second_moment = torch.empty_like(expected)
    for (i, j), a in _windows(x, (3, 3), (1, 1)).items():
        second_moment[:, i, j] = (a**3).sum(dim=-1) / a.sum(dim=-1)
    std_error = ((second_moment - expected**2).clamp(min=0) / M).sqrt()
    assert ((draws.mean(dim=0) - expected).abs() <= 5 * std_error + 1e-12).all()


def test_generator_makes_draws_reproducible(rng):
    x = torch.rand(4, 3, 8, 8, generator=rng, dtype=torch.float64)
    first = stochastic_pool2d(x, 2, generator=_gen(7))
    assert torch.equal(first, stochastic_pool2d(x, 2, generator=_gen(7)))
    assert not torch.equal(first, stochastic_pool2d(x, 2, generator=_gen(8)))


@pytest.mark.parametrize("stride", [2, 1], ids=["disjoint", "overlapping"])
def test_training_gradient_lands_on_the_drawn_element(stride, rng):
    # Distinct values: the drawn value identifies the element it was drawn from.
    x = torch.rand(2, 3, 6, 7, generator=rng, dtype=torch.float64) + 0.1
    x.requires_grad_()
    out = stochastic_pool2d(x, 2, stride, generator=_gen(3))
    upstream = torch.randn(out.shape, generator=rng, dtype=torch.float64)
    (grad,) = torch.autograd.grad(out, x, upstream)
    expected = torch.zeros_like(x)
    for i in range(out.shape[-2]):
        for j in range(out.shape[-1]):
            rows, cols = (
                slice(i * stride, i * stride + 2),
                slice(j * stride, j * stride + 2),
            )
            window = x.detach()[..., rows, cols]
            hit = window == out.detach()[..., i, j, None, None]  # exactly one True
            assert (hit.sum(dim=(-2, -1)) == 1).all()
            # Overlapping windows may draw the same element: gradients add up.
            expected[..., rows, cols] += hit * upstream[..., i, j, None, None]
    assert_close(grad, expected)


def test_all_zero_windows_output_zero_and_pass_no_gradient():
    x = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    x[0, 0, 0, 0] = 2.0  # only the top-left window is non-zero
    x.requires_grad_()
    expected_out = torch.tensor([[[[2.0, 0.0], [0.0, 0.0]]]], dtype=torch.float64)
    # Training: the 2 is always drawn and takes the gradient. Evaluation:
    # d y / d a_k = (2 a_k - y) / sum a = (2 a_k - 2) / 2, i.e. 1 for the 2 and -1
    # for its zero neighbours. The all-zero windows send nothing in either mode.
    top_left_grad = {True: [[1.0, 0.0], [0.0, 0.0]], False: [[1.0, -1.0], [-1.0, -1.0]]}
    for training in [True, False]:
        out = stochastic_pool2d(x, 2, training=training, generator=_gen(0))
        assert torch.equal(out, expected_out)
        # A huge upstream gradient must not turn the 0/0 of empty windows into nan.
        (grad,) = torch.autograd.grad(out, x, torch.full_like(out, 1e300))
        expected = torch.zeros_like(x)
        expected[0, 0, :2, :2] = 1e300 * torch.tensor(top_left_grad[training]).double()
        assert torch.equal(grad, expected)


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 1), ((2, 3), (1, 2))])
def test_eval_gradcheck(kernel, stride, rng):
    x = torch.rand(2, 2, 5, 6, generator=rng, dtype=torch.float64) + 0.1
    x.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: stochastic_pool2d(t, kernel, stride, training=False), (x,)
    )


def test_training_gradcheck(rng):
    # With a freshly seeded generator each call draws the same elements, so the
    # op is the fixed selection y = a_drawn, whose derivative is 1 at a_drawn.
    x = torch.rand(2, 2, 5, 6, generator=rng, dtype=torch.float64) + 0.1
    x.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: stochastic_pool2d(t, 2, 1, generator=_gen(4)), (x,)
    )


def test_shapes_unbatched_and_empty_batch(rng):
    x = torch.rand(3, 7, 8, generator=rng, dtype=torch.float64)
    out = stochastic_pool2d(x, 3, 2, generator=_gen(0))
    assert out.shape == (3, 3, 3)
    # Unbatched = the same draw with a batch of one.
    assert torch.equal(out, stochastic_pool2d(x[None], 3, 2, generator=_gen(0))[0])
    assert_close(
        stochastic_pool2d(x, 3, 2, training=False),
        stochastic_pool2d(x[None], 3, 2, training=False)[0],
    )
    empty = torch.rand(0, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    for training in [True, False]:
        out = stochastic_pool2d(empty, 2, training=training)
        assert out.shape == (0, 2, 3, 3)
        out.sum().backward()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision_on_device(dtype, device, rng):
    x = torch.rand(2, 3, 8, 8, generator=rng).to(device=device, dtype=dtype)
    x.requires_grad_()
    gen = torch.Generator(device=device).manual_seed(0)
    out = stochastic_pool2d(x, 2, generator=gen)
    assert out.dtype == dtype and out.device == x.device
    # Drawn values are copied from the input, exactly.
    windows = x.detach().unfold(2, 2, 2).unfold(3, 2, 2).flatten(-2)
    assert (windows == out.detach()[..., None]).any(dim=-1).all()
    out.sum().backward()
    assert x.grad.dtype == dtype

    mean = stochastic_pool2d(x, 2, training=False)
    expected = stochastic_pool2d(x.detach().double(), 2, training=False)
    assert mean.dtype == dtype
    assert_close(mean, expected.to(dtype))


X = torch.rand(1, 2, 5, 5)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: stochastic_pool2d(X - 0.5, 2), "non-negative"),
        (lambda: stochastic_pool2d(X[0, 0], 2), "input"),
        (lambda: stochastic_pool2d(X.to(torch.int64), 2), "input"),
        (lambda: stochastic_pool2d(X, 0), "kernel_size"),
        (lambda: stochastic_pool2d(X, 6), "kernel_size"),
        (lambda: stochastic_pool2d(X, 2, 0), "stride"),
        (lambda: stochastic_pool2d(X, (2, 2, 2)), "kernel_size"),
    ],
    ids=["negative", "rank 2", "int", "kernel 0", "kernel 6", "stride 0", "3 ints"],
)
def test_errors(call, words):
    with pytest.raises((ValueError, TypeError), match=words) as info:
        call()
    assert str(info.value).startswith("stochastic_pool2d:")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_generator_on_the_wrong_device():
    with pytest.raises(ValueError, match="generator"):
        stochastic_pool2d(X.cuda(), 2, generator=torch.Generator())
