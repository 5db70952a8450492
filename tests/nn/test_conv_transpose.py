"""ConvTranspose2d: torch.nn twin, output_size, and both impls agree."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import (
    assert_impls_agree,
    assert_state_dict_round_trip,
    assert_twin_of_torch,
)

SETTINGS = [
    {"kernel_size": 2, "stride": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
    {"kernel_size": 3, "groups": 2, "bias": False, "dilation": 2},
]


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_conv_transpose2d_is_a_twin_of_torch(settings):
    def ours():
        return nn.ConvTranspose2d(4, 6, **settings)

    def theirs():
        return torch.nn.ConvTranspose2d(4, 6, **settings)

    assert_twin_of_torch(ours, theirs)
    assert_state_dict_round_trip(ours, theirs)


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_conv_transpose2d_scratch_equals_native(settings, rng):
    layer = nn.ConvTranspose2d(4, 6, dtype=torch.float64, **settings)
    x = torch.randn(2, 4, 5, 6, generator=rng, dtype=torch.float64)
    assert_impls_agree(layer, x)


def test_weight_has_input_channels_first():
    assert nn.ConvTranspose2d(16, 8, 2, groups=2).weight.shape == (16, 4, 2, 2)


def test_output_size_picks_the_output_padding():
    torch.manual_seed(0)
    ours = nn.ConvTranspose2d(3, 2, 3, stride=2, impl="native")
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=2)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(1, 3, 5, 5)
    for size in [(11, 11), (12, 11), (1, 2, 12, 12)]:
        out = ours(x, output_size=size)
        assert out.shape[-2:] == size[-2:]
        torch.testing.assert_close(out, theirs(x, output_size=list(size)))
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_size .*\[11, 12\]"):
        ours(x, output_size=(13, 11))


def test_rejects_other_padding_modes():
    with pytest.raises(ValueError, match="ConvTranspose2d: only padding_mode='zeros'"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
