"""Linear: torch.nn twin, lecture parameter counts, both impls agree."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import (
    assert_impls_agree,
    assert_state_dict_round_trip,
    assert_twin_of_torch,
)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_is_a_twin_of_torch(bias):
    assert_twin_of_torch(
        lambda: nn.Linear(7, 5, bias=bias), lambda: torch.nn.Linear(7, 5, bias=bias)
    )
    assert_state_dict_round_trip(
        lambda: nn.Linear(7, 5, bias=bias), lambda: torch.nn.Linear(7, 5, bias=bias)
    )


@pytest.mark.parametrize("shape", [(4, 7), (7,), (2, 3, 7)])
def test_linear_scratch_equals_native(shape, rng):
    layer = nn.Linear(7, 5, dtype=torch.float64)
    x = torch.randn(shape, generator=rng, dtype=torch.float64)
    assert_impls_agree(layer, x)


def test_dense_parameter_count_from_the_lecture():
    # Dense(512) on a flattened 128x128x3 image: 49152 * 512 + 512.
    layer = nn.Linear(128 * 128 * 3, 512)
    assert sum(p.numel() for p in layer.parameters()) == 25_166_336


def test_linear_rejects_wrong_features():
    with pytest.raises(ValueError, match=r"Linear: .*in_features=7"):
        nn.Linear(7, 5)(torch.zeros(2, 6))
