"""VGG (Simonyan & Zisserman 2015), built from one configuration table.

Each entry of a configuration is either a number (a 3x3 convolution, padding 1,
with that many output channels, followed by ReLU) or ``"M"`` (2x2 max pooling,
stride 2). Configurations A, B, D and E of the paper's Table 1 give VGG-11, -13,
-16 and -19.
"""

from collections.abc import Sequence

from torch import Tensor

from cnnlib import nn

# The paper's Table 1 (configurations A, B, D, E), one block of convs per line.
# fmt: off
CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M",
              128, "M",
              256, 256, "M",
              512, 512, "M",
              512, 512, "M"],
    "vgg13": [64, 64, "M",
              128, 128, "M",
              256, 256, "M",
              512, 512, "M",
              512, 512, "M"],
    "vgg16": [64, 64, "M",
              128, 128, "M",
              256, 256, 256, "M",
              512, 512, 512, "M",
              512, 512, 512, "M"],
    "vgg19": [64, 64, "M",
              128, 128, "M",
              256, 256, 256, 256, "M",
              512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
    # Our CPU-size variant for 32x32 images (not in the paper): 3 pools -> 4x4.
    "vgg_small": [16, 16, "M", 32, 32, "M", 64, 64, "M"],
}
# fmt: on


def make_features(
    config: Sequence[int | str], in_channels: int = 3, batch_norm: bool = False
) -> nn.Sequential:
    """Turn a configuration list into the convolutional part of a VGG.

    Args:
        config: numbers (3x3 conv with that many channels) and ``"M"`` (max pool).
        in_channels: channels of the input image.
        batch_norm: insert ``BatchNorm2d`` between each convolution and its ReLU.

    Example:
        >>> make_features([8, "M", 16, "M"], in_channels=1)[0]
        Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """
    layers: list[nn.Module] = []
    channels = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        assert isinstance(item, int), f"config entries are ints or 'M', got {item!r}"
        # With batch norm the conv bias is redundant (BN's shift replaces it),
        # but we keep it, as the usual VGG-BN weights do.
        layers.append(nn.Conv2d(channels, item, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(item))
        layers.append(nn.ReLU())
        channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """Convolutional features from a config, then a fully connected classifier.

    Departures from the paper: the network returns logits (no softmax) and
    flattens the 7x7 maps of a 224x224 input directly (no adaptive pooling, so
    other sizes need a matching ``feature_size``). At test time the paper turns
    the FC layers into convolutions to evaluate whole images densely; we keep
    them Linear. The ``_bn`` variants add batch normalisation (Ioffe & Szegedy
    2015, after VGG) between each convolution and its ReLU, common practice.

    Args:
        features: the output of :func:`make_features`.
        feature_size: C * H * W of the features' output (512 * 7 * 7 on 224x224).
        hidden: width of the two hidden FC layers (4096 in the paper).
        num_classes: number of outputs (logits).
        dropout: drop probability after each hidden FC layer (0.5 in the paper).
    """

    def __init__(
        self,
        features: nn.Module,
        feature_size: int,
        hidden: int = 4096,
        num_classes: int = 1000,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.features = features
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(feature_size, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, 224, 224); five blocks, each ending in a 2x2 pool:
        # (N, 64, 112, 112) -> (N, 128, 56, 56) -> (N, 256, 28, 28)
        # -> (N, 512, 14, 14) -> (N, 512, 7, 7)
        x = self.features(x)
        return self.classifier(x)  # (N, num_classes)


def _vgg(name: str, num_classes: int, in_channels: int, batch_norm: bool) -> VGG:
    features = make_features(CONFIGS[name], in_channels, batch_norm)
    return VGG(features, 512 * 7 * 7, num_classes=num_classes)


def vgg11(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-11 (configuration A): 132,863,336 parameters.

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (A).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg11()
        >>> sum(p.numel() for p in model.parameters())
        132863336
    """
    return _vgg("vgg11", num_classes, in_channels, batch_norm=False)


def vgg13(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-13 (configuration B): 133,047,848 parameters.

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (B).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg13()
        >>> sum(p.numel() for p in model.parameters())
        133047848
    """
    return _vgg("vgg13", num_classes, in_channels, batch_norm=False)


def vgg16(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-16 (configuration D): 138,357,544 parameters.

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (D).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg16()
        >>> sum(p.numel() for p in model.parameters())
        138357544
    """
    return _vgg("vgg16", num_classes, in_channels, batch_norm=False)


def vgg19(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-19 (configuration E): 143,667,240 parameters.

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (E).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg19()
        >>> sum(p.numel() for p in model.parameters())
        143667240
    """
    return _vgg("vgg19", num_classes, in_channels, batch_norm=False)


def vgg11_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-11 (configuration A, batch norm): 132,868,840 parameters.

    Batch norm after every convolution, a later addition (see :class:`VGG`).

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (A).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg11_bn()
        >>> sum(p.numel() for p in model.parameters())
        132868840
    """
    return _vgg("vgg11", num_classes, in_channels, batch_norm=True)


def vgg13_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-13 (configuration B, batch norm): 133,053,736 parameters.

    Batch norm after every convolution, a later addition (see :class:`VGG`).

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (B).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg13_bn()
        >>> sum(p.numel() for p in model.parameters())
        133053736
    """
    return _vgg("vgg13", num_classes, in_channels, batch_norm=True)


def vgg16_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-16 (configuration D, batch norm): 138,365,992 parameters.

    Batch norm after every convolution, a later addition (see :class:`VGG`).

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (D).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg16_bn()
        >>> sum(p.numel() for p in model.parameters())
        138365992
    """
    return _vgg("vgg16", num_classes, in_channels, batch_norm=True)


def vgg19_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-19 (configuration E, batch norm): 143,678,248 parameters.

    Batch norm after every convolution, a later addition (see :class:`VGG`).

    Args:
        num_classes: number of outputs (logits); the count is for 1000.
        in_channels: channels of the 224x224 input image.

    Reference: K. Simonyan, A. Zisserman, ICLR 2015, Table 1 (E).

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # count without allocating memory
        ...     model = vgg19_bn()
        >>> sum(p.numel() for p in model.parameters())
        143678248
    """
    return _vgg("vgg19", num_classes, in_channels, batch_norm=True)


def vgg_small(
    num_classes: int = 10,
    in_channels: int = 3,
    batch_norm: bool = True,
    hidden: int = 128,
    dropout: float = 0.5,
) -> VGG:
    """A CPU-size VGG for 32x32 images: three blocks of two 3x3 convs, 16-32-64.

    The VGG recipe (stacks of 3x3 convolutions, channels doubling after each
    2x2 pool, then FC layers) at a size that trains in minutes on a CPU. Our
    own configuration (``CONFIGS["vgg_small"]``), not one from the paper.
    With the defaults: 221,530 parameters for 10 classes, 10M multiply-adds per
    image.

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        batch_norm: batch norm after each convolution (helps it train fast).
        hidden: width of the two hidden FC layers.
        dropout: drop probability after each hidden FC layer.

    Shape:
        input (N, in_channels, 32, 32); output (N, num_classes).

    Reference: K. Simonyan, A. Zisserman, ICLR 2015 (the design it scales down).

    Example:
        >>> import torch
        >>> vgg_small()(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    features = make_features(CONFIGS["vgg_small"], in_channels, batch_norm)
    # (N, 64, 4, 4) after three pools on a 32x32 input
    return VGG(features, 64 * 4 * 4, hidden, num_classes, dropout)
