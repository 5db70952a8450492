"""BatchNorm1d/2d and LocalResponseNorm: twins of torch.nn, running statistics."""

import pytest
import torch

from cnnlib import nn
from tests.nn.helpers import (
    assert_impls_agree,
    assert_state_dict_round_trip,
    assert_twin_of_torch,
)

BN_SETTINGS = [
    {},
    {"momentum": None},
    {"affine": False},
    {"bias": False},
    {"track_running_stats": False},
    {"eps": 1e-3, "momentum": 0.5},
]


@pytest.mark.parametrize("settings", BN_SETTINGS, ids=str)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(nn.BatchNorm1d, torch.nn.BatchNorm1d), (nn.BatchNorm2d, torch.nn.BatchNorm2d)],
)
def test_batch_norm_is_a_twin_of_torch(ours, theirs, settings):
    assert_twin_of_torch(lambda: ours(6, **settings), lambda: theirs(6, **settings))
    assert_state_dict_round_trip(
        lambda: ours(6, **settings), lambda: theirs(6, **settings)
    )


@pytest.mark.parametrize("settings", BN_SETTINGS, ids=str)
@pytest.mark.parametrize("shape", [(8, 6), (8, 6, 5)])
def test_batch_norm_1d_scratch_equals_native(settings, shape, rng):
    x = 3 * torch.randn(shape, generator=rng, dtype=torch.float64) + 1
    for training in (True, False):
        layer = nn.BatchNorm1d(6, dtype=torch.float64, **settings).train(training)
        assert_impls_agree(layer, x)


@pytest.mark.parametrize("settings", BN_SETTINGS, ids=str)
def test_batch_norm_2d_scratch_equals_native(settings, rng):
    x = 3 * torch.randn(4, 6, 5, 3, generator=rng, dtype=torch.float64) + 1
    for training in (True, False):
        layer = nn.BatchNorm2d(6, dtype=torch.float64, **settings).train(training)
        with torch.no_grad():  # start from running stats that are not the defaults
            for buffer in (layer.running_mean, layer.running_var):
                if buffer is not None:
                    buffer.uniform_(0.5, 1.5)
        assert_impls_agree(layer, x)


@pytest.mark.parametrize("impl", ["scratch", "native"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_running_stats_follow_torch_over_several_batches(impl, momentum, rng):
    ours = nn.BatchNorm2d(3, momentum=momentum, impl=impl, dtype=torch.float64)
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum, dtype=torch.float64)
    batches = [
        2 * torch.randn(4, 3, 5, 5, generator=rng, dtype=torch.float64) + i
        for i in range(4)
    ]
    for x in batches:
        torch.testing.assert_close(ours(x), theirs(x))
    assert ours.num_batches_tracked.item() == 4
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    if momentum is None:
        # Cumulative average: the mean of the four batch means.
        means = torch.stack([x.mean(dim=(0, 2, 3)) for x in batches])
        torch.testing.assert_close(ours.running_mean, means.mean(0))
    # In eval mode the running statistics are used, and left unchanged.
    ours.eval()
    frozen = ours.running_mean.clone()
    x = batches[0]
    expected = (x - frozen[:, None, None]) / torch.sqrt(
        ours.running_var[:, None, None] + ours.eps
    )
    torch.testing.assert_close(ours(x), expected)
    assert torch.equal(ours.running_mean, frozen)
    assert ours.num_batches_tracked.item() == 4


def test_buffers_are_not_parameters():
    bn = nn.BatchNorm2d(16)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]


def test_batch_norm_rejects_wrong_input():
    with pytest.raises(ValueError, match=r"BatchNorm2d: .*num_features=3"):
        nn.BatchNorm2d(3)(torch.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input of shape"):
        nn.BatchNorm1d(3)(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d: momentum must be"):
        nn.BatchNorm2d(3, momentum=2.0)


@pytest.mark.parametrize(
    "settings", [{"size": 5}, {"size": 2, "alpha": 0.1, "beta": 0.5, "k": 2.0}], ids=str
)
def test_local_response_norm(settings, rng):
    assert_twin_of_torch(
        lambda: nn.LocalResponseNorm(**settings),
        lambda: torch.nn.LocalResponseNorm(**settings),
    )
    x = torch.randn(2, 7, 4, 3, generator=rng, dtype=torch.float64)
    assert_impls_agree(nn.LocalResponseNorm(**settings), x)
