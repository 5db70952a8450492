"""Worked stride and zero-padding examples of the lectures, recomputed with cnnlib."""

import pytest
import torch

from cnnlib import ops
from tests.lectures._slides import NG_IMAGE, VERTICAL_EDGE, grid, image, kernel

NG_7X7 = [
    [2, 3, 7, 4, 4, 2, 9],
    [6, 6, 9, 8, 7, 4, 3],
    [3, 4, 8, 3, 8, 9, 7],
    [7, 8, 3, 6, 6, 3, 4],
    [4, 2, 1, 8, 3, 4, 6],
    [3, 2, 4, 1, 9, 8, 3],
    [0, 1, 3, 9, 2, 1, 4],
]
NG_7X7_FILTER = [[3, 4, 4], [1, 0, 2], [-1, 0, 3]]


def test_deck002_stride_2_on_7x7_image():
    """002_986ea5cd83fecb5a.txt, "STRIDES", STRIDE = 2 (lines 600-732): a 7x7
    image and a 3x3 filter with stride 2 give a 3x3 map.

    Erratum: the slide's final map is 91 100 83 / 69 91 127 / 44 71 74. With the
    slide's own image and filter (the intermediate slides, lines 655-657 and
    683-685, show the windows and agree with the table used here) four entries
    are wrong: 100 -> 92, 83 -> 82, 127 -> 117 and 71 -> 72.
    """
    out = ops.conv2d(image(NG_7X7), kernel(NG_7X7_FILTER), stride=2)
    expected = grid(
        [
            [91, 92, 82],  # slide: 91 100 83
            [69, 91, 117],  # slide: 69 91 127
            [44, 72, 74],  # slide: 44 71 74
        ]
    )
    assert out.shape == (1, 1, 3, 3)
    assert torch.equal(out[0, 0], expected)


def test_deck002_padding_1_keeps_6x6():
    """002_986ea5cd83fecb5a.txt, "PADDING", PADDING = 1 (lines 749-815): the 6x6
    image padded to 8x8 and the vertical-edge filter give a 6x6 map.

    Errata: the slide prints -1 at row 3, column 3 (1-based) where the value is
    -2, and 7 and 16 at rows 4 and 5, column 5, where the values are -7 and -16.
    The inner 4x4 of the padded result must equal the unpadded result (the same
    windows), which the slide's own 4x4 map (-2 at that place) contradicts.
    """
    x = image(NG_IMAGE)
    w = kernel(VERTICAL_EDGE)
    out = ops.conv2d(x, w, padding=1)
    expected = grid(
        [
            [-5, -5, -6, -1, 6, 10],
            [-12, -5, -4, 0, 8, 11],
            [-13, -10, -2, 2, 3, 11],  # slide: -1 in the third column
            [-10, 0, -2, -4, -7, 10],  # slide: 7
            [-7, -3, -2, -3, -16, 12],  # slide: 16
            [-6, 0, -2, 1, -9, 5],
        ]
    )
    assert out.shape == (1, 1, 6, 6)
    assert torch.equal(out[0, 0], expected)
    assert torch.equal(out[..., 1:-1, 1:-1], ops.conv2d(x, w))


@pytest.mark.parametrize(("k", "p"), [(3, 1), (5, 2), (7, 3)])
def test_deck003_zero_padding_width_keeps_7x7(k, p):
    """003_fc1495183eff7abb.txt, "Ajout de zéros : zero padding" (lines 479-503):
    a 3x3 filter needs padding 1, a 5x5 padding 2, a 7x7 padding 3, for a 7x7
    input to give a 7x7 output; padding 2 turns the 7x7 original into 11x11."""
    x = torch.ones(1, 1, 7, 7, dtype=torch.float64)
    w = torch.ones(1, 1, k, k, dtype=torch.float64)
    assert ops.conv2d(x, w, padding=p).shape == (1, 1, 7, 7)
    if k == 5:
        # The padded grid itself: correlating with a 1x1 identity filter returns
        # the input with its ring of zeros.
        one = torch.ones(1, 1, 1, 1, dtype=torch.float64)
        padded = ops.conv2d(x, one, padding=p)
        assert padded.shape == (1, 1, 11, 11)
        assert padded.sum() == 49


def test_deck001_padding_1_adds_two_rows_and_two_columns():
    """001_555285b7037ab4ad.txt, "Stride et padding" (lines 1013-1018): a padding
    of 1 adds 2 rows and 2 columns (one at each end); a stride of 2 halves the
    image."""
    x = torch.ones(1, 1, 8, 8, dtype=torch.float64)
    one = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    assert ops.conv2d(x, one, padding=1).shape == (1, 1, 10, 10)
    w = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    assert ops.conv2d(x, w, padding=1, stride=2).shape == (1, 1, 4, 4)


def test_deck003_stride_3_does_not_fit_7x7():
    """003_fc1495183eff7abb.txt, "Pas (stride)" (lines 528-539): a 7x7 input, a
    3x3 filter and a stride of 3 do not tile: (7 - 3) / 3 + 1 = 2.33. Like torch,
    cnnlib crops (floor): 2x2, the last column and row are never read. One ring
    of zero padding makes it fit exactly: (7 + 2 - 3) / 3 + 1 = 3."""
    x = torch.arange(49, dtype=torch.float64).reshape(1, 1, 7, 7)
    w = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    cropped = ops.conv2d(x, w, stride=3)
    assert cropped.shape == (1, 1, 2, 2)
    assert torch.equal(cropped, ops.conv2d(x[..., :6, :6], w, stride=3))
    assert ops.conv2d(x, w, stride=3, padding=1).shape == (1, 1, 3, 3)
