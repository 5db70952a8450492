"""Network in Network."""

import torch

from cnnlib import models, nn
from tests.models.helpers import assert_scratch_matches_native, count_params


def test_parameter_count():
    layers = [
        192 * 3 * 5 * 5 + 192,  # block 1: 5x5 conv, then 1x1 convs 160, 96
        160 * 192 + 160,
        96 * 160 + 96,
        192 * 96 * 5 * 5 + 192,  # block 2: 5x5 conv, then 1x1 convs 192, 192
        192 * 192 + 192,
        192 * 192 + 192,
        192 * 192 * 3 * 3 + 192,  # block 3: 3x3 conv, then 1x1 convs 192, 10
        192 * 192 + 192,
        10 * 192 + 10,
    ]
    assert count_params(models.nin()) == sum(layers) == 966_986


def test_no_fully_connected_layer():
    model = models.nin()
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    sizes = [c.kernel_size[0] for c in convs]
    assert sizes == [5, 1, 1, 5, 1, 1, 3, 1, 1]  # k x k conv + two 1x1 per block


def test_shape():
    model = models.nin(num_classes=100, in_channels=1)
    with nn.use_impl("native"):
        assert model(torch.randn(2, 1, 32, 32)).shape == (2, 100)
        assert model(torch.randn(1, 1, 28, 28)).shape == (1, 100)  # any size: GAP


def test_nin_small_scratch_matches_native():
    out = assert_scratch_matches_native(models.nin_small(), (2, 3, 32, 32))
    assert out.shape == (2, 10)


def test_nin_small_parameter_count():
    layers = [32 * 3 * 25 + 32, 32 * 32 + 32, 32 * 32 + 32]  # block 1
    layers += [48 * 32 * 25 + 48, 48 * 48 + 48, 48 * 48 + 48]  # block 2
    layers += [48 * 48 * 9 + 48, 48 * 48 + 48, 10 * 48 + 10]  # block 3
    assert count_params(models.nin_small()) == sum(layers) == 71_322
