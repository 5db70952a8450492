"""VGG-11/13/16/19 (with and without batch norm) and the CPU-size VGG."""

import pytest
import torch

from cnnlib import models, nn
from cnnlib.models.vgg import CONFIGS
from tests.models.helpers import (
    assert_scratch_matches_native,
    build_on_meta,
    count_params,
    meta_output_shape,
)

PAPER_COUNTS = {
    models.vgg11: 132_863_336,
    models.vgg13: 133_047_848,
    models.vgg16: 138_357_544,
    models.vgg19: 143_667_240,
}


@pytest.mark.parametrize(("builder", "expected"), PAPER_COUNTS.items())
def test_parameter_count(builder, expected):
    assert count_params(build_on_meta(builder)) == expected


@pytest.mark.parametrize(
    ("builder", "plain"),
    [
        (models.vgg11_bn, models.vgg11),
        (models.vgg13_bn, models.vgg13),
        (models.vgg16_bn, models.vgg16),
        (models.vgg19_bn, models.vgg19),
    ],
)
def test_batch_norm_adds_two_numbers_per_channel(builder, plain):
    model = build_on_meta(builder)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    channels = sum(m.num_features for m in norms)
    assert count_params(model) == PAPER_COUNTS[plain] + 2 * channels


@pytest.mark.parametrize("depth", [11, 13, 16, 19])
def test_config_table_gives_the_depth(depth):
    config = CONFIGS[f"vgg{depth}"]
    assert sum(item != "M" for item in config) + 3 == depth  # + 3 FC layers
    assert config.count("M") == 5


@pytest.mark.parametrize("builder", [models.vgg11, models.vgg19_bn])
def test_shape(builder):
    model = build_on_meta(builder, num_classes=10, in_channels=1)
    assert meta_output_shape(model.features, (2, 1, 224, 224)) == (2, 512, 7, 7)
    assert meta_output_shape(model, (2, 1, 224, 224)) == (2, 10)


def test_make_features():
    features = models.make_features([8, "M", 16, "M"], in_channels=1, batch_norm=True)
    kinds = [type(m).__name__ for m in features]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"] * 2
    with nn.use_impl("native"):
        assert features(torch.randn(1, 1, 8, 8)).shape == (1, 16, 2, 2)


def test_vgg_small():
    model = models.vgg_small(num_classes=5, in_channels=1)
    with nn.use_impl("native"):
        assert model(torch.randn(2, 1, 32, 32)).shape == (2, 5)
    assert count_params(models.vgg_small()) == 221_530


@pytest.mark.parametrize("batch_norm", [False, True])
def test_scratch_matches_native(batch_norm):
    assert_scratch_matches_native(
        models.vgg_small(batch_norm=batch_norm), (2, 3, 32, 32)
    )
