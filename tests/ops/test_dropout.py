"""Dropout checked by its definition: which elements survive, how they are scaled."""

import math

import pytest
import torch
import torch.nn.functional as F

from cnnlib.ops import dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_drop_fraction_and_scale(p, device):
    torch.manual_seed(0)
    n = 200_000
    x = torch.rand(n, dtype=torch.float64, device=device) + 1  # never 0 itself
    y = dropout(x, p)
    dropped = y == 0
    # The count of drops is Binomial(n, p): allow 5 standard deviations.
    assert abs(dropped.double().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / n)
    torch.testing.assert_close(y[~dropped], x[~dropped] / (1 - p))
    # Inverted dropout keeps the expected value: E[y] = x.
    assert abs(y.mean().item() - x.mean().item()) < 0.02


def test_backward_uses_the_forward_mask(rng):
    torch.manual_seed(1)
    x = (torch.rand(64, 32, generator=rng, dtype=torch.float64) + 1).requires_grad_()
    upstream = torch.randn(64, 32, generator=rng, dtype=torch.float64)
    y = dropout(x, 0.3)
    y.backward(upstream)
    kept = (y != 0).double()
    torch.testing.assert_close(x.grad, upstream * kept / 0.7)


def test_eval_is_identity(rng):
    x = torch.randn(5, 4, generator=rng)
    assert dropout(x, 0.5, training=False) is x


def test_p_zero_keeps_everything_and_p_one_drops_everything(rng):
    x = torch.randn(100, generator=rng, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(dropout(x, 0.0), x)
    y = dropout(x, 1.0)
    torch.testing.assert_close(y, torch.zeros_like(x))
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.zeros_like(x))


def test_global_seed_makes_masks_repeatable_and_equal_to_torch_on_cpu(rng):
    x = torch.randn(1000, generator=rng)
    torch.manual_seed(123)
    first = dropout(x, 0.4)
    second = dropout(x, 0.4)
    torch.manual_seed(123)
    again = dropout(x, 0.4)
    torch.manual_seed(123)
    native = F.dropout(x, 0.4)
    assert not torch.equal(first, second)  # a fresh mask on every call
    assert torch.equal(first, again)
    # Same draws from the global generator as torch's CPU kernel.
    assert torch.equal(first, native)


def test_inplace_overwrites_input(rng):
    torch.manual_seed(2)
    x = torch.rand(50, generator=rng) + 1
    original = x.clone()
    leaf = x.clone().requires_grad_()
    hidden = leaf * 1  # a non-leaf may be modified in place
    y = dropout(hidden, 0.5, inplace=True)
    assert y is hidden
    kept = y != 0
    torch.testing.assert_close(y[kept], original[kept] * 2)
    y.sum().backward()
    torch.testing.assert_close(leaf.grad, kept.float() * 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_lower_precision(dtype, device):
    torch.manual_seed(3)
    x = torch.ones(10_000, dtype=dtype, device=device, requires_grad=True)
    y = dropout(x, 0.25)
    y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    kept = y != 0
    expected_scale = torch.tensor(1 / 0.75, dtype=dtype).item()
    assert (y[kept] == expected_scale).all()
    torch.testing.assert_close(x.grad, y.detach())  # d(x * m)/dx = m
    assert abs(kept.float().mean().item() - 0.75) < 0.03


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_out_of_range(p):
    x = torch.randn(3)
    with pytest.raises(ValueError):
        F.dropout(x, p)
    with pytest.raises(
        ValueError, match=r"dropout: p must be a probability in \[0, 1\]"
    ):
        dropout(x, p)
