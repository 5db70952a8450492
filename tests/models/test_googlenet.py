"""GoogLeNet, the Inception module and its cost figures."""

import pytest
import torch

from cnnlib import models, nn
from cnnlib.models import Inception, conv2d_cost, inception_cost, naive_inception
from tests.models.helpers import (
    assert_scratch_matches_native,
    build_on_meta,
    count_params,
    meta_output_shape,
)

# The paper's Table 1: (in_channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
# pool proj), map size, and its "ops" column in millions of multiply-adds. The
# table rounds loosely (4a: 73.6M is printed 73M), hence the 1M tolerance below.
# Row 5a disagrees with its own channel columns: they give 1,042,432 weights on
# 7x7 maps, 51.1M multiply-adds, while the row prints 1072K params and 54M ops
# (54M = 1072K x 49); we test what the columns give.
TABLE_1 = {
    "3a": ((192, 64, 96, 128, 16, 32, 32), 28, 128),
    "3b": ((256, 128, 128, 192, 32, 96, 64), 28, 304),
    "4a": ((480, 192, 96, 208, 16, 48, 64), 14, 73),
    "4b": ((512, 160, 112, 224, 24, 64, 64), 14, 88),
    "4c": ((512, 128, 128, 256, 24, 64, 64), 14, 100),
    "4d": ((512, 112, 144, 288, 32, 64, 64), 14, 119),
    "4e": ((528, 256, 160, 320, 32, 128, 128), 14, 170),
    "5a": ((832, 256, 160, 320, 32, 128, 128), 7, 51.08),
    "5b": ((832, 384, 192, 384, 48, 128, 128), 7, 71),
}


def test_book_bottleneck_example():
    # 28x28x192 -> 5x5 conv, 32 filters: 28*28*32 outputs of 5*5*192 products each
    naive = conv2d_cost(192, 32, 5, 28, 28)
    assert naive.mult_adds == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    reduced = conv2d_cost(192, 16, 1, 28, 28) + conv2d_cost(16, 32, 5, 28, 28)
    assert reduced.mult_adds == 2_408_448 + 10_035_200 == 12_443_648
    assert naive.params == 32 * 5 * 5 * 192 + 32
    assert reduced.params == (16 * 192 + 16) + (32 * 16 * 25 + 32)


@pytest.mark.parametrize("name", TABLE_1)
def test_inception_cost_matches_table_1(name):
    channels, size, ops_millions = TABLE_1[name]
    block = build_on_meta(Inception, *channels)
    cost = inception_cost(block, size, size)
    assert abs(cost.mult_adds / 1e6 - ops_millions) < 1
    assert cost.params == count_params(block)
    # multiply-adds = (weights of all convs) x (positions), since all keep H x W
    weights = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    assert cost.mult_adds == weights * size * size


def test_naive_module_is_costlier():
    naive = build_on_meta(naive_inception, 192, 64, 128, 32)
    reduced = build_on_meta(Inception, 192, 64, 96, 128, 16, 32, 32)
    assert naive.out_channels == 64 + 128 + 32 + 192
    assert reduced.out_channels == 256
    naive_cost = inception_cost(naive, 28, 28)
    assert naive_cost.mult_adds == 28 * 28 * 192 * (64 + 128 * 9 + 32 * 25)
    assert naive_cost.mult_adds > 2 * inception_cost(reduced, 28, 28).mult_adds


@pytest.mark.parametrize("naive", [False, True])
def test_inception_scratch_matches_native(naive):
    torch.manual_seed(0)
    if naive:
        block = naive_inception(6, 2, 3, 4)
    else:
        block = Inception(6, 2, 3, 4, 2, 3, 2, batch_norm=True)
    out = assert_scratch_matches_native(block, (2, 6, 7, 7))
    assert out.shape == (2, block.out_channels, 7, 7)


def test_googlenet_parameter_count():
    assert count_params(build_on_meta(models.googlenet)) == 6_998_552
    aux = [
        (512 * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000),  # on 4a
        (528 * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000),  # on 4d
    ]
    with_aux = build_on_meta(models.googlenet, aux_logits=True)
    assert count_params(with_aux) == 6_998_552 + sum(aux) == 13_378_280


def test_googlenet_stage_shapes():
    model = build_on_meta(models.googlenet, num_classes=10, in_channels=1)
    assert meta_output_shape(model.stem, (2, 1, 224, 224)) == (2, 192, 28, 28)
    assert meta_output_shape(model.eval(), (2, 1, 224, 224)) == (2, 10)


def test_aux_heads_only_in_training():
    model = build_on_meta(models.googlenet, num_classes=10, aux_logits=True)
    with torch.device("meta"), nn.use_impl("native"):
        x = torch.empty(2, 3, 224, 224)
        out = model.train()(x)
        assert isinstance(out, models.GoogLeNetOutputs)
        assert [t.shape for t in out] == [(2, 10)] * 3
        assert model.eval()(x).shape == (2, 10)
        no_aux = build_on_meta(models.googlenet, num_classes=10)
        assert no_aux.train()(x).shape == (2, 10)


def test_lrn_is_optional():
    with_lrn = build_on_meta(models.googlenet)
    without = build_on_meta(models.googlenet, lrn=False)
    count = sum(isinstance(m, nn.LocalResponseNorm) for m in with_lrn.modules())
    assert count == 2
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in without.modules())


def test_googlenet_small_scratch_matches_native():
    out = assert_scratch_matches_native(models.googlenet_small(), (2, 3, 32, 32))
    assert out.shape == (2, 10)


def test_googlenet_small_parameter_count():
    model = models.googlenet_small()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is None for c in convs)  # batch norm replaces the biases
    weights = sum(c.weight.numel() for c in convs)
    norms = sum(2 * c.out_channels for c in convs)
    assert count_params(model) == weights + norms + 208 * 10 + 10 == 146_030


def test_googlenet_stem_scratch_matches_native():
    # The full network's own layers: LRN and ceil-mode pooling (64 -> 32 -> 16 -> 8).
    torch.manual_seed(0)
    stem = models.googlenet().stem
    out = assert_scratch_matches_native(stem, (1, 3, 64, 64))
    assert out.shape == (1, 192, 8, 8)
