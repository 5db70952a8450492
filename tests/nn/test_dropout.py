"""Dropout: train/eval behaviour under both impls (random masks differ by impl)."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import assert_twin_of_torch


def test_dropout_is_a_twin_of_torch():
    assert_twin_of_torch(lambda: nn.Dropout(0.25), lambda: torch.nn.Dropout(0.25))


@pytest.mark.parametrize("impl", ["scratch", "native"])
def test_eval_mode_is_the_identity(impl):
    layer = nn.Dropout(0.5, impl=impl).eval()
    x = torch.randn(100)
    assert torch.equal(layer(x), x)


@pytest.mark.parametrize("impl", ["scratch", "native"])
def test_training_zeros_a_fraction_p_and_rescales_the_rest(impl):
    torch.manual_seed(0)
    p = 0.3
    layer = nn.Dropout(p, impl=impl)
    x = torch.rand(200, 200, dtype=torch.float64) + 1.0  # never zero
    x.requires_grad_(True)
    out = layer(x)
    kept = out != 0
    # 40,000 draws: the kept fraction is within 5 standard deviations of 1 - p.
    sd = (p * (1 - p) / x.numel()) ** 0.5
    assert abs(kept.double().mean().item() - (1 - p)) < 5 * sd
    torch.testing.assert_close(out[kept], x[kept] / (1 - p))
    # The gradient flows through the kept elements only, with the same scale.
    out.sum().backward()
    expected = kept.double() / (1 - p)
    torch.testing.assert_close(x.grad, expected)


@pytest.mark.parametrize("impl", ["scratch", "native"])
def test_extreme_probabilities(impl):
    x = torch.rand(50) + 1.0
    assert torch.equal(nn.Dropout(0.0, impl=impl)(x), x)
    assert torch.equal(nn.Dropout(1.0, impl=impl)(x), torch.zeros(50))


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability"):
        nn.Dropout(1.5)
