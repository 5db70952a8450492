"""The Inception module (Szegedy et al. 2015) and what it costs.

An Inception module runs four branches side by side on the same input and
concatenates their outputs along the channels:

* a 1x1 convolution;
* a 3x3 convolution, optionally after a 1x1 "reduction" to fewer channels;
* a 5x5 convolution, optionally after a 1x1 reduction;
* a 3x3 max pooling (stride 1), optionally followed by a 1x1 "projection".

Without the 1x1 layers it is the paper's "naive" module (Fig. 2a); with them the
"dimension reduction" module (Fig. 2b) that GoogLeNet stacks. The 1x1 reductions
are what make it affordable: :func:`conv2d_cost` and :func:`inception_cost` count
parameters and multiply-adds to show by how much.
"""

from dataclasses import dataclass

import torch
from torch import Tensor

from cnnlib import nn


def conv_relu(
    in_channels: int, out_channels: int, kernel_size: int, batch_norm: bool = False
) -> nn.Sequential:
    """A "same"-padded stride-1 convolution followed by ReLU (and BN before it).

    With ``batch_norm=True`` the conv bias is dropped: BN's shift replaces it.
    """
    conv = nn.Conv2d(
        in_channels,
        out_channels,
        kernel_size,
        padding=kernel_size // 2,
        bias=not batch_norm,
    )
    if batch_norm:
        return nn.Sequential(conv, nn.BatchNorm2d(out_channels), nn.ReLU())
    return nn.Sequential(conv, nn.ReLU())


class Inception(nn.Module):
    """Inception module; the arguments are the columns of the paper's Table 1.

    Args:
        in_channels: C_in of the input.
        ch1x1: outputs of the 1x1 branch ("#1x1").
        ch3x3red: outputs of the 1x1 reduction before the 3x3 conv ("#3x3
            reduce"); None for no reduction (naive form).
        ch3x3: outputs of the 3x3 branch ("#3x3").
        ch5x5red: outputs of the 1x1 reduction before the 5x5 conv; None for none.
        ch5x5: outputs of the 5x5 branch ("#5x5").
        pool_proj: outputs of the 1x1 projection after the max pooling ("pool
            proj"); None to pass the pooled input through (naive form).
        batch_norm: batch norm after every convolution. Not in the paper (it came
            with Inception v2, Ioffe & Szegedy 2015); useful for small variants.

    Shape:
        input (N, C_in, H, W); output (N, out_channels, H, W) with
        ``out_channels = ch1x1 + ch3x3 + ch5x5 + (pool_proj or C_in)``.

    Reference: C. Szegedy et al., "Going deeper with convolutions", CVPR 2015.

    Example:
        >>> import torch
        >>> block = Inception(192, 64, 96, 128, 16, 32, 32)  # inception (3a)
        >>> block(torch.randn(1, 192, 28, 28)).shape
        torch.Size([1, 256, 28, 28])
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int | None,
        ch3x3: int,
        ch5x5red: int | None,
        ch5x5: int,
        pool_proj: int | None,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()

        def reduced(ch_red: int | None, ch_out: int, k: int) -> nn.Sequential:
            if ch_red is None:  # naive: the k x k conv sees all input channels
                return conv_relu(in_channels, ch_out, k, batch_norm)
            return nn.Sequential(
                conv_relu(in_channels, ch_red, 1, batch_norm),
                conv_relu(ch_red, ch_out, k, batch_norm),
            )

        self.branch1 = conv_relu(in_channels, ch1x1, 1, batch_norm)
        self.branch2 = reduced(ch3x3red, ch3x3, 3)
        self.branch3 = reduced(ch5x5red, ch5x5, 5)
        pool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        if pool_proj is None:
            self.branch4 = nn.Sequential(pool)
        else:
            self.branch4 = nn.Sequential(
                pool, conv_relu(in_channels, pool_proj, 1, batch_norm)
            )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + (pool_proj or in_channels)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, H, W); every branch keeps H x W
        branches = [self.branch1, self.branch2, self.branch3, self.branch4]
        outputs = [branch(x) for branch in branches]  # (N, C_branch, H, W) each
        return torch.cat(outputs, dim=1)  # (N, out_channels, H, W)


def naive_inception(
    in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int, batch_norm: bool = False
) -> Inception:
    """The naive Inception module of the paper's Fig. 2a: no 1x1 reductions.

    Its output keeps all C_in pooled channels, so stacking it makes the width (and
    the cost of the next 5x5 convolution) grow with every module.

    Example:
        >>> import torch
        >>> block = naive_inception(192, 64, 128, 32)
        >>> block(torch.randn(1, 192, 28, 28)).shape
        torch.Size([1, 416, 28, 28])
    """
    return Inception(in_channels, ch1x1, None, ch3x3, None, ch5x5, None, batch_norm)


@dataclass(frozen=True)
class Cost:
    """Parameters and multiply-adds of a layer or block for one input image.

    Costs add up: ``cost_a + cost_b`` is the cost of running both.
    """

    params: int
    mult_adds: int

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.params + other.params, self.mult_adds + other.mult_adds)


def conv2d_cost(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    height_out: int,
    width_out: int,
    bias: bool = True,
) -> Cost:
    """Parameters and multiply-adds of one convolution, for one image.

    Each of the ``H_out * W_out * C_out`` outputs takes ``C_in * KH * KW``
    multiplications (each followed by an addition), so
    ``mult_adds = H_out * W_out * C_out * C_in * KH * KW``; the bias adds one
    addition per output but no multiplication, and is not counted there.

    Example: a 5x5 convolution from 28x28x192 to 28x28x32, directly and after a
    1x1 bottleneck to 16 channels (ten times fewer multiplications):

        >>> conv2d_cost(192, 32, 5, 28, 28).mult_adds
        120422400
        >>> (conv2d_cost(192, 16, 1, 28, 28) + conv2d_cost(16, 32, 5, 28, 28)).mult_adds
        12443648
    """
    weights = out_channels * in_channels * kernel_size * kernel_size
    params = weights + (out_channels if bias else 0)
    return Cost(params, weights * height_out * width_out)


def inception_cost(block: Inception, height: int, width: int) -> Cost:
    """Parameters and multiply-adds of an Inception module on an H x W input.

    Every convolution in the module has stride 1 and "same" padding, so each one
    produces H x W outputs per channel. The max pooling and ReLUs have no
    parameters and no multiplications (batch norm, when on, is not counted).

    Example (inception (3a) on 28x28 maps: 128M in the paper's Table 1):
        >>> block = Inception(192, 64, 96, 128, 16, 32, 32)
        >>> inception_cost(block, 28, 28)
        Cost(params=163696, mult_adds=128049152)
    """
    total = Cost(0, 0)
    for module in block.modules():
        if isinstance(module, nn.Conv2d):
            c_out, c_in, kh, kw = module.weight.shape
            assert kh == kw and module.stride == (1, 1), "Inception convs only"
            bias = module.bias is not None
            total = total + conv2d_cost(c_in, c_out, kh, height, width, bias)
    return total
