"""Activations: torch.nn twins, values, and both impls agree."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import assert_impls_agree, assert_twin_of_torch

PAIRS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.ReLU(inplace=True), lambda: torch.nn.ReLU(inplace=True)),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_activation_is_a_twin_of_torch(ours, theirs, rng):
    assert_twin_of_torch(ours, theirs)
    x = torch.randn(3, 5, 4, generator=rng)
    layer = ours()
    layer.impl = "native"
    torch.testing.assert_close(layer(x.clone()), theirs()(x.clone()))


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.ReLU(),
        lambda: nn.LeakyReLU(0.1),
        lambda: nn.Sigmoid(),
        lambda: nn.Tanh(),
        lambda: nn.Softmax(dim=1),
        lambda: nn.Softmax(dim=0),
        lambda: nn.LogSoftmax(dim=1),
    ],
)
def test_activation_scratch_equals_native(make, rng):
    x = torch.randn(4, 6, 3, generator=rng, dtype=torch.float64)
    assert_impls_agree(make(), x)


@pytest.mark.parametrize("impl", ["scratch", "native"])
def test_inplace_relu_overwrites_its_input(impl):
    x = torch.tensor([-1.0, 2.0, -3.0])
    out = nn.ReLU(inplace=True, impl=impl)(x)
    assert torch.equal(x, torch.tensor([0.0, 2.0, 0.0]))
    assert torch.equal(out, x)
