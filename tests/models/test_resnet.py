"""ResNets, plain networks, pre-activation ResNets and Wide ResNets."""

import pytest
import torch

from cnnlib import models, nn
from cnnlib.models.resnet_blocks import ZeroPadShortcut
from tests.models.helpers import (
    assert_scratch_matches_native,
    build_on_meta,
    count_params,
    meta_output_shape,
)

TORCHVISION_COUNTS = {
    models.resnet18: 11_689_512,
    models.resnet34: 21_797_672,
    models.resnet50: 25_557_032,
    models.resnet101: 44_549_160,
    models.resnet152: 60_192_808,
}


@pytest.mark.parametrize(("builder", "expected"), TORCHVISION_COUNTS.items())
def test_parameter_count(builder, expected):
    assert count_params(build_on_meta(builder)) == expected


@pytest.mark.parametrize(
    ("plain", "residual"),
    [(models.plain18, models.resnet18), (models.plain34, models.resnet34)],
)
def test_plain_nets_lack_only_the_projections(plain, residual):
    # Three projections, where stages 2-4 start: 1x1 conv C -> 2C plus BN(2C).
    projections = sum(c * 2 * c + 2 * 2 * c for c in (64, 128, 256))
    assert projections == 173_824
    assert count_params(build_on_meta(plain)) + projections == count_params(
        build_on_meta(residual)
    )


def test_preact_resnet_parameter_count():
    # Same convs and FC as ResNet-18; only the batch norms move. ResNet-18 has
    # BN(64) in the stem, two BN(width) per block and a BN in each of the three
    # projections; the pre-activation net has the stem BN, BN(C_in) + BN(width)
    # per block, bare 1x1 projections, and a final BN(512).
    def bn(channels):
        return 2 * channels  # gamma and beta

    blocks = [(64, 64), (64, 64), (64, 128), (128, 128)]  # (C_in, width)
    blocks += [(128, 256), (256, 256), (256, 512), (512, 512)]
    original = bn(64) + sum(2 * bn(w) for _, w in blocks) + bn(128) + bn(256) + bn(512)
    preact = bn(64) + sum(bn(c) + bn(w) for c, w in blocks) + bn(512)
    expected = 11_689_512 - original + preact
    model = build_on_meta(models.preact_resnet, 18)
    assert count_params(model) == expected == 11_687_848


@pytest.mark.parametrize("depth", [18, 50])
def test_imagenet_stage_shapes(depth):
    model = build_on_meta(models.resnet, depth, num_classes=10, in_channels=1)
    e = 1 if depth < 50 else 4
    x = (2, 1, 224, 224)
    assert meta_output_shape(model.stem, x) == (2, 64, 56, 56)
    assert meta_output_shape(model.stages[:2], (2, 64, 56, 56)) == (2, 128 * e, 28, 28)
    assert meta_output_shape(model.stages[:4], (2, 64, 56, 56)) == (2, 512 * e, 7, 7)
    assert meta_output_shape(model, x) == (2, 10)


def test_resnet20_parameter_count():
    # conv 3->16 + BN; 3 stages of 3 blocks of two 3x3 convs + BN; option A
    # shortcuts have no parameters; FC 64 -> 10.
    def conv_bn(c_in, c_out):
        return c_out * c_in * 9 + 2 * c_out

    stem = conv_bn(3, 16)
    stage1 = 6 * conv_bn(16, 16)
    stage2 = conv_bn(16, 32) + 5 * conv_bn(32, 32)
    stage3 = conv_bn(32, 64) + 5 * conv_bn(64, 64)
    fc = 64 * 10 + 10
    expected = stem + stage1 + stage2 + stage3 + fc
    assert count_params(models.resnet20()) == expected == 269_722  # "0.27M"


def test_cifar_resnet_depths():
    assert round(count_params(build_on_meta(models.resnet_cifar, 56)), -4) == 850_000
    assert round(count_params(build_on_meta(models.resnet_cifar, 110)), -5) == 1_700_000
    with pytest.raises(ValueError, match="6n"):
        models.resnet_cifar(21)


def test_zero_pad_shortcut():
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4)
    y = ZeroPadShortcut(2, 5, stride=2)(x)
    assert y.shape == (1, 5, 2, 2)
    assert torch.equal(y[:, :2], x[:, :, ::2, ::2])
    assert not y[:, 2:].any()


def test_wide_resnet_28_10_parameter_count():
    # WRN-28-10: stem conv 3->16, three groups of n = (28 - 4) / 6 = 4
    # pre-activation blocks, widths 160, 320, 640; BN-ReLU-conv3x3 twice per
    # block; a bare 1x1 conv shortcut in each group's first block; final BN, FC.
    def block(c_in, c_out):
        shortcut = c_in * c_out if c_in != c_out else 0
        return 2 * c_in + c_in * c_out * 9 + 2 * c_out + c_out * c_out * 9 + shortcut

    expected = 3 * 16 * 9
    c_in = 16
    for width in (160, 320, 640):
        expected += block(c_in, width) + 3 * block(width, width)
        c_in = width
    expected += 2 * 640 + 640 * 10 + 10
    model = build_on_meta(models.wide_resnet, 28, 10)
    assert count_params(model) == expected == 36_479_194


def test_wide_resnet_dropout_and_shape():
    model = models.wide_resnet(16, 2, num_classes=7, in_channels=1, dropout=0.3)
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 6
    with nn.use_impl("native"):
        assert model.eval()(torch.randn(2, 1, 32, 32)).shape == (2, 7)


def test_resnet20_scratch_matches_native():
    torch.manual_seed(0)
    out = assert_scratch_matches_native(models.resnet20(), (2, 3, 32, 32))
    assert out.shape == (2, 10)


@pytest.mark.parametrize(
    "block",
    [models.BasicBlock, models.Bottleneck, models.PreActBlock, models.PreActBottleneck],
)
@pytest.mark.parametrize("shortcut", ["projection", "none"])
def test_blocks_scratch_match_native(block, shortcut):
    torch.manual_seed(0)
    net = models.ResNet(
        block,
        (1, 1),
        (4, 8),
        3,
        in_channels=2,
        stem="cifar",
        stem_channels=4,
        shortcut=shortcut,
    )
    assert_scratch_matches_native(net, (2, 2, 8, 8))


def test_imagenet_stem_scratch_matches_native():
    torch.manual_seed(0)
    net = models.ResNet(models.BasicBlock, (1, 1), (4, 8), 3, stem_channels=4)
    assert_scratch_matches_native(net, (1, 3, 32, 32))
