"""LeNet-5 and the lecture's Keras version."""

import pytest
import torch

from cnnlib import models, nn
from tests.models.helpers import assert_scratch_matches_native, count_params


@pytest.mark.parametrize("builder", [models.lenet5, models.lenet5_keras])
def test_parameter_count(builder):
    # C1 6*(5*5+1), C3 16*(6*25+1), C5/dense 120*(400+1), F6 84*121, out 10*85
    assert count_params(builder()) == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706


def test_lenet5_layer_counts_follow_the_paper():
    convs = [m for m in models.lenet5().modules() if isinstance(m, nn.Conv2d)]
    assert [count_params(c) for c in convs] == [156, 2_416, 48_120]
    pools = [m for m in models.lenet5().modules() if isinstance(m, nn.AvgPool2d)]
    assert len(pools) == 2  # subsampling, not max pooling
    keras_pools = [m for m in models.lenet5_keras() if isinstance(m, nn.MaxPool2d)]
    assert len(keras_pools) == 2


@pytest.mark.parametrize("builder", [models.lenet5, models.lenet5_keras])
def test_shape(builder):
    with nn.use_impl("native"):
        assert builder()(torch.randn(2, 1, 32, 32)).shape == (2, 10)
        assert builder(5, in_channels=3)(torch.randn(2, 3, 32, 32)).shape == (2, 5)


@pytest.mark.parametrize("builder", [models.lenet5, models.lenet5_keras])
def test_scratch_matches_native(builder):
    assert_scratch_matches_native(builder(), (2, 1, 32, 32))
