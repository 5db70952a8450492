"""Residual blocks (He et al. 2016) and their shortcuts.

A block computes ``F(x)`` with a few convolutions and adds a shortcut ``S(x)``:
``out = F(x) + S(x)``. ``S`` is the identity when ``F`` keeps the shape; when it
halves the size and widens the channels, the paper offers

* option A ("zero_pad"): subsample and pad the new channels with zeros, no
  parameters (the paper's CIFAR-10 networks);
* option B ("projection"): a 1x1 convolution with the stride, followed by batch
  norm (the paper's ImageNet networks, and torchvision's);
* and "none" gives the plain networks the paper compares against: no shortcut.

Two families: the original blocks (``conv -> BN -> ReLU``, addition, then ReLU)
and the pre-activation blocks of He et al. 2016b (``BN -> ReLU -> conv``, nothing
after the addition), in basic (two 3x3) and bottleneck (1x1, 3x3, 1x1) forms.
Every block takes ``(in_channels, width, stride, shortcut)`` and outputs
``width * expansion`` channels.
"""

from typing import Literal

import torch
from torch import Tensor

from cnnlib import nn

Shortcut = Literal["projection", "zero_pad", "none"]


class ZeroPadShortcut(nn.Module):
    """Option A: keep every ``stride``-th pixel and append zero channels.

    Args:
        in_channels: C_in.
        out_channels: C_out >= C_in; the extra C_out - C_in channels are zeros.
        stride: subsampling factor.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.extra = out_channels - in_channels
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # (N, C_in, H_out, W_out)
        n, _, h, w = x.shape
        zeros = x.new_zeros(n, self.extra, h, w)
        return torch.cat([x, zeros], dim=1)  # (N, C_out, H_out, W_out)


def make_shortcut(
    kind: Shortcut, in_channels: int, out_channels: int, stride: int, bn: bool = True
) -> nn.Module | None:
    """The shortcut ``S`` of a block: Identity if shapes match, else per ``kind``.

    Returns None for ``kind="none"`` (a plain block). ``bn=False`` leaves out the
    batch norm after a projection (pre-activation blocks project an input that
    is already normalised).
    """
    if kind == "none":
        return None
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    if kind == "zero_pad":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels)) if bn else conv


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias (the batch norm that follows has one)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int) -> nn.Conv2d:
    """1x1 convolution without bias."""
    return nn.Conv2d(in_channels, out_channels, 1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions (ResNet-18/34, CIFAR ResNets): Fig. 5 left."""

    expansion = 1
    preact = False

    def __init__(
        self,
        in_channels: int,
        width: int,
        stride: int = 1,
        shortcut: Shortcut = "projection",
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.shortcut = make_shortcut(shortcut, in_channels, width, stride)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, H, W)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, width, H/s, W/s)
        out = self.bn2(self.conv2(out))  # (N, width, H/s, W/s)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand to 4x width (ResNet-50/101/152): Fig. 5 right.

    The stride sits on the 3x3 convolution ("ResNet v1.5", as in torchvision and
    most later code); the paper puts it on the first 1x1, which then skips
    three quarters of its input. Parameter counts are the same either way.
    """

    expansion = 4
    preact = False

    def __init__(
        self,
        in_channels: int,
        width: int,
        stride: int = 1,
        shortcut: Shortcut = "projection",
    ) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut = make_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, H, W)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, width, H/s, W/s)
        out = self.bn3(self.conv3(out))  # (N, 4 * width, H/s, W/s)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class PreActBlock(nn.Module):
    """Pre-activation basic block: ``BN -> ReLU -> conv3x3`` twice, then add.

    Nothing follows the addition, so the identity path runs clean from block to
    block (He et al. 2016b, Fig. 1b). When the shape changes, the projection
    (a bare 1x1 conv) takes the normalised, activated input, as the first
    convolution does. ``dropout`` between the two convolutions is Wide ResNet's
    (Zagoruyko & Komodakis 2016); 0 leaves it out.
    """

    expansion = 1
    preact = True

    def __init__(
        self,
        in_channels: int,
        width: int,
        stride: int = 1,
        shortcut: Shortcut = "projection",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = conv3x3(width, width)
        self.relu = nn.ReLU()
        self.shortcut = make_shortcut(shortcut, in_channels, width, stride, bn=False)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, H, W)
        act = self.relu(self.bn1(x))
        out = self.conv1(act)  # (N, width, H/s, W/s)
        out = self.conv2(self.dropout(self.relu(self.bn2(out))))
        if self.shortcut is None:
            return out
        identity = isinstance(self.shortcut, nn.Identity)
        return out + (x if identity else self.shortcut(act))


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck: ``BN -> ReLU -> conv`` for 1x1, 3x3, 1x1 (x4)."""

    expansion = 4
    preact = True

    def __init__(
        self,
        in_channels: int,
        width: int,
        stride: int = 1,
        shortcut: Shortcut = "projection",
    ) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv1x1(in_channels, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn3 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.relu = nn.ReLU()
        self.shortcut = make_shortcut(
            shortcut, in_channels, out_channels, stride, bn=False
        )

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, H, W)
        act = self.relu(self.bn1(x))
        out = self.conv1(act)  # (N, width, H, W)
        out = self.conv2(self.relu(self.bn2(out)))  # (N, width, H/s, W/s)
        out = self.conv3(self.relu(self.bn3(out)))  # (N, 4 * width, H/s, W/s)
        if self.shortcut is None:
            return out
        identity = isinstance(self.shortcut, nn.Identity)
        return out + (x if identity else self.shortcut(act))
