"""Network in Network (Lin, Chen & Yan 2013): mlpconv blocks and global average
pooling instead of fully connected layers.

An mlpconv block is a k x k convolution followed by two 1x1 convolutions, each with
a ReLU: a small MLP slid over every position. The last block outputs one map per
class, and global average pooling turns each map into that class's score.
"""

from collections.abc import Sequence

from torch import Tensor

from cnnlib import nn


def mlpconv(
    in_channels: int, channels: Sequence[int], kernel_size: int, relu_last: bool = True
) -> nn.Sequential:
    """One mlpconv block: ``k x k conv -> ReLU -> 1x1 conv -> ReLU -> 1x1 conv``.

    Args:
        in_channels: C_in of the block's input.
        channels: output channels of the k x k conv and of the two 1x1 convs.
        kernel_size: k of the first convolution ("same" padding, stride 1).
        relu_last: end with a ReLU; the last block of ``nin`` keeps its class
            maps unrectified here, so the scores can be negative.

    Example:
        >>> import torch
        >>> mlpconv(3, (16, 8, 8), kernel_size=5)(torch.randn(1, 3, 32, 32)).shape
        torch.Size([1, 8, 32, 32])
    """
    first, second, third = channels
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, first, kernel_size, padding=kernel_size // 2),
        nn.ReLU(),
        nn.Conv2d(first, second, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(second, third, kernel_size=1),
    ]
    if relu_last:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class NiN(nn.Module):
    """Three mlpconv blocks, two poolings, global average pooling; see :func:`nin`.

    Args:
        num_classes: number of outputs (class maps of the last block).
        in_channels: channels of the input image.
        widths: channels of the first two blocks, as ((k x k, 1x1, 1x1), ...),
            and the k x k and first 1x1 widths of the third block.
        dropout: drop probability after the first two blocks.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        widths: Sequence[Sequence[int]] = ((192, 160, 96), (192, 192, 192), (192, 192)),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        (a1, a2, a3), (b1, b2, b3), (c1, c2) = widths
        # The paper: "max pooling, which downsamples by a factor of two"; 3x3
        # windows with stride 2 and padding 1 halve 32 -> 16 -> 8.
        self.features = nn.Sequential(
            mlpconv(in_channels, (a1, a2, a3), kernel_size=5),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            nn.Dropout(dropout),
            mlpconv(a3, (b1, b2, b3), kernel_size=5),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            nn.Dropout(dropout),
            mlpconv(b3, (c1, c2, num_classes), kernel_size=3, relu_last=False),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)  # global average pooling
        self.flatten = nn.Flatten()

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, 32, 32)
        # block 1 -> (N, 96, 32, 32), pool -> (N, 96, 16, 16)
        # block 2 -> (N, 192, 16, 16), pool -> (N, 192, 8, 8)
        # block 3 -> (N, num_classes, 8, 8): one confidence map per class
        x = self.features(x)
        x = self.pool(x)  # (N, num_classes, 1, 1)
        return self.flatten(x)  # (N, num_classes)


def nin(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.5) -> NiN:
    """Network in Network for CIFAR-10: three mlpconv blocks, 966,986 parameters.

    Departures from the paper: the paper does not list the layer widths; we use
    those of the authors' released CIFAR-10 model (192-160-96, 192-192-192,
    192-192-10). That model's second pooling is an average pooling and its
    pooling rounds sizes up; we follow the paper's text (max pooling halving
    the size, here by padding 1). The paper's last 1x1 layer is followed by a
    ReLU before the global average pooling; we leave it out so scores can be
    negative logits (the usual choice with a cross-entropy loss).

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        dropout: drop probability after the first two mlpconv blocks.

    Shape:
        input (N, in_channels, H, W), e.g. 32x32; output (N, num_classes).

    Reference: M. Lin, Q. Chen, S. Yan, "Network in network", ICLR 2014
    (arXiv:1312.4400, 2013).

    Example:
        >>> import torch
        >>> nin()(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    return NiN(num_classes, in_channels, dropout=dropout)


def nin_small(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.3) -> NiN:
    """A CPU-size Network in Network: the same blocks at a quarter of the width.

    Widths 32-32-32, 48-48-48, 48-48-num_classes (our choice, not the paper's):
    71,322 parameters for 10 classes, 17M multiply-adds per 32x32 image.

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        dropout: drop probability after the first two mlpconv blocks.

    Shape:
        input (N, in_channels, H, W), e.g. 32x32; output (N, num_classes).

    Reference: M. Lin, Q. Chen, S. Yan, ICLR 2014 (the design it scales down).

    Example:
        >>> import torch
        >>> nin_small()(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    widths = ((32, 32, 32), (48, 48, 48), (48, 48))
    return NiN(num_classes, in_channels, widths=widths, dropout=dropout)
