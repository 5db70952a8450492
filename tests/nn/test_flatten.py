"""Flatten: a reshape, identical to torch.nn.Flatten."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import assert_twin_of_torch


@pytest.mark.parametrize(("start", "end"), [(1, -1), (0, -1), (1, 2)])
def test_flatten_matches_torch(start, end):
    assert_twin_of_torch(
        lambda: nn.Flatten(start, end), lambda: torch.nn.Flatten(start, end)
    )
    x = torch.randn(2, 3, 4, 5)
    assert torch.equal(nn.Flatten(start, end)(x), torch.nn.Flatten(start, end)(x))


def test_flatten_feeds_a_dense_layer():
    assert nn.Flatten()(torch.zeros(8, 64, 5, 5)).shape == (8, 64 * 5 * 5)


def test_flatten_has_no_impl_and_is_skipped_by_set_impl():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    nn.set_impl(model, "native")
    assert not hasattr(model[0], "impl")
    assert model[1].impl == "native"
