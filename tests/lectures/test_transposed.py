"""Transposed-convolution (upsampling) exercises of deck 001, with cnnlib.

The slides build the output by pasting, for each input pixel, the filter scaled by
that pixel at the pixel's position (times the stride) and summing the overlaps.
That is exactly ``conv_transpose2d``; its weight has shape (C_in, C_out, KH, KW).
"""

import torch

from cnnlib import nn, ops
from tests.lectures._slides import grid, image, kernel


def test_deck001_transposed_conv_2x2_ones_filter_stride_1():
    """001_555285b7037ab4ad.txt, "Segmentation d'images" / "Branche ascendante -
    upsampling" (lines 1986-2005): 0 1 / 2 3 with a 2x2 filter of ones, no
    padding, stride 1, gives 0 1 1 / 2 6 4 / 2 5 3."""
    out = ops.conv_transpose2d(image([[0, 1], [2, 3]]), kernel([[1, 1], [1, 1]]))
    assert torch.equal(out[0, 0], grid([[0, 1, 1], [2, 6, 4], [2, 5, 3]]))


def test_deck001_transposed_conv_2x2_ones_filter_stride_2():
    """001_555285b7037ab4ad.txt, "Branche ascendante - upsampling" (lines
    2007-2026): the same with stride 2 turns the 2x2 input into a 4x4 output,
    each input value copied into its own 2x2 block.

    The extracted intermediate sums (line 2022) are garbled: the block of 1s is
    drawn under the block of 0s instead of to its right. The final 4x4 result is
    legible and correct.
    """
    out = ops.conv_transpose2d(
        image([[0, 1], [2, 3]]), kernel([[1, 1], [1, 1]]), stride=2
    )
    expected = grid([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    assert torch.equal(out[0, 0], expected)


def test_deck001_transposed_conv_exercise_3x3_filter():
    """001_555285b7037ab4ad.txt, "Branche ascendante - upsampling" / "Exercice"
    (lines 2028-2093): 2 1 / 4 4 with the 3x3 filter 1 4 1 / 1 4 3 / 3 3 1, no
    padding, stride 1: four shifted copies of the filter (scaled by 2, 1, 4, 4)
    that sum to a 4x4 map."""
    x = image([[2, 1], [4, 4]])
    w = kernel([[1, 4, 1], [1, 4, 3], [3, 3, 1]])
    out = ops.conv_transpose2d(x, w)
    expected = grid([[2, 9, 6, 1], [6, 29, 30, 7], [10, 29, 33, 13], [12, 24, 16, 4]])
    assert torch.equal(out[0, 0], expected)
    # The four partial products drawn on the slide, one per input pixel.
    partial = grid([[2, 8, 2, 0], [2, 8, 6, 0], [6, 6, 2, 0], [0, 0, 0, 0]])
    only_top_left = image([[2, 0], [0, 0]])
    assert torch.equal(ops.conv_transpose2d(only_top_left, w)[0, 0], partial)


def test_deck001_transposed_conv_layer_has_filter_parameters_only():
    """001_555285b7037ab4ad.txt, "Branche ascendante - upsampling": the filter
    coefficients are the learned weights; a 2x2 stride-2 layer doubles H and W."""
    layer = nn.ConvTranspose2d(512, 256, kernel_size=2, stride=2)
    assert layer.weight.shape == (512, 256, 2, 2)  # (C_in, C_out, KH, KW)
    out = layer(torch.zeros(1, 512, 4, 4))
    assert out.shape == (1, 256, 8, 8)
