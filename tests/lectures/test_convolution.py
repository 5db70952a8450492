"""Worked convolution examples of the lectures, recomputed with ``cnnlib.ops``.

Like the lectures and torch, "convolution" here means cross-correlation: the
kernel is not flipped. Where a slide really computes a flipped-kernel convolution,
the test flips the kernel (``flipped``) and says so.
"""

import pytest
import torch

from cnnlib import nn, ops
from tests.lectures._slides import NG_IMAGE, VERTICAL_EDGE, flipped, grid, image, kernel


def test_deck001_convolution_exercise_5x5_image_x_filter():
    """001_555285b7037ab4ad.txt, "Rappel sur la convolution" / "Exercice"
    (lines 899-944): 5x5 binary image, 3x3 "X" filter, borders not handled.

    The deck defines convolution with the kernel flipped, IC(x, y) =
    sum G(i, j) I(x - i, y - j); this filter is symmetric under a 180-degree
    rotation, so flipped and unflipped give the slide's 3x3 result.
    """
    x = image(
        [
            [1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0],
            [0, 0, 1, 1, 1],
            [0, 0, 1, 1, 0],
            [0, 1, 1, 0, 0],
        ]
    )
    w = kernel([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    expected = grid([[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert torch.equal(ops.conv2d(x, w)[0, 0], expected)
    assert torch.equal(ops.conv2d(x, flipped(w))[0, 0], expected)


def test_deck002_first_window_sum_is_minus_5():
    """002_986ea5cd83fecb5a.txt, "CONVOLUTION - HOW IT WORKS?" (lines 203-229 and
    261-313): the first window gives -5, the window one step right gives -4."""
    out = ops.conv2d(image(NG_IMAGE), kernel(VERTICAL_EDGE))
    assert out[0, 0, 0, 0].item() == -5
    assert out[0, 0, 0, 1].item() == -4


def test_deck002_vertical_edge_filter_on_6x6_image():
    """002_986ea5cd83fecb5a.txt, "CONVOLUTION - HOW IT WORKS?" (lines 317-346; the
    same 4x4 map is repeated on the "PADDING" slides, lines 747 and 764).

    Erratum: the slide prints 7 and 16 in the last column of the last two rows;
    the correct values are -7 and -16 (the windows there hold more on the right
    than on the left). Every other minus sign of the table survived extraction,
    in the plain and in the LaTeX renderings alike, so the signs are missing on
    the slide itself.
    """
    out = ops.conv2d(image(NG_IMAGE), kernel(VERTICAL_EDGE))
    expected = grid(
        [
            [-5, -4, 0, 8],
            [-10, -2, 2, 3],
            [0, -2, -4, -7],  # slide: 7
            [-3, -2, -3, -16],  # slide: 16
        ]
    )
    assert out.shape == (1, 1, 4, 4)
    assert torch.equal(out[0, 0], expected)


def test_deck002_edge_detection_10_0_image():
    """002_986ea5cd83fecb5a.txt, "EDGE DETECTION" (lines 348-376): the image is
    10 10 10 0 0 0 on its top three rows and 0 0 0 10 10 10 on the bottom three;
    the vertical-edge filter lights up the middle columns, with the sign of the
    step (+30 above, -30 below)."""
    x = image([[10, 10, 10, 0, 0, 0]] * 3 + [[0, 0, 0, 10, 10, 10]] * 3)
    out = ops.conv2d(x, kernel(VERTICAL_EDGE))
    expected = grid(
        [[0, 30, 30, 0], [0, 10, 10, 0], [0, -10, -10, 0], [0, -30, -30, 0]]
    )
    assert torch.equal(out[0, 0], expected)


def test_deck002_rgb_6x6x3_times_3x3x3_gives_4x4x1(rng):
    """002_986ea5cd83fecb5a.txt, "CONVOLUTION - CHANNELS" (lines 518-558): a
    6x6x3 image and one 3x3x3 filter give a 4x4x1 map, the sum over the channels
    of the per-channel correlations. Keras's (6, 6, 3) is (3, 6, 6) here."""
    x = torch.randn(1, 3, 6, 6, generator=rng, dtype=torch.float64)
    w = torch.randn(1, 3, 3, 3, generator=rng, dtype=torch.float64)
    out = ops.conv2d(x, w)
    assert out.shape == (1, 1, 4, 4)
    per_channel = [ops.conv2d(x[:, c : c + 1], w[:, c : c + 1]) for c in range(3)]
    torch.testing.assert_close(out, sum(per_channel))


def test_deck000_convolutional_layer_formula_sums_over_channels(rng):
    """000_c4798dc55d2a0700.txt, "Convolutional layer" (lines 81-91): one filter
    W of size (3, 3, n_ch) turns an (I, J, n_ch) image into a single-channel map
    R(i, j) = sum_c sum_x sum_y X(i + x, j + y, c) W(x, y, c), x, y in {-1, 0, 1}.

    With the offsets centred on (i, j), R is defined at the pixels whose whole
    neighbourhood is inside the image: (I - 2, J - 2), as the slide warns.
    """
    n_ch, height, width = 4, 7, 9
    x = torch.randn(1, n_ch, height, width, generator=rng, dtype=torch.float64)
    w = torch.randn(1, n_ch, 3, 3, generator=rng, dtype=torch.float64)
    r = ops.conv2d(x, w)
    assert r.shape == (1, 1, height - 2, width - 2)
    # R at the pixel (i, j) = (2, 3) of the image is output (1, 2): the sum of the
    # elementwise product of the filter with the 3x3 neighbourhood, all channels.
    torch.testing.assert_close(r[0, 0, 1, 2], (x[0, :, 1:4, 2:5] * w[0]).sum())


def test_deck002_deck003_convolution_is_correlation_with_flipped_kernel():
    """002_986ea5cd83fecb5a.txt, "CONVOLUTION" (lines 475-484) and
    003_fc1495183eff7abb.txt, "Convolution *" (lines 84-98): convolution uses
    I(i - m, j - n), cross-correlation I(i + m, j + n) ("+ au lieu de -").

    On a single bright pixel (an impulse), the true convolution returns the kernel
    itself and the cross-correlation returns it rotated by 180 degrees.
    """
    k = kernel([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    impulse = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    impulse[0, 0, 2, 2] = 1.0
    correlation = ops.conv2d(impulse, k)
    convolution = ops.conv2d(impulse, flipped(k))
    assert torch.equal(convolution, k)
    assert torch.equal(correlation, flipped(k))


def test_deck003_true_convolution_is_commutative(rng):
    """003_fc1495183eff7abb.txt, "Convolution *" (lines 84-91): I * F = F * I for
    the true (flipped) convolution. Computed in "full" mode: pad by K - 1."""
    i = torch.randn(1, 1, 4, 4, generator=rng, dtype=torch.float64)
    f = torch.randn(1, 1, 3, 3, generator=rng, dtype=torch.float64)
    i_star_f = ops.conv2d(i, flipped(f), padding=2)  # (1, 1, 6, 6)
    f_star_i = ops.conv2d(f, flipped(i), padding=3)  # (1, 1, 6, 6)
    torch.testing.assert_close(i_star_f, f_star_i)


def test_deck003_sobel_example_on_4x7_patch():
    """003_fc1495183eff7abb.txt, "Exemple « convolution »" (lines 100-116): the
    filter F1 = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] on a 4x7 patch gives a 2x5 map.

    The slide shows the first four columns (-26 -533 -517 -28 / -29 -505 -513
    -25) and leaves the fifth empty; cnnlib fills it with -2 and -10.
    """
    x = image(
        [
            [207, 210, 195, 63, 57, 56, 59],
            [204, 212, 197, 82, 76, 74, 75],
            [202, 198, 202, 72, 65, 67, 63],
            [209, 201, 187, 78, 69, 71, 64],
        ]
    )
    f1 = kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    out = ops.conv2d(x, f1)
    expected = grid([[-26, -533, -517, -28, -2], [-29, -505, -513, -25, -10]])
    assert torch.equal(out[0, 0], expected)


def test_deck003_hand_tuned_edge_and_blur_filters():
    """003_fc1495183eff7abb.txt, "Exemples filtres hand-tuned" (lines 143-176):
    the vertical-edge filter answers a vertical step and ignores a horizontal one,
    the horizontal-edge filter the other way round; a normalised 5x5 box blur
    leaves a flat image unchanged (the slide's pictures are lost; these are the
    properties the filters are shown for)."""
    vertical = kernel([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]])
    horizontal = kernel([[-1, -1, -1], [0, 0, 0], [1, 1, 1]])
    left_right_step = image([[0, 0, 0, 1, 1, 1]] * 6)
    top_bottom_step = left_right_step.transpose(-2, -1)
    assert ops.conv2d(left_right_step, vertical).abs().sum() > 0
    assert ops.conv2d(left_right_step, horizontal).abs().sum() == 0
    assert ops.conv2d(top_bottom_step, horizontal).abs().sum() > 0
    assert ops.conv2d(top_bottom_step, vertical).abs().sum() == 0
    blur = torch.ones(1, 1, 5, 5, dtype=torch.float64) / 25
    flat = torch.full((1, 1, 9, 9), 7.0, dtype=torch.float64)
    torch.testing.assert_close(
        ops.conv2d(flat, blur), torch.full_like(flat[..., 4:, 4:], 7.0)
    )


def test_deck003_conv2d_groups_2_is_two_convs_side_by_side(rng):
    """003_fc1495183eff7abb.txt, "Conv2d" (lines 620-643): with groups=2 the layer
    is two convolutions side by side, each seeing half the input channels and
    producing half the output channels, concatenated."""
    x = torch.randn(2, 4, 6, 6, generator=rng, dtype=torch.float64)
    # weight: (C_out, C_in / groups, KH, KW)
    w = torch.randn(6, 2, 3, 3, generator=rng, dtype=torch.float64)
    grouped = ops.conv2d(x, w, groups=2)
    side_by_side = torch.cat(
        [ops.conv2d(x[:, :2], w[:3]), ops.conv2d(x[:, 2:], w[3:])], dim=1
    )
    torch.testing.assert_close(grouped, side_by_side)


def test_deck003_conv1d_on_text_7_words_give_5(rng):
    """003_fc1495183eff7abb.txt, "Utiliser des CNNs pour autre chose?" /
    "Convolutions 1D sur du texte" (lines 818-857): a width-3 1-D filter over 7
    embedded words ("the actual service was not very good") gives 5 outputs."""
    embedding_dim, n_words, n_filters = 8, 7, 4
    words = torch.randn(1, embedding_dim, n_words, generator=rng, dtype=torch.float64)
    w = torch.randn(n_filters, embedding_dim, 3, generator=rng, dtype=torch.float64)
    out = ops.conv1d(words, w)
    assert out.shape == (1, n_filters, 5)
    # Max pooling over time then keeps one number per filter, whatever the length.
    assert out.amax(dim=-1).shape == (1, n_filters)


def test_deck004_padding_example_7x7_padded_input():
    """004_d2be02630f12ba3f.txt, "Le padding" / "L'intérêt du padding"
    (lines 378-408): a 5x5 binary image padded with one ring of zeros (7x7 shown)
    and a 3x3 filter give a 5x5 feature map.

    The extracted text keeps the padded input and the 5x5 map (printed under the
    "Filter" label) but not the filter itself. [[0, 1, 0], [1, 0, 1], [1, 0, 1]]
    is the only 3x3 filter that reproduces all 25 values of the map (the 25
    equations in 9 unknowns have full rank), so it is used here.
    """
    padded = grid(
        [
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 1, 0, 1, 0, 0],
            [0, 1, 0, 1, 0, 1, 0],
            [0, 1, 0, 1, 0, 1, 0],
            [0, 0, 1, 0, 1, 0, 0],
            [0, 0, 1, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ]
    )
    w = kernel([[0, 1, 0], [1, 0, 1], [1, 0, 1]])
    feature_map = grid(
        [
            [1, 2, 2, 2, 1],
            [0, 5, 0, 5, 0],
            [2, 2, 3, 2, 2],
            [3, 0, 5, 0, 3],
            [1, 1, 2, 1, 1],
        ]
    )
    unpadded = padded[1:-1, 1:-1][None, None]
    assert torch.equal(ops.conv2d(unpadded, w, padding=1)[0, 0], feature_map)
    assert torch.equal(ops.conv2d(padded[None, None], w)[0, 0], feature_map)


@pytest.mark.parametrize("impl", ["scratch", "native"])
def test_deck002_vertical_edge_example_through_the_conv2d_layer(impl):
    """002_986ea5cd83fecb5a.txt, "CONVOLUTION - HOW IT WORKS?": the same 4x4 map
    from a ``cnnlib.nn.Conv2d`` layer holding the slide's filter, whichever
    implementation runs it."""
    layer = nn.Conv2d(1, 1, kernel_size=3, bias=False, dtype=torch.float64, impl=impl)
    with torch.no_grad():
        layer.weight.copy_(kernel(VERTICAL_EDGE))
    out = layer(image(NG_IMAGE))
    assert torch.equal(out, ops.conv2d(image(NG_IMAGE), kernel(VERTICAL_EDGE)))
    assert out[0, 0, 3].tolist() == [-3, -2, -3, -16]
