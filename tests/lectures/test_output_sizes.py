"""Output-size exercises and size tables of the lectures, read off cnnlib tensors.

The lectures write the size rule three ways (deck 002: [(h + 2p - f) / s + 1] with
brackets for the integer part; deck 003: H2 = (H1 - F + 2P) / S + 1; deck 004:
O = (I - K + 2P) / S + 1). cnnlib, like torch, takes the floor when the division
is not exact. Keras prints shapes channels-last, (H, W, C); cnnlib is
channels-first, (C, H, W).
"""

import pytest
import torch

from cnnlib import models, nn, ops, summary
from tests.lectures._slides import conv_out, keras_rows, keras_shape


@pytest.mark.parametrize(("padding", "size"), [(0, 3), (1, 4)])
def test_deck001_8x8_image_6_filters_3x3_stride_2(padding, size):
    """001_555285b7037ab4ad.txt, "Stride et padding" / "Exercice" (lines
    1020-1040): an 8x8 image, 6 filters 3x3, stride 2: padding 0 gives 6 maps of
    3x3, padding 1 gives 6 maps of 4x4."""
    layer = nn.Conv2d(1, 6, kernel_size=3, stride=2, padding=padding)
    out = layer(torch.zeros(1, 1, 8, 8))
    assert out.shape == (1, 6, size, size)
    assert conv_out(8, 3, stride=2, padding=padding) == size


def test_deck001_lenet5_c1_maps_are_28x28_and_pooling_stride_is_2():
    """001_555285b7037ab4ad.txt, LeNet-5 "Les couches de convolution" / "Exercice"
    and "Le pooling, Quel stride ?" (lines 1333-1381): 6 filters 5x5 on a 32x32
    image lose 2 pixels on each side (stride 1, no padding): 28x28 maps; the
    subsampling to 14x14 uses 2x2 windows with stride 2."""
    c1 = nn.Conv2d(1, 6, kernel_size=5)
    maps = c1(torch.zeros(1, 1, 32, 32))
    assert maps.shape == (1, 6, 28, 28)
    assert ops.max_pool2d(maps, 2, stride=2).shape == (1, 6, 14, 14)


def test_deck001_unet_contracting_path_reaches_32x32x512():
    """001_555285b7037ab4ad.txt, "U-net" / "Branche descendante" (lines
    1952-1962): two unpadded 3x3 convolutions per level, the number of filters
    doubling at each level (64, 128, 256, 512), then 2x2 max pooling with stride
    2, down to a 32x32x512 map.

    The figure is lost; the 572x572 input is the U-Net paper's. cnnlib's U-Net is
    built on the meta device (shapes only) and the output of every pooling is
    recorded.
    """
    with torch.device("meta"):
        model = models.unet()
    pooled = []
    hooks = [
        m.register_forward_hook(lambda m, i, out: pooled.append(tuple(out.shape[1:])))
        for m in model.modules()
        if isinstance(m, nn.MaxPool2d)
    ]
    # Shapes only: torch's kernels run on the meta device, the scratch ops do not.
    with torch.no_grad(), nn.use_impl("native"):
        model(torch.zeros(1, 1, 572, 572, device="meta"))
    for hook in hooks:
        hook.remove()
    assert pooled == [(64, 284, 284), (128, 140, 140), (256, 68, 68), (512, 32, 32)]


def test_deck002_conv_layer_output_dimension_h_minus_f_plus_1():
    """002_986ea5cd83fecb5a.txt, "CONVOLUTION - LAYER" (lines 560-574): input
    (h, w, c_i) and N filters (f, f) give (h - f + 1, w - f + 1, N)."""
    h, w, c_i, f, n = 9, 7, 3, 4, 5
    out = nn.Conv2d(c_i, n, kernel_size=f)(torch.zeros(1, c_i, h, w))
    assert keras_shape(out.shape) == (h - f + 1, w - f + 1, n)


@pytest.mark.parametrize(
    ("h", "f", "p", "s"),
    [
        (6, 3, 0, 1),
        (6, 3, 1, 1),
        (7, 3, 0, 2),
        (8, 3, 1, 2),
        (7, 3, 0, 3),
        (32, 5, 2, 2),
    ],
)
def test_deck002_conv_dimension_formula_with_integer_part(h, f, p, s):
    """002_986ea5cd83fecb5a.txt, "DIMENSIONS FORMULA - CONVOLUTIONAL LAYER" (lines
    827-845): ([(h + 2p - f) / s + 1] x [(w + 2p - f) / s + 1] x n), the brackets
    being the integer part, which is what cnnlib computes."""
    out = ops.conv2d(
        torch.zeros(1, 1, h, h), torch.zeros(2, 1, f, f), padding=p, stride=s
    )
    assert out.shape == (1, 2, conv_out(h, f, s, p), conv_out(h, f, s, p))


@pytest.mark.parametrize(
    ("h", "f", "s"), [(6, 3, 1), (6, 2, 2), (7, 3, 2), (224, 2, 2)]
)
def test_deck002_pooling_dimension_formula(h, f, s):
    """002_986ea5cd83fecb5a.txt, "DIMENSIONS FORMULA - POOLING LAYER" (lines
    1026-1043): ([(h - f) / s + 1] x [(w - f) / s + 1] x c), no padding, and no
    parameters to learn."""
    out = ops.max_pool2d(torch.zeros(1, 3, h, h), f, stride=s)
    assert out.shape == (1, 3, conv_out(h, f, s), conv_out(h, f, s))
    assert list(nn.MaxPool2d(f, stride=s).parameters()) == []


