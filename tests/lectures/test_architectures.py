"""Size and parameter tables of classic architectures in the lectures, with cnnlib.

The networks are built on torch's "meta" device: ``cnnlib.summary`` then runs a
shape-only forward pass (no memory for weights, no arithmetic), so even VGG16 is
summarised in milliseconds. Shapes are converted to the slides' (H, W, C).
"""

import pytest
import torch

from cnnlib import models, nn, summary
from tests.lectures._slides import keras_shape

# Deck 001's VGG16 table: (layer, (H, W, C), parameters), from the slide with the
# answers (lines 1488-1537). Every entry agrees with cnnlib.
VGG16_TABLE = [
    ("Conv2d", (224, 224, 64), 1_792),
    ("Conv2d", (224, 224, 64), 36_928),
    ("MaxPool2d", (112, 112, 64), 0),
    ("Conv2d", (112, 112, 128), 73_856),
    ("Conv2d", (112, 112, 128), 147_584),
    ("MaxPool2d", (56, 56, 128), 0),
    ("Conv2d", (56, 56, 256), 295_168),
    ("Conv2d", (56, 56, 256), 590_080),
    ("Conv2d", (56, 56, 256), 590_080),
    ("MaxPool2d", (28, 28, 256), 0),
    ("Conv2d", (28, 28, 512), 1_180_160),
    ("Conv2d", (28, 28, 512), 2_359_808),
    ("Conv2d", (28, 28, 512), 2_359_808),
    ("MaxPool2d", (14, 14, 512), 0),
    ("Conv2d", (14, 14, 512), 2_359_808),
    ("Conv2d", (14, 14, 512), 2_359_808),
    ("Conv2d", (14, 14, 512), 2_359_808),
    ("MaxPool2d", (7, 7, 512), 0),
    ("Linear", (4096,), 102_764_544),
    ("Linear", (4096,), 16_781_312),
    ("Linear", (1000,), 4_097_000),
]


def layer_rows(s, types) -> list:
    """(type, (H, W, C), params) of every row of summary ``s`` of one of ``types``."""
    return [
        (row.type, keras_shape(row.output_shape), row.params)
        for row in s.rows
        if row.type in types
    ]


def test_deck001_vgg16_table_of_sizes_and_weights():
    """001_555285b7037ab4ad.txt, "L'architecture VGG16" / "Exemple : VGG16"
    (lines 1435-1537): every layer's size and weights, INPUT [224x224x3] with 0
    weights, CONV3-64 (3*3*3)*64 + 64 = 1,792, ..., FC 7*7*512*4096 + 4096 =
    102,764,544, ..., TOTAL about 138 million (138,357,544)."""
    with torch.device("meta"):
        model = models.vgg16()
    s = summary(model, (3, 224, 224), depth=10)
    assert layer_rows(s, ("Conv2d", "MaxPool2d", "Linear")) == VGG16_TABLE
    total = s.total_params
    assert total == sum(params for _, _, params in VGG16_TABLE) == 138_357_544
    assert round(total / 1e6) == 138


# Deck 003's AlexNet table, from the input up (lines 905-938): the conv and pool
# layers with their output volumes, then the three FC layers.
ALEXNET_TABLE = [
    ("Conv2d", (55, 55, 96)),  # CONV1: 96 11x11 filters at stride 4, pad 0
    ("MaxPool2d", (27, 27, 96)),  # MAX POOL1: 3x3 filters at stride 2
    ("Conv2d", (27, 27, 256)),  # CONV2: 256 5x5 filters at stride 1, pad 2
    ("MaxPool2d", (13, 13, 256)),  # MAX POOL2
    ("Conv2d", (13, 13, 384)),  # CONV3: 384 3x3, stride 1, pad 1
    ("Conv2d", (13, 13, 384)),  # CONV4
    ("Conv2d", (13, 13, 256)),  # CONV5
    ("MaxPool2d", (6, 6, 256)),  # MAX POOL3
    ("Linear", (4096,)),  # FC6
    ("Linear", (4096,)),  # FC7
    ("Linear", (1000,)),  # FC8
]


def test_deck003_alexnet_table_of_sizes():
    """003_fc1495183eff7abb.txt, "AlexNet" (lines 905-940): from [227x227x3] to
    [6x6x256] after MAX POOL3, then FC6, FC7 and FC8. (The NORM layers keep
    their input's size; cnnlib's AlexNet applies them before the pooling, as the
    paper does, so they are left out of the comparison.)"""
    with torch.device("meta"):
        model = models.alexnet()
    s = summary(model, (3, 227, 227), depth=10)
    rows = layer_rows(s, ("Conv2d", "MaxPool2d", "Linear"))
    assert [(kind, shape) for kind, shape, _ in rows] == ALEXNET_TABLE


