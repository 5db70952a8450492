"""Parameter-count exercises of the lectures: build the layer with cnnlib, count.

Large layers are built on torch's "meta" device, which records shapes without
allocating memory, so counting a 100-million-weight layer costs nothing.
"""

import pytest
import torch

from cnnlib import models, nn, summary
from tests.lectures._slides import keras_shape, n_params


def test_deck000_one_neuron_on_a_256x256_rgb_image():
    """000_c4798dc55d2a0700.txt, "Bonne question" (lines 23-26): one fully
    connected neuron on a 256x256 colour image has 256 x 256 x 3 = 196,608
    weights, plus one bias."""
    neuron = nn.Linear(256 * 256 * 3, 1)
    assert neuron.weight.numel() == 196_608
    assert n_params(neuron) == 196_609


@pytest.mark.parametrize(
    ("side", "total"),
    [
        (16, 26_710),
        # Erratum: the slide gives 1.011.110 for 100x100 images; the hidden layer
        # has 10,000 x 100 + 100 = 1,000,100 parameters and the output layer
        # 1,010, so 1,001,110 in all.
        (100, 1_001_110),
    ],
)
def test_deck001_handwritten_digits_mlp(side, total):
    """001_555285b7037ab4ad.txt, "Application : reconnaissance de chiffres
    manuscrit" / "Exercice" (lines 827-870): a 16x16 image is a 256-vector, 10
    output neurons, 100 hidden neurons: 256 x 100 + 100 and 10 x 100 + 10, i.e.
    26,710 parameters. The same network on 100x100 images has 1,001,110 (the
    slide prints 1.011.110)."""
    model = models.mlp(
        side * side, hidden_sizes=(100,), num_classes=10, activation=nn.Sigmoid
    )
    s = summary(model, (side * side,))
    assert s.total_params == total
    hidden, output = (m for m in model if isinstance(m, nn.Linear))
    assert n_params(hidden) == side * side * 100 + 100
    assert n_params(output) == 10 * 100 + 10
    assert s.rows[-1].output_shape == (None, 10)


def test_deck001_lenet5_first_layer_has_156_parameters():
    """001_555285b7037ab4ad.txt, "Les couches de convolution" / "Exercice" (lines
    1350-1364): 6 filters 5x5 on one channel, each with a bias:
    6 x (5 x 5 + 1) = 156."""
    assert n_params(nn.Conv2d(1, 6, kernel_size=5)) == 156


def test_deck002_dense_512_on_128x128x3_image():
    """002_986ea5cd83fecb5a.txt, "DENSE (MLP) NETWORK" (lines 57-80): a Dense
    layer of 512 units on the flattened 128x128x3 image (49,152 features) has
    25,166,336 parameters."""
    with torch.device("meta"):
        dense = nn.Linear(128 * 128 * 3, 512)
    assert dense.in_features == 49_152
    assert n_params(dense) == 25_166_336


def test_deck002_conv_512_filters_3x3_on_128x128x3_image():
    """002_986ea5cd83fecb5a.txt, "CONVOLUTION - DIMENSIONS AND PARAMETERS" (lines
    576-598): Conv2D(512, (3, 3)) on (128, 128, 3) gives (126, 126, 512) with
    (27 + 1) x 512 = 14,336 parameters, against 25,166,336 for the Dense layer.

    Slip: this slide labels the 49,152 of the image "parameters"; they are its
    input values (the previous slide calls them features).
    """
    conv = nn.Conv2d(3, 512, kernel_size=3)
    s = summary(conv, (3, 128, 128))
    assert keras_shape(s.rows[0].output_shape) == (126, 126, 512)
    assert s.total_params == 14_336 == (3 * 3 * 3 + 1) * 512