@pytest.mark.parametrize(
    ("f", "s", "p", "h"), [(3, 1, 1, 32), (5, 1, 2, 32), (1, 1, 0, 32), (5, 2, 2, 31)]
)
def test_deck003_typical_values_of_f_s_p(f, s, p, h):
    """003_fc1495183eff7abb.txt, "Tailles entrée et sortie" (lines 554-587):
    H2 = (H1 - F + 2P) / S + 1 with cs231n's typical settings: F=3,S=1,P=1,
    F=5,S=1,P=2 and F=1,S=1,P=0 keep the size; F=5,S=2 with P chosen so that
    the division is exact (P=2 on 31x31 gives 16x16)."""
    out = nn.Conv2d(1, 4, kernel_size=f, stride=s, padding=p)(torch.zeros(1, 1, h, h))
    assert out.shape[-1] == (h - f + 2 * p) // s + 1
    assert (h - f + 2 * p) % s == 0
    if s == 1:
        assert out.shape[-1] == h


def test_deck003_questions_224x224x3_with_32_filters_5x5():
    """003_fc1495183eff7abb.txt, "Quelques questions!" (lines 514-524): a filter
    on a 224x224x3 image is 5x5x3 (its depth is the number of input channels);
    32 such filters without zero padding give 220x220x32."""
    layer = nn.Conv2d(3, 32, kernel_size=5)
    assert layer.weight.shape == (32, 3, 5, 5)  # (C_out, C_in, KH, KW)
    out = summary(layer, (3, 224, 224)).rows[0].output_shape
    assert keras_shape(out) == (220, 220, 32)


def test_deck003_question_padding_for_9x9_filter_on_64x64x10():
    """003_fc1495183eff7abb.txt, "Quelques questions!" (line 525): a 9x9 filter
    on a 64x64x10 tensor needs zero padding of width 4 to keep 64x64."""
    for padding in (4, "same"):
        layer = nn.Conv2d(10, 1, kernel_size=9, padding=padding)
        out = summary(layer, (10, 64, 64)).rows[0].output_shape
        assert out[-2:] == (64, 64)


def test_deck002_deck004_valid_and_same_padding():
    """002_986ea5cd83fecb5a.txt, "PADDING" (lines 821-825) and
    004_d2be02630f12ba3f.txt, Keras ``Conv2D`` slide (lines 1375-1388): "valid"
    means no padding, "same" pads so that the output has the input's size."""
    x = torch.zeros(1, 1, 28, 28)
    assert nn.Conv2d(1, 2, 5, padding="valid")(x).shape[-2:] == (24, 24)
    assert nn.Conv2d(1, 2, 5, padding="same")(x).shape[-2:] == (28, 28)
    assert nn.Conv2d(1, 2, 3, padding="same")(x).shape[-2:] == (28, 28)


def test_deck004_output_size_formula_on_padding_example():
    """004_d2be02630f12ba3f.txt, "Le padding" / "Calculer la taille de l'output"
    (lines 410-426): O = (I - K + 2P) / S + 1; the padding example has I = 5,
    K = 3, P = 1, S = 1, hence a 5x5 feature map."""
    out = ops.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), padding=1)
    assert out.shape[-2:] == (5, 5)
    assert conv_out(5, 3, 1, 1) == 5


def test_deck000_simple_network_input_conv_relu_pool_fc():
    """000_c4798dc55d2a0700.txt, "3 layer types" (lines 99-107): on 32x32 RGB
    images, [INPUT 32x32x3] -> CONV [32x32x12] (12 filters) -> RELU [32x32x12] ->
    POOL [16x16x12] -> FC, a (10, 16x16x12) matrix followed by a softmax.

    The slide does not give the filter size; 3x3 filters with padding 1 (the
    3x3 filter of the previous slide) keep the 32x32 size it lists.
    """
    model = nn.Sequential(
        nn.Conv2d(3, 12, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 16 * 12, 10),
        nn.Softmax(dim=1),
    )
    rows = keras_rows(model, (3, 32, 32), fold_activations=False)
    assert [shape for _, shape, _ in rows] == [
        (32, 32, 12),  # CONV
        (32, 32, 12),  # RELU
        (16, 16, 12),  # POOL
        (16 * 16 * 12,),  # the vector the FC layer sees
        (10,),  # FC
        (10,),  # softmax
    ]
    assert model[4].weight.shape == (10, 16 * 16 * 12)
    probabilities = model(torch.zeros(2, 3, 32, 32))
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(2))


def test_deck000_pooling_halves_n_by_n():
    """000_c4798dc55d2a0700.txt, "Pour faire simple" (line 78): max over 2x2
    windows turns (N, N, num_channels) into (N/2, N/2, num_channels)."""
    out = ops.max_pool2d(torch.zeros(1, 5, 16, 16), 2)
    assert keras_shape(out.shape) == (8, 8, 5)