def test_deck002_deck003_alexnet_has_about_60m_parameters_mostly_fc():
    """002_986ea5cd83fecb5a.txt, "ALEX NET" (line 1146, "≃ 60M parameters") and
    003_fc1495183eff7abb.txt, "AlexNet" (lines 895-907, "60M paramètres",
    "majorité des paramètres" in the FC layers): 60,965,224 with the paper's
    two-GPU grouped convolutions (62,378,344 as a single tower), 96% of them in
    FC6-FC8."""
    with torch.device("meta"):
        two_towers = models.alexnet()
        one_tower = models.alexnet(two_towers=False)
    total = sum(p.numel() for p in two_towers.parameters())
    assert total == 60_965_224
    assert sum(p.numel() for p in one_tower.parameters()) == 62_378_344
    fc = sum(
        m.weight.numel() + m.bias.numel()
        for m in two_towers.modules()
        if isinstance(m, nn.Linear)
    )
    assert fc == 58_631_144
    assert fc / total > 0.95


# Deck 003's GoogLeNet table (lines 1171-1196; the paper's Table 1), one row per
# layer with parameters: the block, its input (C, H, W), the output size it
# prints, its "params" (K) and "ops" (M) columns, and what cnnlib counts:
# weights (biases aside, as the paper counts) and multiply-adds. Keys shorten the
# slide's row names: "convolution 7x7/2" -> "conv7x7-s2", "inception (3a)" ->
# "inception3a", and so on.
GOOGLENET_ROWS = {
    # name: (block, input, slide output, slide K, slide M, weights, mult-adds)
    "conv7x7-s2": (
        lambda: nn.Conv2d(3, 64, 7, stride=2, padding=3),
        (3, 224, 224), (112, 112, 64), 2.7, 34, 9_408, 118_013_952,
    ),
    "conv3x3-s1": (
        lambda: nn.Sequential(nn.Conv2d(64, 64, 1), nn.Conv2d(64, 192, 3, padding=1)),
        (64, 56, 56), (56, 56, 192), 112, 360, 114_688, 359_661_568,
    ),
    "inception3a": (
        lambda: models.Inception(192, 64, 96, 128, 16, 32, 32),
        (192, 28, 28), (28, 28, 256), 159, 128, 163_328, 128_049_152,
    ),
    "inception3b": (
        lambda: models.Inception(256, 128, 128, 192, 32, 96, 64),
        (256, 28, 28), (28, 28, 480), 380, 304, 388_096, 304_267_264,
    ),
    "inception4a": (
        lambda: models.Inception(480, 192, 96, 208, 16, 48, 64),
        (480, 14, 14), (14, 14, 512), 364, 73, 375_552, 73_608_192,
    ),
    "inception4b": (
        lambda: models.Inception(512, 160, 112, 224, 24, 64, 64),
        (512, 14, 14), (14, 14, 512), 437, 88, 448_512, 87_908_352,
    ),
    "inception4c": (
        lambda: models.Inception(512, 128, 128, 256, 24, 64, 64),
        (512, 14, 14), (14, 14, 512), 463, 100, 509_440, 99_850_240,
    ),
    "inception4d": (
        lambda: models.Inception(512, 112, 144, 288, 32, 64, 64),
        (512, 14, 14), (14, 14, 528), 580, 119, 604_672, 118_515_712,
    ),
    "inception4e": (
        lambda: models.Inception(528, 256, 160, 320, 32, 128, 128),
        (528, 14, 14), (14, 14, 832), 840, 170, 867_328, 169_996_288,
    ),
    "inception5a": (
        lambda: models.Inception(832, 256, 160, 320, 32, 128, 128),
        (832, 7, 7), (7, 7, 832), 1072, 54, 1_042_432, 51_079_168,
    ),
    "inception5b": (
        lambda: models.Inception(832, 384, 192, 384, 48, 128, 128),
        (832, 7, 7), (7, 7, 1024), 1388, 71, 1_442_816, 70_697_984,
    ),
    "linear": (
        lambda: nn.Linear(1024, 1000),
        (1024,), (1000,), 1000, 1, 1_024_000, 1_024_000,
    ),
}  # fmt: skip

# Rows whose printed parameter count does not match the layer (see the errata):
# the table counts in units of 1024 and rounds, so a row is taken to agree when it
# is within 1.5 K of the weights; its ops column, within 1 M of the multiply-adds.
GOOGLENET_PARAMS_WRONG = {
    "conv7x7-s2",
    "inception4a",
    "inception4c",
    "inception4d",
    "inception4e",
    "inception5a",
    "inception5b",
}
GOOGLENET_OPS_WRONG = {"conv7x7-s2", "inception5a"}


