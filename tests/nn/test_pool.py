"""Pooling layers: torch.nn twins and scratch == native; stochastic pooling."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import assert_impls_agree, assert_twin_of_torch

MAX_SETTINGS = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (1, 2), "dilation": 2},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "return_indices": True},
]
AVG_SETTINGS = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "divisor_override": 3},
]
ADAPTIVE_SIZES = [1, (3, 2), (4, None), 5]


@pytest.mark.parametrize("settings", MAX_SETTINGS, ids=str)
def test_max_pool(settings, rng):
    assert_twin_of_torch(
        lambda: nn.MaxPool2d(**settings), lambda: torch.nn.MaxPool2d(**settings)
    )
    x = torch.randn(2, 3, 9, 8, generator=rng, dtype=torch.float64)
    assert_impls_agree(nn.MaxPool2d(**settings), x)


@pytest.mark.parametrize("settings", AVG_SETTINGS, ids=str)
def test_avg_pool(settings, rng):
    assert_twin_of_torch(
        lambda: nn.AvgPool2d(**settings), lambda: torch.nn.AvgPool2d(**settings)
    )
    x = torch.randn(2, 3, 9, 8, generator=rng, dtype=torch.float64)
    assert_impls_agree(nn.AvgPool2d(**settings), x)


@pytest.mark.parametrize("size", ADAPTIVE_SIZES, ids=str)
def test_adaptive_avg_pool(size, rng):
    assert_twin_of_torch(
        lambda: nn.AdaptiveAvgPool2d(size), lambda: torch.nn.AdaptiveAvgPool2d(size)
    )
    x = torch.randn(2, 3, 7, 9, generator=rng, dtype=torch.float64)
    assert_impls_agree(nn.AdaptiveAvgPool2d(size), x)


@pytest.mark.parametrize("size", ADAPTIVE_SIZES, ids=str)
@pytest.mark.parametrize("return_indices", [False, True])
def test_adaptive_max_pool(size, return_indices, rng):
    assert_twin_of_torch(
        lambda: nn.AdaptiveMaxPool2d(size, return_indices),
        lambda: torch.nn.AdaptiveMaxPool2d(size, return_indices),
    )
    x = torch.randn(2, 3, 7, 9, generator=rng, dtype=torch.float64)
    assert_impls_agree(nn.AdaptiveMaxPool2d(size, return_indices), x)


def test_global_average_pool_is_the_channel_mean(rng):
    x = torch.randn(2, 5, 7, 7, generator=rng)
    out = nn.AdaptiveAvgPool2d(1, impl="native")(x)
    torch.testing.assert_close(out, x.mean(dim=(2, 3), keepdim=True))


def test_pool_rejects_flat_input():
    with pytest.raises(ValueError, match=r"MaxPool2d: expected input of shape"):
        nn.MaxPool2d(2)(torch.zeros(4, 4))


def _windows(x: torch.Tensor, k: int) -> torch.Tensor:
    """Non-overlapping k x k windows of (N, C, H, W), as (N, C, H/k, W/k, k*k)."""
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // k, k, w // k, k)  # (N, C, H_out, k, W_out, k)
    return x.permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // k, w // k, k * k)


@pytest.mark.parametrize("impl", ["scratch", "native"])
def test_stochastic_pool_eval_is_the_probability_weighted_average(impl, rng):
    x = torch.rand(2, 3, 6, 8, generator=rng, dtype=torch.float64) + 0.1
    layer = nn.StochasticPool2d(2, impl=impl).eval()
    out = layer(x)
    win = _windows(x, 2)
    # Each value is picked with probability value / window sum.
    expected = (win * win).sum(-1) / win.sum(-1)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("impl", ["scratch", "native"])
def test_stochastic_pool_training_picks_a_value_of_each_window(impl, rng):
    torch.manual_seed(0)
    x = torch.rand(2, 3, 6, 8, generator=rng, dtype=torch.float64) + 0.1
    layer = nn.StochasticPool2d(2, impl=impl).train()
    out = layer(x)
    assert out.shape == (2, 3, 3, 4)
    win = _windows(x, 2)
    picked = (win == out.unsqueeze(-1)).any(-1)
    assert picked.all()


def test_stochastic_pool_repr_and_native_fallback():
    layer = nn.StochasticPool2d(3, stride=2)
    assert repr(layer) == "StochasticPool2d(kernel_size=3, stride=2)"
    assert nn.StochasticPool2d.native_fn is nn.StochasticPool2d.scratch_fn
