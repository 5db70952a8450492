"""Deck 001's hand-computed CNN forward pass, layer by layer, with ``cnnlib.ops``.

001_555285b7037ab4ad.txt, "Les réseaux convolutionnels" / "Exercice" (lines
1107-1326). The network: 3x3 convolutions with stride 1 and 3x3 max pooling with
stride 2, all with "same" padding (1); ReLU everywhere except a softmax after the
3-neuron fully connected layer; no biases in the convolutions. The input is an 8x8
binary "diamond".

Summary of the slide errors found on the way (details in each test):

* conv 1, map 2: one row of the first printing is wrong (fixed on the next slide);
* conv 2, map 2: the bottom row reads 20 31 35 25 instead of 21 32 36 25;
* pool 2 and FC: that slip propagates, the second output is 104 instead of 105.
"""

import torch

from cnnlib import ops
from tests.lectures._slides import flipped, grid, image

DIAMOND = image(
    [
        [0, 0, 0, 1, 1, 0, 0, 0],
        [0, 0, 1, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1, 1],
        [0, 1, 1, 1, 1, 1, 1, 0],
        [0, 0, 1, 1, 1, 1, 0, 0],
        [0, 0, 0, 1, 1, 0, 0, 0],
    ]
)
BOX = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
LEFT_MINUS_RIGHT = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
TOP_MINUS_BOTTOM = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]

# The three maps after the first conv + ReLU, as printed on the pooling slide
# (lines 1196-1231), which agree with cnnlib.
CONV1_MAPS = grid(
    [
        [
            [0, 1, 3, 5, 5, 3, 1, 0],
            [1, 3, 6, 8, 8, 6, 3, 1],
            [3, 6, 8, 9, 9, 8, 6, 3],
            [5, 8, 9, 9, 9, 9, 8, 5],
            [5, 8, 9, 9, 9, 9, 8, 5],
            [3, 6, 8, 9, 9, 8, 6, 3],
            [1, 3, 6, 8, 8, 6, 3, 1],
            [0, 1, 3, 5, 5, 3, 1, 0],
        ],
        [
            [0, 0, 0, 0, 1, 2, 1, 0],
            [0, 0, 0, 0, 1, 2, 2, 1],
            [0, 0, 0, 0, 0, 1, 2, 2],
            [0, 0, 0, 0, 0, 0, 1, 3],
            [0, 0, 0, 0, 0, 0, 1, 3],
            [0, 0, 0, 0, 0, 1, 2, 2],  # first printing (line 1175): 0 0 0 0 0 0 1 2
            [0, 0, 0, 0, 1, 2, 2, 1],
            [0, 0, 0, 0, 1, 2, 1, 0],
        ],
        [
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
            [1, 1, 0, 0, 0, 0, 1, 1],
            [2, 2, 1, 0, 0, 1, 2, 2],
            [1, 2, 2, 1, 1, 2, 2, 1],
            [0, 1, 2, 3, 3, 2, 1, 0],
        ],
    ]
)[None]
POOL1_MAPS = grid(
    [
        [[3, 8, 8, 6], [8, 9, 9, 9], [8, 9, 9, 9], [6, 9, 9, 8]],
        [[0, 0, 2, 2], [0, 0, 2, 3], [0, 0, 1, 3], [0, 0, 2, 2]],
        [[0, 0, 0, 0], [0, 0, 0, 0], [2, 2, 1, 2], [2, 3, 3, 2]],
    ]
)[None]
CONV2_MAPS = grid(
    [
        [[0, 0, 0, 21], [0, 0, 0, 32], [0, 0, 0, 36], [0, 0, 0, 25]],
        # The slide's bottom row reads 20 31 35 25.
        [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [21, 32, 36, 25]],
    ]
)[None]
POOL2_MAPS = grid([[[0, 32], [0, 36]], [[0, 0], [32, 36]]])[None]  # slide: 0 0 / 31 35
FC_WEIGHT = grid(
    [
        [1, 1, -1, -1, 0, 0, 0, 0],
        [0, 0, 1, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, -1, -1, 1, 1],
    ]
)
FC_BIAS = grid([[0, 5, 3]])[0]


def conv1_weight(filters: list[list[list[int]]]) -> torch.Tensor:
    """Three 3x3 filters on a one-channel input: shape (3, 1, 3, 3)."""
    return grid(filters)[:, None]


def test_first_conv_layer_question_filters():
    """Lines 1121-1137 and the answer, lines 1139-1186: three filters (box,
    left-minus-right, top-minus-bottom), stride 1, padding 1, no bias, ReLU.

    Erratum: the first printing of map 2 (line 1175) has 0 0 0 0 0 0 1 2 on its
    sixth row; the map is symmetric top-bottom, so that row is 0 0 0 0 0 1 2 2,
    as the next slide (line 1215) prints it.
    """
    w = conv1_weight([BOX, LEFT_MINUS_RIGHT, TOP_MINUS_BOTTOM])
    out = ops.relu(ops.conv2d(DIAMOND, w, padding=1))
    assert torch.equal(out, CONV1_MAPS)


