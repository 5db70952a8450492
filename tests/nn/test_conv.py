"""Conv1d and Conv2d: torch.nn twins, and the same results under both impls."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import (
    assert_impls_agree,
    assert_state_dict_round_trip,
    assert_twin_of_torch,
)

CONV2D_SETTINGS = [
    {"kernel_size": 3},
    {"kernel_size": (3, 2), "stride": 2, "padding": 1},
    {"kernel_size": 3, "dilation": 2, "padding": 2, "bias": False},
    {"kernel_size": 3, "groups": 2},
    {"kernel_size": 4, "padding": "same"},
    {"kernel_size": 3, "padding": "valid"},
    {"kernel_size": 3, "padding": 1, "padding_mode": "reflect"},
    {"kernel_size": 3, "padding": (1, 2), "padding_mode": "circular"},
]


@pytest.mark.parametrize("settings", CONV2D_SETTINGS, ids=str)
def test_conv2d_is_a_twin_of_torch(settings):
    assert_twin_of_torch(
        lambda: nn.Conv2d(4, 6, **settings), lambda: torch.nn.Conv2d(4, 6, **settings)
    )
    assert_state_dict_round_trip(
        lambda: nn.Conv2d(4, 6, **settings), lambda: torch.nn.Conv2d(4, 6, **settings)
    )


# torch warns that its own 'same' padding with an even kernel copies the input.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("settings", CONV2D_SETTINGS, ids=str)
def test_conv2d_native_equals_torch(settings):
    torch.manual_seed(0)
    ours = nn.Conv2d(4, 6, impl="native", **settings)
    theirs = torch.nn.Conv2d(4, 6, **settings)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 4, 9, 8)
    torch.testing.assert_close(ours(x), theirs(x))


@pytest.mark.parametrize("settings", CONV2D_SETTINGS, ids=str)
def test_conv2d_scratch_equals_native(settings, rng):
    layer = nn.Conv2d(4, 6, dtype=torch.float64, **settings)
    x = torch.randn(2, 4, 9, 8, generator=rng, dtype=torch.float64)
    assert_impls_agree(layer, x)


def test_conv2d_unbatched_input(rng):
    layer = nn.Conv2d(3, 5, 3, dtype=torch.float64)
    x = torch.randn(3, 7, 7, generator=rng, dtype=torch.float64)
    assert_impls_agree(layer, x)


def test_conv2d_same_padding_keeps_the_size_for_even_kernels():
    layer = nn.Conv2d(2, 3, kernel_size=(4, 2), padding="same", impl="native")
    assert layer(torch.zeros(1, 2, 7, 6)).shape == (1, 3, 7, 6)


@pytest.mark.parametrize(
    "settings",
    [{"kernel_size": 3}, {"kernel_size": 5, "stride": 2, "padding": 2, "groups": 2}],
    ids=str,
)
def test_conv1d_twin_and_impls(settings, rng):
    assert_twin_of_torch(
        lambda: nn.Conv1d(4, 6, **settings), lambda: torch.nn.Conv1d(4, 6, **settings)
    )
    layer = nn.Conv1d(4, 6, dtype=torch.float64, **settings)
    x = torch.randn(3, 4, 20, generator=rng, dtype=torch.float64)
    assert_impls_agree(layer, x)


def test_conv2d_parameter_count_from_the_lecture():
    # Conv2D(512, 3x3) on a 3-channel image: 512 * (3*3*3 + 1) parameters.
    layer = nn.Conv2d(3, 512, 3)
    assert sum(p.numel() for p in layer.parameters()) == 14_336


def test_conv2d_rejects_wrong_channels_with_a_clear_message():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"Conv2d: .*in_channels=3"):
        layer(torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape \(N, C_in"):
        layer(torch.zeros(28, 28))
    with pytest.raises(TypeError, match="Conv2d: input must be a torch.Tensor"):
        layer([[0.0]])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"groups": 2, "in_channels": 3}, "divisible by groups"),
        ({"groups": 0}, "groups must be a positive"),
        ({"padding": "full"}, "'same' or 'valid'"),
        ({"padding": "same", "stride": 2}, "padding='same' needs stride 1"),
        ({"padding_mode": "mirror"}, "padding_mode must be one of"),
        ({"kernel_size": (3, 3, 3)}, "kernel_size must be an int or a tuple of 2"),
    ],
)
def test_conv2d_rejects_bad_settings(kwargs, message):
    settings = {"in_channels": 4, "out_channels": 4, "kernel_size": 3, **kwargs}
    with pytest.raises((ValueError, TypeError), match=f"Conv2d: .*{message}"):
        nn.Conv2d(**settings)
