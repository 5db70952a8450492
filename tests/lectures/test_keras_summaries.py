"""The Keras summaries of deck 002 (CNN lecture + Keras lab), rebuilt with cnnlib.

Each model is the slide's Keras code written with ``cnnlib.nn`` (Conv2D ->
Conv2d, Dense -> Linear, MaxPooling2D -> MaxPool2d) and summarised with
``cnnlib.summary``. Keras shapes are channels-last, (H, W, C); cnnlib's are
channels-first and are converted for the comparison. Where Keras code passes
``activation=`` to a layer, Keras shows no row for it, so the activation rows of
our summary are left out (``fold_activations=True``). Flatten orders differ
between the two layouts, but the number of values, hence every count, is the same.
"""

import torch

from cnnlib import models, nn, summary
from cnnlib.models.vgg import CONFIGS, make_features
from tests.lectures._slides import keras_rows, n_params


def test_deck002_lenet5_keras_61706_trainable_parameters():
    """002_986ea5cd83fecb5a.txt, "LENET-5 - KERAS" (lines 1090-1113): on
    (32, 32, 1) inputs, "Trainable params: 61,706"."""
    model = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, stride=1),
        nn.Tanh(),
        nn.MaxPool2d(2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5, stride=1),
        nn.Tanh(),
        nn.MaxPool2d(2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, 10),
        nn.Softmax(dim=1),
    )
    rows = keras_rows(model, (1, 32, 32), fold_activations=True)
    assert rows == [
        ("Conv2d", (28, 28, 6), 156),
        ("MaxPool2d", (14, 14, 6), 0),
        ("Conv2d", (10, 10, 16), 2_416),
        ("MaxPool2d", (5, 5, 16), 0),
        ("Flatten", (400,), 0),
        ("Linear", (120,), 48_120),
        ("Linear", (84,), 10_164),
        ("Linear", (10,), 850),
    ]
    assert summary(model, (1, 32, 32)).trainable_params == 61_706
    assert n_params(models.lenet5_keras()) == 61_706


def test_deck002_mnist_mlp_669706_parameters():
    """002_986ea5cd83fecb5a.txt, "MNIST - PERCEPTRON MULTICOUCHE" (lines
    1451-1475): Dense(512) - Dropout(0.2) - Dense(512) - Dropout(0.2) -
    Dense(10) on 784 inputs: 401,920 + 262,656 + 5,130 = 669,706."""
    model = nn.Sequential(
        nn.Linear(784, 512),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(512, 10),
        nn.Softmax(dim=1),
    )
    rows = keras_rows(model, (784,), fold_activations=True)
    assert rows == [
        ("Linear", (512,), 401_920),
        ("Dropout", (512,), 0),
        ("Linear", (512,), 262_656),
        ("Dropout", (512,), 0),
        ("Linear", (10,), 5_130),
    ]
    assert summary(model, (784,)).total_params == 669_706


def test_deck002_mnist_cnn_1199882_parameters():
    """002_986ea5cd83fecb5a.txt, "MNIST - RÉSEAU DE CONVOLUTION" (lines
    1477-1518): two 3x3 convs (32, 64), 2x2 max pooling, Dropout, Flatten,
    Dense(128), Dropout, Dense(10) on (28, 28, 1): 1,199,882 parameters."""
    model = nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3),
        nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(9216, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
        nn.Softmax(dim=1),
    )
    rows = keras_rows(model, (1, 28, 28), fold_activations=True)
    assert rows == [
        ("Conv2d", (26, 26, 32), 320),
        ("Conv2d", (24, 24, 64), 18_496),
        ("MaxPool2d", (12, 12, 64), 0),
        ("Dropout", (12, 12, 64), 0),
        ("Flatten", (9_216,), 0),
        ("Linear", (128,), 1_179_776),
        ("Dropout", (128,), 0),
        ("Linear", (10,), 1_290),
    ]
    assert summary(model, (1, 28, 28)).total_params == 1_199_882