@pytest.mark.parametrize(("f", "c", "n"), [(3, 3, 512), (5, 3, 32), (5, 1, 6)])
def test_deck002_number_of_parameters_formula(f, c, n):
    """002_986ea5cd83fecb5a.txt, "DIMENSIONS FORMULA - CONVOLUTIONAL LAYER" (line
    847) and 003_fc1495183eff7abb.txt, "Tailles entrée et sortie" (line 587).

    Erratum (formula): deck 002 writes N_p = ((h . w . c) + 1) . n with h and w
    the image's height and width; that is the count of a dense layer. A conv layer
    has ((f . f . c) + 1) . n parameters, f the filter size, as deck 003 writes it:
    F . F . C1 . K weights + K biases. For the 128x128x3 example the slide's
    formula would give 25,166,336 instead of 14,336.
    """
    layer = nn.Conv2d(c, n, kernel_size=f)
    assert n_params(layer) == (f * f * c + 1) * n
    assert layer.weight.numel() == f * f * c * n
    assert layer.bias.numel() == n
    h = w = 128
    assert ((h * w * 3) + 1) * 512 == 25_166_336  # what the slide's formula gives


def test_deck003_conv_layer_608_parameters_vs_fully_connected():
    """003_fc1495183eff7abb.txt, "Réduction # paramètres" (lines 382-401): 8
    filters 5x5 on a 32x32x3 image: (5 x 5 x 3 + 1) x 8 = 608 parameters (the
    slide's unit reads "filtres"; it is 608 parameters in 8 filters). A fully
    connected layer with the same 28 x 28 x 8 = 6,272 outputs needs
    32 x 32 x 3 + 1 = 3,073 parameters per neuron, 19,273,856 in all."""
    conv = nn.Conv2d(3, 8, kernel_size=5)
    s = summary(conv, (3, 32, 32))
    assert s.total_params == 608
    assert keras_shape(s.rows[0].output_shape) == (28, 28, 8)
    with torch.device("meta"):
        dense = nn.Linear(32 * 32 * 3, 28 * 28 * 8)
    assert dense.out_features == 6_272
    assert n_params(dense) // dense.out_features == 3_073
    assert n_params(dense) == 19_273_856


@pytest.mark.parametrize(("n_small", "big", "saving"), [(2, 5, 0.28), (3, 7, 0.45)])
def test_deck001_deck003_stacked_3x3_convs_have_fewer_parameters(n_small, big, saving):
    """001_555285b7037ab4ad.txt, "L'architecture VGG16" (lines 1412-1425) and
    003_fc1495183eff7abb.txt, "VGGNet" (lines 970-978): a stack of 3x3
    convolutions replaces a larger filter with fewer weights: two 3x3 (18 C^2)
    for one 5x5 (25 C^2); three 3x3, 3 (3^2 C^2) = 27 C^2, for one 7x7,
    7^2 C^2 = 49 C^2, a saving of 45% (C channels in and out, biases aside)."""
    c = 64
    stack = nn.Sequential(*[nn.Conv2d(c, c, 3, bias=False) for _ in range(n_small)])
    single = nn.Conv2d(c, c, big, bias=False)
    assert n_params(stack) == n_small * 9 * c * c
    assert n_params(single) == big * big * c * c
    assert 1 - n_params(stack) / n_params(single) == pytest.approx(saving, abs=0.005)


def test_deck002_dense_parameters_grow_with_the_number_of_pixels():
    """002_986ea5cd83fecb5a.txt, "DENSE (MLP) NETWORK" (line 59): "Number of
    parameters increases exponentially".

    Wording slip: a Dense(512) layer on an s x s x 3 image has
    (3 s^2 + 1) x 512 parameters: linear in the number of pixels, quadratic in
    the side s (doubling the side multiplies it by about 4), not exponential.
    """
    counts = []
    for side in (32, 64, 128):
        with torch.device("meta"):
            counts.append(n_params(nn.Linear(side * side * 3, 512)))
    assert counts == [(3 * s * s + 1) * 512 for s in (32, 64, 128)]
    assert counts[-1] == 25_166_336
    assert round(counts[1] / counts[0], 2) == round(counts[2] / counts[1], 2) == 4.0
