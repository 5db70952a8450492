"""AlexNet (one and two towers), ZFNet and the CIFAR-size AlexNet."""

import torch

from cnnlib import models, nn
from tests.models.helpers import (
    assert_scratch_matches_native,
    build_on_meta,
    count_params,
    meta_output_shape,
)


def test_alexnet_two_towers_parameter_count():
    assert count_params(build_on_meta(models.alexnet)) == 60_965_224


def test_alexnet_one_tower_parameter_count():
    model = build_on_meta(models.alexnet, two_towers=False)
    assert count_params(model) == 62_378_344


def test_alexnet_grouped_layers():
    model = build_on_meta(models.alexnet)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]  # conv2, conv4, conv5 split


def test_alexnet_lrn_matches_the_paper_formula():
    lrn = next(m for m in models.alexnet_small() if isinstance(m, nn.LocalResponseNorm))
    x = torch.rand(1, 8, 3, 3, dtype=torch.float64)
    # b_c = a_c / (k + alpha * sum_{|c'-c|<=2} a_c'^2)^beta, k=2, alpha=1e-4
    sq = torch.nn.functional.pad(x**2, (0, 0, 0, 0, 2, 2))
    window = sum(sq[:, i : i + 8] for i in range(5))
    expected = x / (2 + 1e-4 * window) ** 0.75
    with nn.use_impl("native"):
        torch.testing.assert_close(lrn(x), expected)


def test_zfnet_parameter_count():
    layers = [
        96 * (3 * 7 * 7) + 96,  # conv1: 96 7x7 filters, stride 2
        256 * (96 * 5 * 5) + 256,  # conv2: dense (a single GPU), stride 2
        384 * (256 * 3 * 3) + 384,  # conv3
        384 * (384 * 3 * 3) + 384,  # conv4
        256 * (384 * 3 * 3) + 256,  # conv5
        4096 * (256 * 6 * 6) + 4096,  # fc6
        4096 * 4096 + 4096,  # fc7
        1000 * 4096 + 1000,  # fc8
    ]
    assert count_params(build_on_meta(models.zfnet)) == sum(layers) == 62_357_608


def test_alexnet_shapes():
    model = build_on_meta(models.alexnet, num_classes=7, in_channels=1)
    assert meta_output_shape(model.features, (2, 1, 227, 227)) == (2, 256, 6, 6)
    assert meta_output_shape(model, (2, 1, 227, 227)) == (2, 7)


def test_zfnet_shapes():
    model = build_on_meta(models.zfnet, num_classes=7, in_channels=1)
    sizes = {0: 110, 2: 55, 4: 26, 6: 13, 14: 6}  # layer index -> map size (Fig. 3)
    for index, size in sizes.items():
        shape = meta_output_shape(model[: index + 1], (1, 1, 224, 224))
        assert shape[-2:] == (size, size), f"layer {index}: {shape}"
    assert meta_output_shape(model, (2, 1, 224, 224)) == (2, 7)


def test_alexnet_small_real_forward():
    model = models.alexnet_small(num_classes=4, in_channels=1)
    with nn.use_impl("native"):
        assert model(torch.randn(3, 1, 32, 32)).shape == (3, 4)


def test_alexnet_small_scratch_matches_native():
    assert_scratch_matches_native(models.alexnet_small(), (2, 3, 32, 32))


def test_alexnet_small_parameter_count():
    layers = [
        16 * 3 * 25 + 16,  # conv 5x5
        32 * 16 * 25 + 32,  # conv 5x5
        48 * 32 * 9 + 48,
        48 * 48 * 9 + 48,
        32 * 48 * 9 + 32,
        128 * 512 + 128,  # fc on the 32x4x4 maps
        128 * 128 + 128,
        10 * 128 + 10,
    ]
    assert count_params(models.alexnet_small()) == sum(layers) == 146_026