def test_deck002_cats_vs_dogs_cnn_1212513_parameters():
    """002_986ea5cd83fecb5a.txt, "CATSVSDGOGS - RÉSEAU DE CONVOLUTION",
    DEFINITION and SUMMARY (lines 1650-1700): three blocks Conv2D(3x3) -
    Activation('relu') - MaxPooling2D(2x2) with 32, 32 and 64 filters, then
    Flatten - Dense(64) - relu - Dropout - Dense(1) - sigmoid. The code leaves
    img_width and img_height open; the summary's (148, 148, 32) fixes them at 150.
    Keras lists the activations as layers here, and so do we."""
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(18_496, 64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(64, 1),
        nn.Sigmoid(),
    )
    rows = keras_rows(model, (3, 150, 150), fold_activations=False)
    assert rows == [
        ("Conv2d", (148, 148, 32), 896),
        ("ReLU", (148, 148, 32), 0),
        ("MaxPool2d", (74, 74, 32), 0),
        ("Conv2d", (72, 72, 32), 9_248),
        ("ReLU", (72, 72, 32), 0),
        ("MaxPool2d", (36, 36, 32), 0),
        ("Conv2d", (34, 34, 64), 18_496),
        ("ReLU", (34, 34, 64), 0),
        ("MaxPool2d", (17, 17, 64), 0),
        ("Flatten", (18_496,), 0),
        ("Linear", (64,), 1_183_808),
        ("ReLU", (64,), 0),
        ("Dropout", (64,), 0),
        ("Linear", (1,), 65),
        ("Sigmoid", (1,), 0),
    ]
    assert summary(model, (3, 150, 150)).total_params == 1_212_513


def test_deck002_vgg16_has_138357544_parameters():
    """002_986ea5cd83fecb5a.txt, "CATSVSDGOGS - RÉSEAU PRÉ-ENTRAINÉ" (lines
    1722-1749) and "VGG16" (line 1174): VGG-16 has 138,357,544 parameters
    (138M). Built on the meta device: counted, not allocated."""
    with torch.device("meta"):
        model = models.vgg16()
    assert n_params(model) == 138_357_544


def top_classifier() -> nn.Sequential:
    """Flatten - Dense(64, relu) - Dropout(0.5) - Dense(1, sigmoid) on VGG16's
    4x4x512 features of a 150x150 image."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(4 * 4 * 512, 64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(64, 1),
        nn.Sigmoid(),
    )


def test_deck002_vgg16_feature_extractor_top_classifier():
    """002_986ea5cd83fecb5a.txt, "CATSVSDGOGS - VGG-16 - 1/ EXTRACTEUR DE
    FEATURES" (lines 1785-1812): the small classifier on the (4, 4, 512) features:
    Flatten 8,192, Dense 524,352, Dropout, Dense 65."""
    rows = keras_rows(top_classifier(), (512, 4, 4), fold_activations=True)
    assert rows == [
        ("Flatten", (8_192,), 0),
        ("Linear", (64,), 524_352),
        ("Dropout", (64,), 0),
        ("Linear", (1,), 65),
    ]


def test_deck002_vgg16_fine_tuning_model_15239105_parameters():
    """002_986ea5cd83fecb5a.txt, "CATSVSDGOGS - VGG-16 - 2/ FINE TUNING" (lines
    1829-1860): VGG16 without its top on (150, 150, 3) ends in block5_pool
    (4, 4, 512); with the classifier above (524,417 parameters) the whole model
    has 15,239,105 = 14,714,688 + 524,417."""
    with torch.device("meta"):
        base = make_features(CONFIGS["vgg16"])
        model = nn.Sequential(base, top_classifier())
    s = summary(model, (3, 150, 150))
    rows = {row.name: row for row in s.rows}
    assert rows["0"].output_shape == (None, 512, 4, 4)
    assert rows["0.0"].params == 1_792  # block1_conv1
    assert rows["0"].params == 14_714_688
    assert rows["1"].params == 524_417
    assert s.total_params == 15_239_105
