"""U-Net (Ronneberger, Fischer & Brox 2015): a contracting path, an expanding path,
and skip connections that crop and concatenate.

Each level applies two 3x3 convolutions with ReLU. Going down, 2x2 max pooling
halves the maps and the next level doubles the channels (64 -> 128 -> ... -> 1024).
Going up, a 2x2 up-convolution (transposed convolution, stride 2) doubles the maps
and halves the channels; the result is concatenated with the encoder's maps of the
same level, which are cropped first because unpadded convolutions lose a border.
A final 1x1 convolution gives one score map per class.
"""

import torch
from torch import Tensor

from cnnlib import nn


def double_conv(
    in_channels: int, out_channels: int, padding: int = 0, batch_norm: bool = False
) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by ReLU (and BN before it, if asked).

    With ``padding=0`` (the paper) each convolution trims one pixel per side, so
    the block maps H x W to (H - 4) x (W - 4); with ``padding=1`` it keeps H x W.
    """
    layers: list[nn.Module] = []
    for c_in in (in_channels, out_channels):
        layers.append(
            nn.Conv2d(c_in, out_channels, 3, padding=padding, bias=not batch_norm)
        )
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def center_crop(x: Tensor, height: int, width: int) -> Tensor:
    """The central ``height x width`` window of a batch of maps (N, C, H, W)."""
    top = (x.shape[-2] - height) // 2
    left = (x.shape[-1] - width) // 2
    return x[..., top : top + height, left : left + width]  # (N, C, height, width)


def unet_output_size(input_size: int, depth: int = 4, padding: int = 0) -> int:
    """Side of U-Net's output map for a square input, or ValueError if invalid.

    Each double conv loses ``4 - 4 * padding`` pixels; each pooling needs an even
    size and halves it; each up-convolution doubles it. A valid input is one for
    which every pooling sees an even size (572, 188, ... for the unpadded
    depth-4 net; any multiple of 16 for the padded one).

    Example:
        >>> unet_output_size(572)
        388
        >>> unet_output_size(64, padding=1)
        64
    """
    loss = 4 - 4 * padding
    size = input_size
    for level in range(depth):
        size -= loss
        if size <= 0 or size % 2:
            raise ValueError(
                f"input size {input_size}: level {level} gives odd or empty maps "
                f"({size}) before 2x2 pooling"
            )
        size //= 2
    size -= loss  # bottom of the U
    for _ in range(depth):
        size = 2 * size - loss
    if size <= 0:
        raise ValueError(f"input size {input_size} is too small for depth {depth}")
    return size


class UNet(nn.Module):
    """U-Net; see :func:`unet`.

    Args:
        num_classes: output score maps.
        in_channels: channels of the input image.
        base_channels: channels of the first level (64 in the paper); level i has
            ``base_channels * 2**i``.
        depth: number of poolings (4 in the paper: five levels).
        padding: 0 (the paper: output smaller than input) or 1 (same size).
        batch_norm: batch norm in every double conv (not in the paper).
    """

    def __init__(
        self,
        num_classes: int = 2,
        in_channels: int = 1,
        base_channels: int = 64,
        depth: int = 4,
        padding: int = 0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        c_in = in_channels
        for width in widths[:-1]:
            self.down.append(double_conv(c_in, width, padding, batch_norm))
            c_in = width
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.bottom = double_conv(widths[-2], widths[-1], padding, batch_norm)
        self.upconvs = nn.ModuleList()
        self.up = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.upconvs.append(nn.ConvTranspose2d(2 * width, width, 2, stride=2))
            # input: `width` upsampled channels + `width` skip channels
            self.up.append(double_conv(2 * width, width, padding, batch_norm))
        self.head = nn.Conv2d(base_channels, num_classes, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        # Paper sizes (unpadded, depth 4), x: (N, C_in, 572, 572)
        skips = []
        for block in self.down:
            x = block(x)  # (N, 64, 568, 568), (N, 128, 280, 280), ..., 512 @ 64
            skips.append(x)
            x = self.pool(x)  # (N, 64, 284, 284), ..., (N, 512, 32, 32)
        x = self.bottom(x)  # (N, 1024, 28, 28)
        levels = zip(self.upconvs, self.up, reversed(skips), strict=True)
        for upconv, block, skip in levels:
            x = upconv(x)  # (N, 512, 56, 56), ..., (N, 64, 392, 392)
            skip = center_crop(skip, x.shape[-2], x.shape[-1])
            x = torch.cat([skip, x], dim=1)  # (N, 1024, 56, 56), ...
            x = block(x)  # (N, 512, 52, 52), ..., (N, 64, 388, 388)
        return self.head(x)  # (N, num_classes, 388, 388)


def unet(
    num_classes: int = 2,
    in_channels: int = 1,
    base_channels: int = 64,
    depth: int = 4,
    padding: int = 0,
    batch_norm: bool = False,
) -> UNet:
    """U-Net as in the paper's Fig. 1: 31,030,658 parameters (1 channel, 2 classes).

    With the defaults (``padding=0``) the convolutions are unpadded: a 572x572
    input gives 388x388 score maps, the prediction for the central part of the
    input (the paper tiles large images this way, mirroring the borders). Valid
    sizes are those :func:`unet_output_size` accepts. ``padding=1`` gives the
    common "same" variant: any size divisible by ``2**depth``, output the size of
    the input, no cropping needed. ``base_channels`` and ``depth`` shrink the net
    for CPU training, e.g. ``unet(base_channels=16, depth=3, padding=1)``.

    Departures from the paper: the paper also puts dropout at the end of the
    contracting path (without giving the rate); we leave it out (it has no
    parameters). Its weighted loss for touching cells, data augmentation and
    initialisation belong to training. ``batch_norm=True`` adds batch norm, a
    later common addition.

    Args:
        num_classes: output score maps (logits per pixel).
        in_channels: channels of the input image.
        base_channels: channels of the first level (64 in the paper).
        depth: number of 2x2 poolings (4 in the paper).
        padding: 0 (the paper) or 1 ("same" convolutions).
        batch_norm: batch norm after every 3x3 convolution.

    Shape:
        input (N, in_channels, H, W); output (N, num_classes, H_out, W_out),
        ``H_out = unet_output_size(H, depth, padding)``.

    Reference: O. Ronneberger, P. Fischer, T. Brox, "U-Net: convolutional
    networks for biomedical image segmentation", MICCAI 2015.

    Example:
        >>> import torch
        >>> model = unet(base_channels=8, depth=2, padding=1)
        >>> model(torch.randn(1, 1, 32, 32)).shape
        torch.Size([1, 2, 32, 32])
    """
    if padding not in (0, 1):
        raise ValueError(f"padding must be 0 or 1, got {padding}")
    return UNet(num_classes, in_channels, base_channels, depth, padding, batch_norm)
