"""ResNets (He et al. 2016) for ImageNet, their plain twins, pre-activation ResNets.

One :class:`ResNet` class builds them all, and the CIFAR networks of
:mod:`cnnlib.models.resnet_cifar` too; the blocks and shortcuts are in
:mod:`cnnlib.models.resnet_blocks`.
"""

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from cnnlib import nn
from cnnlib.models.resnet_blocks import (
    BasicBlock,
    Bottleneck,
    PreActBlock,
    PreActBottleneck,
    Shortcut,
)

Block = type[BasicBlock | Bottleneck | PreActBlock | PreActBottleneck]

# The paper's Table 1: block type and blocks per stage (conv2_x ... conv5_x).
IMAGENET_LAYERS: dict[int, tuple[Block, tuple[int, ...]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """Stem, stages of residual blocks, global average pooling, one linear layer.

    Each stage but the first starts with a stride-2 block that halves the maps;
    stage ``i`` has ``layers[i]`` blocks of width ``widths[i]``.

    Args:
        block: a block class of :mod:`cnnlib.models.resnet_blocks`.
        layers: blocks per stage.
        widths: width of each stage (a bottleneck outputs 4x that many channels).
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        stem: "imagenet" (7x7 conv stride 2 + 3x3 max pool stride 2: 224 -> 56)
            or "cifar" (one 3x3 conv, size kept).
        stem_channels: outputs of the stem convolution.
        shortcut: "projection", "zero_pad" or "none" (plain network).
        **block_kwargs: passed on to every block (e.g. ``dropout`` of PreActBlock).
    """

    def __init__(
        self,
        block: Block,
        layers: Sequence[int],
        widths: Sequence[int] = (64, 128, 256, 512),
        num_classes: int = 1000,
        in_channels: int = 3,
        stem: Literal["imagenet", "cifar"] = "imagenet",
        stem_channels: int = 64,
        shortcut: Shortcut = "projection",
        **block_kwargs: float,
    ) -> None:
        super().__init__()
        if stem == "imagenet":
            self.stem = nn.Sequential(
                nn.Conv2d(
                    in_channels, stem_channels, 7, stride=2, padding=3, bias=False
                ),
                nn.BatchNorm2d(stem_channels),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            )
        else:
            conv = nn.Conv2d(in_channels, stem_channels, 3, padding=1, bias=False)
            # A pre-activation network normalises inside its first block instead.
            extra = [] if block.preact else [nn.BatchNorm2d(stem_channels), nn.ReLU()]
            self.stem = nn.Sequential(conv, *extra)

        stages = []
        channels = stem_channels
        for i, (num_blocks, width) in enumerate(zip(layers, widths, strict=True)):
            blocks = []
            for j in range(num_blocks):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(block(channels, width, stride, shortcut, **block_kwargs))
                channels = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)

        # Pre-activation blocks end on an addition: normalise once more at the end.
        final = [nn.BatchNorm2d(channels), nn.ReLU()] if block.preact else []
        self.head = nn.Sequential(
            *final,
            nn.AdaptiveAvgPool2d(1),  # (N, C, 1, 1)
            nn.Flatten(),  # (N, C)
            nn.Linear(channels, num_classes),  # (N, num_classes)
        )
        # He et al. 2015 ("MSRA") initialisation, as in the paper; the variant
        # scaled by fan-out (C_out * KH * KW), as torchvision does.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                torch.nn.init.kaiming_normal_(
                    module.weight, mode="fan_out", nonlinearity="relu"
                )

    def forward(self, x: Tensor) -> Tensor:
        # ImageNet layout, x: (N, C_in, 224, 224); e = block.expansion
        #   stem -> (N, 64, 56, 56); stages -> (N, 64e, 56, 56), (N, 128e, 28, 28),
        #   (N, 256e, 14, 14), (N, 512e, 7, 7)
        # CIFAR layout, x: (N, C_in, 32, 32); k = widen factor (1 in ResNet-20)
        #   stem -> (N, 16, 32, 32); stages -> (N, 16k, 32, 32), (N, 32k, 16, 16),
        #   (N, 64k, 8, 8)
        x = self.stem(x)
        x = self.stages(x)
        return self.head(x)  # (N, num_classes)