@pytest.mark.parametrize("name", list(GOOGLENET_ROWS))
def test_deck003_googlenet_table_row(name):
    """003_fc1495183eff7abb.txt, "GoogLeNet" table (lines 1171-1196), copied from
    the paper's Table 1: output size, params and ops of each layer.

    Every output size agrees. Errata (the paper's own, carried over by the slide):
    the first convolution has 7 x 7 x 3 x 64 = 9,408 weights (9.2 K) and
    118M multiply-adds, not 2.7K and 34M; the params of (4a), (4c), (4d), (4e),
    (5a) and (5b) read 364K, 463K, 580K, 840K, 1072K and 1388K where the modules
    hold 366.8K, 497.5K, 590.5K, 847K, 1018K and 1409K (K = 1024 weights); and
    (5a) costs 51M multiply-adds, not 54M. The other rows agree.
    """
    make, input_size, shape, slide_k, slide_m, weights, mult_adds = GOOGLENET_ROWS[name]
    with torch.device("meta"):
        block = make()
    s = summary(nn.Sequential(block), input_size, depth=1)  # row "0": the block
    assert keras_shape(s.rows[0].output_shape) == shape
    conv_and_fc = [m for m in block.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert sum(m.weight.numel() for m in conv_and_fc) == weights
    assert s.mult_adds == mult_adds
    params_agree = abs(weights / 1024 - slide_k) <= 1.5
    ops_agree = abs(mult_adds / 1e6 - slide_m) <= 1
    assert params_agree == (name not in GOOGLENET_PARAMS_WRONG)
    assert ops_agree == (name not in GOOGLENET_OPS_WRONG)


def test_deck003_googlenet_output_sizes_and_total_parameters():
    """003_fc1495183eff7abb.txt, "GoogLeNet" (lines 1072-1078 and the table): the
    nine Inception modules of cnnlib's GoogLeNet produce the table's sizes, and
    the whole network has 6,998,552 parameters (6,990,272 weights).

    Erratum: the slide says "only 5 million parameters, 12 times fewer than
    AlexNet", the paper's own claim; its table adds up to about 6.8M (in units of
    1024), and the layers hold 7.0M, 8.7 times fewer than AlexNet's 61M.
    """
    with torch.device("meta"):
        model = models.googlenet()
        alexnet = models.alexnet()
    rows = summary(model, (3, 224, 224), depth=1).rows
    inception_shapes = [
        keras_shape(r.output_shape) for r in rows if r.type == "Inception"
    ]
    assert inception_shapes == [
        GOOGLENET_ROWS[name][2]
        for name in GOOGLENET_ROWS
        if name.startswith("inception")
    ]
    total = sum(p.numel() for p in model.parameters())
    assert total == 6_998_552
    weights = sum(
        m.weight.numel()
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    )
    assert weights == sum(row[5] for row in GOOGLENET_ROWS.values()) == 6_990_272
    slide_column_sum = sum(row[3] for row in GOOGLENET_ROWS.values())
    assert round(slide_column_sum / 1000, 1) == 6.8  # the table's own total, in M
    ratio = sum(p.numel() for p in alexnet.parameters()) / total
    assert round(ratio, 1) == 8.7  # not 12


def weight_layers(model: torch.nn.Module) -> int:
    """Number of conv and fully connected layers."""
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())


def test_deck003_number_of_layers_alexnet_vgg():
    """003_fc1495183eff7abb.txt, "AlexNet" ("8 couches", line 899) and "VGGNet"
    ("16-19 couches", line 973): layers with weights, 5 conv + 3 FC for AlexNet,
    13 + 3 and 16 + 3 for VGG16 and VGG19."""
    with torch.device("meta"):
        assert weight_layers(models.alexnet()) == 8
        assert weight_layers(models.vgg16()) == 16
        assert weight_layers(models.vgg19()) == 19


def test_deck003_googlenet_is_22_layers_deep():
    """003_fc1495183eff7abb.txt, "GoogLeNet" ("Réseau plus profond (22 couches)",
    line 1074): the depth column of the table, layers with weights along the
    longest path: 1 (conv 7x7) + 2 (1x1 then 3x3) + 9 Inception modules x 2
    (1x1 reduction then 3x3 or 5x5) + 1 (linear) = 22."""

    def depth(block: torch.nn.Module) -> int:
        if isinstance(block, (nn.Conv2d, nn.Linear)):
            return 1
        if isinstance(block, models.Inception):  # parallel branches: the longest
            return max(weight_layers(branch) for branch in block.children())
        return weight_layers(block)  # a plain stack

    with torch.device("meta"):
        depths = [depth(make()) for make, *_ in GOOGLENET_ROWS.values()]
    assert depths == [1, 2] + [2] * 9 + [1]
    assert sum(depths) == 22
