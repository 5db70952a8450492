"""Worked pooling examples of the lectures, recomputed with ``cnnlib.ops``."""

import pytest
import torch

from cnnlib import nn, ops
from tests.lectures._slides import NG_IMAGE, grid, image

FERGUS_4X4 = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]


def test_deck001_max_pooling_2x2_on_4x4():
    """001_555285b7037ab4ad.txt, "Le pooling" (lines 1060-1081): 2x2 max pooling
    with stride 2 on the 4x4 example gives 6 8 / 3 4."""
    out = ops.max_pool2d(image(FERGUS_4X4), 2, stride=2)
    assert torch.equal(out[0, 0], grid([[6, 8], [3, 4]]))


def test_deck001_average_pooling_2x2_on_4x4():
    """001_555285b7037ab4ad.txt, "Le pooling" (lines 1083-1087): 2x2 average
    pooling with stride 2 on the same 4x4 example.

    Erratum: the slide prints 3 5 / 2 2. The top windows average
    (1 + 1 + 5 + 6) / 4 = 3.25 and (2 + 4 + 7 + 8) / 4 = 5.25; the slide kept
    only the integer part.
    """
    out = ops.avg_pool2d(image(FERGUS_4X4), 2, stride=2)
    assert torch.equal(out[0, 0], grid([[3.25, 5.25], [2, 2]]))  # slide: 3 5 / 2 2


def test_deck002_max_pooling_first_window_is_8():
    """002_986ea5cd83fecb5a.txt, "MAX POOLING" (lines 899-915):
    max[3, 1, 2, 0, 5, 7, 1, 8, 2] = 8 for the top-left 3x3 window."""
    out = ops.max_pool2d(image(NG_IMAGE), 3, stride=1)
    assert out[0, 0, 0, 0].item() == 8


def test_deck002_max_pooling_3x3_stride_1_on_6x6():
    """002_986ea5cd83fecb5a.txt, "MAX POOLING" (lines 975-1022): a 3x3 max-pooling
    window slid with stride 1 over the 6x6 image gives a 4x4 map.

    Erratum: the slide's last entry is 8; the bottom-right window
    (1 7 8 / 6 2 8 / 2 3 9) holds a 9.
    """
    out = ops.max_pool2d(image(NG_IMAGE), 3, stride=1)
    # The slide ends with 8 instead of 9.
    expected = grid([[8, 9, 9, 9], [8, 9, 9, 9], [7, 7, 7, 8], [5, 6, 7, 9]])
    assert torch.equal(out[0, 0], expected)


def test_deck003_pooling_adds_no_trainable_parameter():
    """003_fc1495183eff7abb.txt, "Max Pooling" (lines 659-670) and deck 002
    "DIMENSIONS FORMULA - POOLING LAYER": pooling has nothing to learn."""
    for layer in (nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2), nn.AvgPool2d(2)):
        assert sum(p.numel() for p in layer.parameters()) == 0


def test_deck003_max_pool_gradient_goes_to_the_max_only():
    """003_fc1495183eff7abb.txt, "Max Pooling" (lines 686-688), "comment se propage
    le gradient avec maxpooling ?": only the winner of each window gets it."""
    x = image(FERGUS_4X4).requires_grad_()
    ops.max_pool2d(x, 2, stride=2).sum().backward()
    winners = grid([[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]])
    assert torch.equal(x.grad[0, 0], winners)


def test_deck003_average_pool_gradient_reaches_every_cell():
    """003_fc1495183eff7abb.txt, "Average Pooling" (lines 705-709): unlike max
    pooling, the gradient reaches all cells, 1/4 each for 2x2 windows."""
    x = image(FERGUS_4X4).requires_grad_()
    ops.avg_pool2d(x, 2, stride=2).sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, 0.25))


def test_deck003_global_average_pooling_is_the_mean_of_each_map(rng):
    """003_fc1495183eff7abb.txt, "NiN" (lines 1012-1018): global average pooling
    replaces each final feature map by its mean, one number per map (per class),
    which goes straight to the softmax."""
    maps = torch.randn(2, 10, 6, 6, generator=rng, dtype=torch.float64)
    gap = ops.adaptive_avg_pool2d(maps, 1)
    assert gap.shape == (2, 10, 1, 1)
    torch.testing.assert_close(gap[..., 0, 0], maps.mean(dim=(-2, -1)))
    probabilities = ops.softmax(gap.flatten(1), dim=1)
    torch.testing.assert_close(
        probabilities.sum(dim=1), torch.ones(2, dtype=torch.float64)
    )


STOCHASTIC_INPUT = [[5, 3, 0, 3], [4, 0, 9, 4], [2, 4, 1, 2], [1, 3, 2, 3]]


def test_deck003_stochastic_pooling_test_time_is_probability_weighted_mean():
    """003_fc1495183eff7abb.txt, "Stochastic Pooling" (lines 716-742): at test
    time each window gives sum(p_i a_i) with p_i = a_i / sum(a). With the slide's
    probabilities (5/12 3/12 0 3/16 / ...), the four windows give 50/12, 106/16,
    30/10 and 18/8."""
    out = ops.stochastic_pool2d(image(STOCHASTIC_INPUT), 2, stride=2, training=False)
    expected = grid([[50 / 12, 106 / 16], [30 / 10, 18 / 8]])
    torch.testing.assert_close(out[0, 0], expected)


def test_deck003_stochastic_pooling_draws_with_slide_probabilities():
    """003_fc1495183eff7abb.txt, "Stochastic Pooling" (lines 716-738): during
    training each window outputs one of its values, drawn with probability
    proportional to it. The slide's probability table (top-left window 5/12,
    3/12, 4/12, 0; top-right 0, 3/16, 9/16, 4/16; bottom-left 2/10, 4/10, 1/10,
    3/10; bottom-right 1/8, 2/8, 2/8, 3/8) is checked on 4,000 draws, and the
    slide's example draw 4 9 / 3 2 is a possible outcome."""
    n_draws = 4000
    x = image(STOCHASTIC_INPUT).expand(n_draws, 1, 4, 4).contiguous()
    generator = torch.Generator().manual_seed(0)
    draws = ops.stochastic_pool2d(x, 2, stride=2, training=True, generator=generator)
    assert draws.shape == (n_draws, 1, 2, 2)
    windows = {
        (0, 0): {5: 5 / 12, 3: 3 / 12, 4: 4 / 12, 0: 0.0},
        (0, 1): {0: 0.0, 3: 3 / 16, 9: 9 / 16, 4: 4 / 16},
        (1, 0): {2: 2 / 10, 4: 4 / 10, 1: 1 / 10, 3: 3 / 10},
        (1, 1): {1: 1 / 8, 2: 4 / 8, 3: 3 / 8},  # the value 2 appears twice
    }
    slide_draw = {(0, 0): 4, (0, 1): 9, (1, 0): 3, (1, 1): 2}
    for (i, j), probabilities in windows.items():
        values = draws[:, 0, i, j]
        assert set(values.tolist()) <= set(probabilities)
        for value, p in probabilities.items():
            frequency = (values == value).double().mean().item()
            assert frequency == pytest.approx(p, abs=0.035)
        assert probabilities[slide_draw[(i, j)]] > 0
