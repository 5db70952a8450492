"""ResNets for 32x32 images: the CIFAR-10 ResNets of He et al. 2016 (section 4.2)
and Wide ResNets (Zagoruyko & Komodakis 2016).

Both use the CIFAR layout of :class:`~cnnlib.models.resnet.ResNet`: a 3x3 stem, then
three stages on 32x32, 16x16 and 8x8 maps.
"""

from cnnlib.models.resnet import ResNet
from cnnlib.models.resnet_blocks import BasicBlock, PreActBlock, Shortcut


def resnet_cifar(
    depth: int = 20,
    num_classes: int = 10,
    in_channels: int = 3,
    shortcut: Shortcut = "zero_pad",
    width: int = 16,
) -> ResNet:
    """The CIFAR-10 ResNets of the paper's section 4.2: depth 6n + 2.

    A 3x3 conv, then three stages of n basic blocks with 16, 32, 64 filters on
    32x32, 16x16, 8x8 maps, global average pooling and a linear layer. The
    shortcuts are option A (``"zero_pad"``, no parameters) as in the paper;
    ``"none"`` gives its plain-20/32/44/56 networks. ResNet-20 has 269,722
    parameters (the paper's "0.27M") and takes 41M multiply-adds per image;
    ``width=8`` makes it four times cheaper for quick CPU runs.

    Args:
        depth: 6n + 2: 20, 32, 44, 56, 110, ...
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        shortcut: "zero_pad" (option A), "projection" (option B) or "none".
        width: filters of the first stage (16 in the paper); the others double.

    Shape:
        input (N, in_channels, 32, 32); output (N, num_classes).

    Reference: K. He et al., CVPR 2016, section 4.2.

    Example:
        >>> import torch
        >>> resnet_cifar(20)(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (20, 32, 44, 56, 110...), got {depth}")
    n = (depth - 2) // 6
    widths = (width, 2 * width, 4 * width)
    return ResNet(
        BasicBlock,
        (n, n, n),
        widths,
        num_classes,
        in_channels,
        stem="cifar",
        stem_channels=width,
        shortcut=shortcut,
    )


def resnet20(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-20 for 32x32 images: 269,722 parameters. See :func:`resnet_cifar`."""
    return resnet_cifar(20, num_classes, in_channels)


def wide_resnet(
    depth: int = 28,
    widen_factor: int = 10,
    num_classes: int = 10,
    in_channels: int = 3,
    dropout: float = 0.0,
) -> ResNet:
    """Wide ResNet WRN-d-k for 32x32 images: WRN-28-10 has 36,479,194 parameters.

    A pre-activation CIFAR ResNet whose three stages are k times wider (16k, 32k,
    64k filters) with (d - 4) / 6 basic blocks each; where the shape changes the
    shortcut is a bare 1x1 convolution. ``dropout`` sits between the two convs
    of each block (the paper's WRN-28-10 with dropout uses 0.3). With k = 1 this
    is the pre-activation ResNet of He et al. 2016b for CIFAR (1x1 projection
    shortcuts). The count above is for 10 classes; it is verified layer by layer
    in ``tests/models/test_resnet.py``.

    Args:
        depth: d = 6n + 4: 16, 22, 28, 40, ...
        widen_factor: k.
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        dropout: drop probability inside each block (0 leaves it out).

    Shape:
        input (N, in_channels, 32, 32); output (N, num_classes).

    Reference: S. Zagoruyko, N. Komodakis, "Wide residual networks", BMVC 2016.

    Example:
        >>> import torch
        >>> wide_resnet(16, 2)(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"depth must be 6n + 4 (16, 22, 28, 40...), got {depth}")
    n = (depth - 4) // 6
    k = widen_factor
    return ResNet(
        PreActBlock,
        (n, n, n),
        (16 * k, 32 * k, 64 * k),
        num_classes,
        in_channels,
        stem="cifar",
        stem_channels=16,
        dropout=dropout,
    )
