"""Receptive-field claims of the lectures, measured with cnnlib's backward pass.

The receptive field of an output pixel is the set of input pixels it depends on:
the nonzero entries of the gradient of that output with respect to the input.
All-ones kernels keep every dependence visible (no cancellation).
"""

import torch

from cnnlib import nn, ops


def receptive_field(layers, size: int = 21) -> torch.Tensor:
    """Mask (size, size) of the input pixels seen by the centre output pixel."""
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for layer in layers:
        y = layer(y)
    centre = y.shape[-1] // 2
    y[0, 0, centre, centre].backward()
    return x.grad[0, 0] != 0


def extent(mask: torch.Tensor) -> tuple[int, int]:
    """Height and width of the bounding box of a mask."""
    rows = mask.any(dim=1).nonzero()
    cols = mask.any(dim=0).nonzero()
    return (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))


def conv3x3(dilation: int = 1):
    w = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    return lambda x: ops.conv2d(x, w, dilation=dilation)


def test_deck001_two_3x3_convs_see_5x5_three_see_7x7():
    """001_555285b7037ab4ad.txt, "L'architecture VGG16" (lines 1412-1418): two
    3x3 convolutions amount to one 5x5; the slide leaves the three-layer case as
    a question ("??"): 7x7. Deck 003 ("VGGNet", line 976) states the 7x7."""
    assert extent(receptive_field([conv3x3()])) == (3, 3)
    assert extent(receptive_field([conv3x3()] * 2)) == (5, 5)
    mask = receptive_field([conv3x3()] * 3)
    assert extent(mask) == (7, 7)
    assert int(mask.sum()) == 49  # every pixel of the 7x7 square


def test_deck003_receptive_field_grows_with_depth():
    """003_fc1495183eff7abb.txt, "Champ récepteur" (lines 594-597): each extra
    3x3 layer widens the field by 2; pooling widens it faster ("Pooling: augmente
    champ réceptif rapidement", line 746)."""
    sizes = [extent(receptive_field([conv3x3()] * n))[0] for n in range(1, 6)]
    assert sizes == [3, 5, 7, 9, 11]

    # Average pooling: its gradient reaches the whole window, whereas max pooling
    # sends it to one winner, which would hide part of the field.
    def pool(x):
        return ops.avg_pool2d(x, 2, stride=2)

    assert extent(receptive_field([conv3x3(), pool, conv3x3()], size=24))[0] == 8


def test_deck003_dilated_3x3_sees_5x5_with_9_parameters():
    """003_fc1495183eff7abb.txt, "Convolution « à trous »" (lines 602-618): a
    3x3 convolution with dilation 2 still has 9 weights ("Encore 9 paramètres")
    but spans 5x5 pixels, one pixel out of two in each direction."""
    layer = nn.Conv2d(1, 1, kernel_size=3, dilation=2, bias=False)
    assert layer.weight.numel() == 9
    mask = receptive_field([conv3x3(dilation=2)])
    assert extent(mask) == (5, 5)
    assert int(mask.sum()) == 9
    assert layer(torch.zeros(1, 1, 9, 9)).shape == (1, 1, 5, 5)