def resnet(
    depth: int,
    num_classes: int = 1000,
    in_channels: int = 3,
    shortcut: Shortcut = "projection",
    preact: bool = False,
) -> ResNet:
    """ImageNet ResNet-18/34/50/101/152, plain or pre-activation.

    ``shortcut="projection"`` is the paper's option B (1x1 conv + BN where the
    shape changes), as in torchvision, whose parameter counts these match:
    11,689,512 / 21,797,672 / 25,557,032 / 44,549,160 / 60,192,808 for 1000
    classes. ``shortcut="none"`` gives the plain networks of the paper's Fig. 3.
    ``preact=True`` uses the pre-activation blocks of He et al. 2016b.
    Bottlenecks put their stride on the 3x3 conv (ResNet v1.5; the paper puts it
    on the first 1x1; same parameter count).

    Args:
        depth: 18, 34, 50, 101 or 152.
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        shortcut: "projection", "zero_pad" or "none".
        preact: pre-activation blocks instead of the original ones.

    Shape:
        input (N, in_channels, H, W), 224x224 in the paper (any size >= 32
        works thanks to the adaptive pooling); output (N, num_classes).

    Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for
    image recognition", CVPR 2016.

    Example:
        >>> import torch
        >>> from cnnlib import nn
        >>> model = resnet(50, num_classes=10).eval()
        >>> with nn.use_impl("native"):  # torch's kernels, for speed
        ...     model(torch.randn(1, 3, 224, 224)).shape
        torch.Size([1, 10])
    """
    if depth not in IMAGENET_LAYERS:
        raise ValueError(f"depth must be one of {sorted(IMAGENET_LAYERS)}, got {depth}")
    block, layers = IMAGENET_LAYERS[depth]
    if preact:
        block = PreActBlock if block is BasicBlock else PreActBottleneck
    return ResNet(
        block,
        layers,
        num_classes=num_classes,
        in_channels=in_channels,
        shortcut=shortcut,
    )


def resnet18(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-18: 11,689,512 parameters for 1000 classes. See :func:`resnet`."""
    return resnet(18, num_classes, in_channels)


def resnet34(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-34: 21,797,672 parameters for 1000 classes. See :func:`resnet`."""
    return resnet(34, num_classes, in_channels)


def resnet50(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-50: 25,557,032 parameters for 1000 classes. See :func:`resnet`."""
    return resnet(50, num_classes, in_channels)


def resnet101(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-101: 44,549,160 parameters for 1000 classes. See :func:`resnet`."""
    return resnet(101, num_classes, in_channels)


def resnet152(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-152: 60,192,808 parameters for 1000 classes. See :func:`resnet`."""
    return resnet(152, num_classes, in_channels)


def plain18(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """Plain-18: ResNet-18 without shortcuts, 11,515,688 parameters.

    The 173,824 fewer parameters are the three projection shortcuts'.
    See :func:`resnet`.
    """
    return resnet(18, num_classes, in_channels, shortcut="none")


def plain34(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """Plain-34: ResNet-34 without shortcuts, 21,623,848 parameters.

    The degradation problem of the paper's Fig. 4: deeper than Plain-18, and
    worse. See :func:`resnet`.
    """
    return resnet(34, num_classes, in_channels, shortcut="none")


def preact_resnet(
    depth: int = 18, num_classes: int = 1000, in_channels: int = 3
) -> ResNet:
    """Pre-activation ResNet (``BN -> ReLU -> conv``), ImageNet layout.

    Same stages and projection shortcuts as :func:`resnet`; a final BN + ReLU
    precedes the pooling. Departure from the reference code: the stem keeps its
    BN + ReLU and the first block normalises again; the authors' Torch code
    skips that block's pre-activation. For the CIFAR networks of the paper, see
    :func:`wide_resnet` with ``widen_factor=1``.

    Args:
        depth: 18, 34, 50, 101 or 152.
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.

    Reference: K. He, X. Zhang, S. Ren, J. Sun, "Identity mappings in deep
    residual networks", ECCV 2016.

    Example:
        >>> import torch
        >>> from cnnlib import nn
        >>> model = preact_resnet(18, num_classes=10).eval()
        >>> with nn.use_impl("native"):
        ...     model(torch.randn(1, 3, 224, 224)).shape
        torch.Size([1, 10])
    """
    return resnet(depth, num_classes, in_channels, preact=True)