def test_first_conv_layer_answer_slide_filters_are_flipped():
    """Lines 1141-1145: the answer slide prints the filters negated
    (-1 0 1 rows, and -1 -1 -1 / 0 0 0 / 1 1 1) yet shows the same maps. Both
    slides agree once the answer slide is read as a true, flipped-kernel
    convolution, the definition deck 001 gives (IC(x, y) = sum G(i, j)
    I(x - i, y - j), line 887): flipping these antisymmetric filters negates
    them back."""
    answer = conv1_weight([BOX, [[-1, 0, 1]] * 3, [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]])
    out = ops.relu(ops.conv2d(DIAMOND, flipped(answer), padding=1))
    assert torch.equal(out, CONV1_MAPS)
    # Read as a cross-correlation, the answer-slide filters light up the other
    # edges: the left and top borders of the diamond.
    wrong_side = ops.relu(ops.conv2d(DIAMOND, answer, padding=1))
    assert not torch.equal(wrong_side, CONV1_MAPS)


def test_first_pooling_layer():
    """Lines 1188-1236: 3x3 max pooling, stride 2, padding 1, on each 8x8 map
    gives 4x4 maps. (cnnlib pads max pooling with -inf, torch's rule; after a
    ReLU every value is >= 0, so zero padding would give the same maps.)"""
    out = ops.max_pool2d(CONV1_MAPS, 3, stride=2, padding=1)
    assert torch.equal(out, POOL1_MAPS)


def test_second_conv_layer():
    """Lines 1239-1285: two 3x3x3 filters, the same 3x3 values on each of the 3
    input maps (left-minus-right, top-minus-bottom), stride 1, padding 1, no bias,
    ReLU.

    The extracted filter tables are garbled (drawn as stacks of three slices,
    lines 1243-1251); this reading reproduces the slide's first map exactly.
    Erratum: the slide's second map ends with 20 31 35 25; the correct bottom row
    is 21 32 36 25. The diamond is symmetric about its diagonal, so the second map
    must be the transpose of the first, whose right column is 21 32 36 25.
    """
    w = grid([LEFT_MINUS_RIGHT, TOP_MINUS_BOTTOM])[:, None].expand(2, 3, 3, 3)
    out = ops.relu(ops.conv2d(POOL1_MAPS, w, padding=1))
    assert torch.equal(out, CONV2_MAPS)
    assert torch.equal(out[0, 1], out[0, 0].T)


def test_second_pooling_layer():
    """Lines 1287-1307: 3x3 max pooling, stride 2, padding 1, gives 2x2 maps.

    Erratum (carried over from the conv slip): the slide shows the second map as
    0 0 / 31 35; it is 0 0 / 32 36. The first map (0 32 / 0 36) is not in the
    extracted text.
    """
    out = ops.max_pool2d(CONV2_MAPS, 3, stride=2, padding=1)
    assert torch.equal(out, POOL2_MAPS)


def flatten_column_by_column(maps: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C*H*W), reading each map column after column.

    The flattening picture of the slide is lost. This order (map 1 then map 2,
    each read down its columns) is the one for which the slide's weights give its
    -68 and 7; torch's row-by-row flatten gives -4, 41, 71 instead.
    """
    return maps.transpose(-2, -1).flatten(1)


def test_fully_connected_layer_and_softmax():
    """Lines 1309-1326: a 3-neuron fully connected layer on the 8 flattened
    values, then a softmax.

    The extracted weight table has 10 columns; the first 8 are read as the
    weights and the last as the bias (0, 5, 3); the ninth (0, 0, 1) matches no
    input and is taken as an extraction artefact. Erratum: the slide gives
    -68, 104 and 7 before the softmax; with the corrected second map the middle
    output is 105 (= 32 + 36 + 0 + 32 + 5). The softmax is (0, 1, 0) either way.
    """
    x = flatten_column_by_column(POOL2_MAPS)
    assert torch.equal(x, grid([[0, 0, 32, 36, 0, 32, 0, 36]]))
    scores = ops.linear(x, FC_WEIGHT, FC_BIAS)
    assert torch.equal(scores, grid([[-68, 105, 7]]))  # slide: -68, 104, 7
    probabilities = ops.softmax(scores, dim=1)
    torch.testing.assert_close(probabilities, grid([[0, 1, 0]]), atol=1e-40, rtol=0)
    assert torch.argmax(probabilities).item() == 1


def test_whole_forward_pass_end_to_end():
    """The five steps chained, from the 8x8 diamond to the class probabilities."""
    w1 = conv1_weight([BOX, LEFT_MINUS_RIGHT, TOP_MINUS_BOTTOM])
    w2 = grid([LEFT_MINUS_RIGHT, TOP_MINUS_BOTTOM])[:, None].expand(2, 3, 3, 3)
    x = ops.relu(ops.conv2d(DIAMOND, w1, padding=1))
    x = ops.max_pool2d(x, 3, stride=2, padding=1)
    x = ops.relu(ops.conv2d(x, w2, padding=1))
    x = ops.max_pool2d(x, 3, stride=2, padding=1)
    scores = ops.linear(flatten_column_by_column(x), FC_WEIGHT, FC_BIAS)
    assert scores.tolist() == [[-68.0, 105.0, 7.0]]
