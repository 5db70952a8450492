"""U-Net: the paper's unpadded network and the padded variant."""

import pytest
import torch

from cnnlib import models, nn
from cnnlib.models.unet import center_crop
from tests.models.helpers import (
    assert_scratch_matches_native,
    build_on_meta,
    count_params,
    meta_output_shape,
)


def test_parameter_count():
    def double_conv(c_in, c_out):
        return (c_out * c_in * 9 + c_out) + (c_out * c_out * 9 + c_out)

    levels = [(1, 64), (64, 128), (128, 256), (256, 512), (512, 1024)]
    down = sum(double_conv(c_in, c) for c_in, c in levels)
    # each level up: 2x2 up-conv 2C -> C, then double conv on [skip, up] = 2C -> C
    up = sum((2 * c * c * 4 + c) + double_conv(2 * c, c) for c in (512, 256, 128, 64))
    head = 64 * 2 + 2
    expected = down + up + head
    assert count_params(build_on_meta(models.unet)) == expected == 31_030_658
    assert count_params(build_on_meta(models.unet, padding=1)) == 31_030_658


def test_output_size_arithmetic():
    assert models.unet_output_size(572) == 388  # the paper's Fig. 1
    # every 3x3 conv trims 2 pixels: 572 - 4 = 568, /2 = 284, -4 = 280, ... the
    # bottom ends at 28, then (x2, -4) four times: 52, 100, 196, 388
    assert models.unet_output_size(188) == 4
    assert models.unet_output_size(188 + 16) == 20  # valid sizes step by 16
    with pytest.raises(ValueError, match="odd"):
        models.unet_output_size(570)
    assert models.unet_output_size(64, padding=1) == 64
    with pytest.raises(ValueError):
        models.unet_output_size(40, padding=1)  # not a multiple of 16


def test_paper_shape_572_to_388():
    model = build_on_meta(models.unet)
    assert meta_output_shape(model, (1, 1, 572, 572)) == (1, 2, 388, 388)


def test_real_forward_unpadded():
    model = models.unet(num_classes=3)
    with torch.no_grad(), nn.use_impl("native"):
        assert model(torch.randn(1, 1, 188, 188)).shape == (1, 3, 4, 4)


@pytest.mark.parametrize("size", [32, 48])
def test_padded_keeps_the_size(size):
    model = models.unet(num_classes=3, in_channels=3, base_channels=8, padding=1)
    with nn.use_impl("native"):
        assert model(torch.randn(2, 3, size, size)).shape == (2, 3, size, size)


def test_center_crop():
    x = torch.arange(36.0).reshape(1, 1, 6, 6)
    assert torch.equal(center_crop(x, 2, 2), x[..., 2:4, 2:4])


@pytest.mark.parametrize(("padding", "size", "out"), [(0, 44, 4), (1, 16, 16)])
def test_scratch_matches_native(padding, size, out):
    torch.manual_seed(0)
    batch_norm = padding == 1
    model = models.unet(2, 1, 4, depth=2, padding=padding, batch_norm=batch_norm)
    result = assert_scratch_matches_native(model, (2, 1, size, size))
    assert result.shape == (2, 2, out, out)
