"""The residual block of decks 001 and 002, checked with cnnlib layers."""

import torch

from cnnlib import nn, ops


def block_parts(channels: int = 4):
    """The two "same"-padded 3x3 convolutions of a basic residual block."""
    conv1 = nn.Conv2d(channels, channels, 3, padding="same")
    conv2 = nn.Conv2d(channels, channels, 3, padding="same")
    return conv1, conv2


def residual(x, conv1, conv2):
    """a[l+2] = ReLU(z[l+2] + a[l]) with z[l+2] = Conv(ReLU(Conv(a[l])))."""
    a1 = ops.relu(conv1(x))
    z2 = conv2(a1)
    return ops.relu(z2 + x)


def test_deck001_deck002_zero_residual_gives_the_identity(rng):
    """001_555285b7037ab4ad.txt, "L'architecture Resnet" (lines 1769-1782) and
    002_986ea5cd83fecb5a.txt, "RESNET BLOCK" (lines 1183-1211): H(x) = F(x) + x;
    with F forced to zero the block passes its (post-ReLU, so non-negative) input
    through unchanged, and the skip connection adds no parameter."""
    conv1, conv2 = block_parts()
    with torch.no_grad():
        conv2.weight.zero_()
        conv2.bias.zero_()
    x = torch.rand(2, 4, 8, 8, generator=rng)
    torch.testing.assert_close(residual(x, conv1, conv2), x)
    params = sum(p.numel() for m in (conv1, conv2) for p in m.parameters())
    assert params == 2 * (3 * 3 * 4 * 4 + 4)  # the convolutions only


def test_deck002_relu_goes_around_the_sum():
    """002_986ea5cd83fecb5a.txt, "RESNET BLOCK - PROPERTIES" (lines 1253-1262):
    a[l+2] = ReLU(z[l+2] + a[l]).

    Formula slip: the slide then rewrites it as ReLU(w[l+1] a[l+1] + b[l+1]) +
    a[l], with a[l] outside the ReLU and the indices of layer l+1; it is
    ReLU(w[l+2] a[l+1] + b[l+2] + a[l]). The two differ as soon as z[l+2] < 0.
    """
    z = torch.tensor([-3.0, -1.0, 2.0])
    a = torch.tensor([1.0, 2.0, 0.5])
    assert ops.relu(z + a).tolist() == [0.0, 1.0, 2.5]
    assert (ops.relu(z) + a).tolist() == [1.0, 2.0, 2.5]
