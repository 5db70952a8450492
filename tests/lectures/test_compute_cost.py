"""Computational-cost exercises (1x1 convolutions, Inception) with cnnlib.

"Operations" in the lectures are multiply-adds: one per weight per output
position, biases aside. ``cnnlib.summary`` counts them from a forward pass; the
convolutions below run on the meta device (shapes only, no arithmetic).
"""

import torch

from cnnlib import models, nn, summary


def test_deck002_5x5_conv_192_to_32_on_28x28():
    """002_986ea5cd83fecb5a.txt, "1 x 1 CONVOLUTION - PROBLEM IN COMPUTATIONAL
    COST" (lines 1346-1355): a 5x5 convolution from 28x28x192 to 28x28x32 has
    5 x 5 x 192 x 32 = 153,600 weights and costs 153,600 x 28 x 28 =
    120,422,400 multiply-adds."""
    with torch.device("meta"):
        conv = nn.Conv2d(192, 32, 5, padding=2, bias=False)
    s = summary(conv, (192, 28, 28))
    assert s.rows[0].output_shape == (None, 32, 28, 28)
    assert s.total_params == 153_600
    assert s.mult_adds == 120_422_400
    assert models.conv2d_cost(192, 32, 5, 28, 28, bias=False).mult_adds == 120_422_400


def test_deck002_1x1_bottleneck_before_the_5x5_conv():
    """002_986ea5cd83fecb5a.txt, "1 X 1 CONVOLUTION - PROBLEM IN COMPUTATIONAL
    COST" (lines 1357-1393): 28x28x192 -> 1x1x192 conv, 16 filters -> 28x28x16
    -> 5x5x16 conv, 32 filters -> 28x28x32. Weights (3,072, 12,800); cost
    2,408,448 + 10,035,200 = 12,443,648, ten times less than the direct 5x5.

    Slip: the slide writes the sum as "3.072 x 28 x 28 + 12.800"; the second
    term is 12,800 x 28 x 28 (its value, 10,035,200, is right).
    """
    with torch.device("meta"):
        bottleneck = nn.Sequential(
            nn.Conv2d(192, 16, 1, bias=False),
            nn.Conv2d(16, 32, 5, padding=2, bias=False),
        )
    s = summary(bottleneck, (192, 28, 28))
    assert [row.output_shape for row in s.rows] == [
        (None, 16, 28, 28),
        (None, 32, 28, 28),
    ]
    assert [row.params for row in s.rows] == [3_072, 12_800]
    assert [row.mult_adds for row in s.rows] == [2_408_448, 10_035_200]
    assert s.mult_adds == 12_443_648
    assert 120_422_400 / s.mult_adds > 9.6


def test_deck003_naive_inception_costs_854m():
    """003_fc1495183eff7abb.txt, "GoogLeNet" / "Coût en calcul" (lines
    1102-1119): the naive module on a 28x28x256 input, [1x1 conv, 128]
    28x28x128x1x1x256 + [3x3 conv, 192] 28x28x192x3x3x256 + [5x5 conv, 96]
    28x28x96x5x5x256 = 854M multiply-adds (854,196,224)."""
    with torch.device("meta"):
        block = models.naive_inception(256, 128, 192, 96)
    s = summary(nn.Sequential(block), (256, 28, 28), depth=1)  # row "0": the block
    assert s.mult_adds == 25_690_112 + 346_816_512 + 481_689_600 == 854_196_224
    assert round(s.mult_adds / 1e6) == 854
    # Output depth: 128 + 192 + 96 + the 256 pooled maps passed through.
    assert s.rows[0].output_shape == (None, 672, 28, 28)
    assert models.inception_cost(block, 28, 28).mult_adds == 854_196_224


def test_deck003_inception_with_1x1_reductions_costs_271m():
    """003_fc1495183eff7abb.txt, "GoogLeNet" / "Coût en calcul" (lines
    1146-1167): the same module with 1x1 bottlenecks: [1x1 conv, 64] twice
    before the 3x3 and 5x5 convs, [1x1 conv, 128], [3x3 conv, 192] on 64 maps,
    [5x5 conv, 96] on 64 maps, [1x1 conv, 64] after the pooling.

    Erratum: the slide's total, 358M ("de 854Mops à 358 Mops"), does not match
    its own six terms, which add up to 271,351,808, i.e. 271M (358M is what one
    gets by counting the 3x3 term, 86.7M, twice).
    """
    with torch.device("meta"):
        block = models.Inception(256, 128, 64, 192, 64, 96, 64)
    s = summary(nn.Sequential(block), (256, 28, 28), depth=1)  # row "0": the block
    terms = [
        28 * 28 * 64 * 1 * 1 * 256,  # [1x1 conv, 64] before the 3x3
        28 * 28 * 64 * 1 * 1 * 256,  # [1x1 conv, 64] before the 5x5
        28 * 28 * 128 * 1 * 1 * 256,  # [1x1 conv, 128]
        28 * 28 * 192 * 3 * 3 * 64,  # [3x3 conv, 192]
        28 * 28 * 96 * 5 * 5 * 64,  # [5x5 conv, 96]
        28 * 28 * 64 * 1 * 1 * 256,  # [1x1 conv, 64] after the pooling
    ]
    assert s.mult_adds == sum(terms) == 271_351_808  # slide: 358M
    assert round(s.mult_adds / 1e6) == 271
    assert round((sum(terms) + terms[3]) / 1e6) == 358
    assert s.rows[0].output_shape == (None, 480, 28, 28)


def test_deck002_resnet_caption_vgg19_costs_19_6_billion():
    """002_986ea5cd83fecb5a.txt, "RESNET HE ET AL. [2016]" (line 1294): the
    caption of the ResNet paper's Fig. 3 gives VGG-19 "15.6 billion FLOPs"; the
    paper says 19.6 billion (multiply-adds), and so does cnnlib. The caption's
    3.6 billion for the 34-layer plain and residual networks is right, truncated
    (3.64 and 3.66 billion)."""
    with torch.device("meta"):
        vgg19 = models.vgg19()
        plain34 = models.plain34()
        resnet34 = models.resnet34()
    vgg = summary(vgg19, (3, 224, 224)).mult_adds
    assert vgg == 19_632_062_464 and round(vgg / 1e9, 1) == 19.6 != 15.6
    assert summary(plain34, (3, 224, 224)).mult_adds == 3_644_493_824
    assert summary(resnet34, (3, 224, 224)).mult_adds == 3_663_761_408
