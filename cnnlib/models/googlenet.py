"""GoogLeNet (Szegedy et al. 2015, Inception v1) and a CPU-size Inception network.

The module itself, and the functions that count its cost, are in
:mod:`cnnlib.models.inception`.
"""

from typing import NamedTuple

from torch import Tensor

from cnnlib import nn
from cnnlib.models.inception import Inception, conv_relu


class GoogLeNetOutputs(NamedTuple):
    """What GoogLeNet returns in training mode with auxiliary classifiers."""

    logits: Tensor  # (N, num_classes), the main classifier
    aux1: Tensor  # (N, num_classes), head on inception (4a)
    aux2: Tensor  # (N, num_classes), head on inception (4d)


class InceptionAux(nn.Module):
    """Auxiliary classifier, used in training only (paper section 5).

    ``5x5 average pooling, stride 3 -> 1x1 conv 128 + ReLU -> FC 1024 + ReLU ->
    dropout 70% -> FC num_classes``. On the 14x14 maps of (4a) and (4d) the
    pooling gives 4x4 maps.
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.AvgPool2d(kernel_size=5, stride=3),  # (N, C_in, 4, 4)
            nn.Conv2d(in_channels, 128, kernel_size=1),
            nn.ReLU(),  # (N, 128, 4, 4)
            nn.Flatten(),  # (N, 2048)
            nn.Linear(128 * 4 * 4, 1024),
            nn.ReLU(),
            nn.Dropout(0.7),
            nn.Linear(1024, num_classes),  # (N, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class GoogLeNet(nn.Module):
    """The 22-layer network of the paper's Table 1; see :func:`googlenet`."""

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        aux_logits: bool = False,
        lrn: bool = True,
        dropout: float = 0.4,
    ) -> None:
        super().__init__()

        def norm() -> nn.Module:
            if not lrn:
                return nn.Identity()
            # Caffe's LRN as in the authors' model: a / (1 + 1e-4/5 * sum a^2)^0.75
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)

        # Pools use 3x3 windows with stride 2 and round sizes up (ceil mode), as
        # in the authors' Caffe model: 112 -> 56 -> 28 -> 14 -> 7.
        def pool() -> nn.Module:
            return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),
            nn.ReLU(),  # (N, 64, 112, 112)
            pool(),  # (N, 64, 56, 56)
            norm(),
            conv_relu(64, 64, 1),  # "3x3 reduce" of the conv2 row
            conv_relu(64, 192, 3),  # (N, 192, 56, 56)
            norm(),
            pool(),  # (N, 192, 28, 28)
        )
        # Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)  # 256 channels
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)  # 480
        self.pool3 = pool()
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)  # 512
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)  # 512
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)  # 512
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)  # 528
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)  # 832
        self.pool4 = pool()
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)  # 832
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)  # 1024
        self.aux1 = InceptionAux(512, num_classes) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes) if aux_logits else None
        # The paper averages the 7x7 maps of a 224x224 input; adaptive pooling does
        # the same there and lets other input sizes through.
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),  # (N, 1024, 1, 1)
            nn.Flatten(),  # (N, 1024)
            nn.Dropout(dropout),
            nn.Linear(1024, num_classes),  # (N, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor | GoogLeNetOutputs:
        # x: (N, C_in, 224, 224)
        x = self.stem(x)  # (N, 192, 28, 28)
        x = self.inception3a(x)  # (N, 256, 28, 28)
        x = self.inception3b(x)  # (N, 480, 28, 28)
        x = self.pool3(x)  # (N, 480, 14, 14)
        x = self.inception4a(x)  # (N, 512, 14, 14)
        use_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if use_aux else None
        x = self.inception4b(x)  # (N, 512, 14, 14)
        x = self.inception4c(x)  # (N, 512, 14, 14)
        x = self.inception4d(x)  # (N, 528, 14, 14)
        aux2 = self.aux2(x) if use_aux else None
        x = self.inception4e(x)  # (N, 832, 14, 14)
        x = self.pool4(x)  # (N, 832, 7, 7)
        x = self.inception5a(x)  # (N, 832, 7, 7)
        x = self.inception5b(x)  # (N, 1024, 7, 7)
        logits = self.head(x)  # (N, num_classes)
        if use_aux:
            return GoogLeNetOutputs(logits, aux1, aux2)
        return logits


def googlenet(
    num_classes: int = 1000,
    in_channels: int = 3,
    aux_logits: bool = False,
    lrn: bool = True,
    dropout: float = 0.4,
) -> GoogLeNet:
    """GoogLeNet (Inception v1) as in the paper's Table 1: 6,998,552 parameters.

    Nine Inception modules with 1x1 reductions and the 5x5 branch, global average
    pooling, 40% dropout and one linear layer. With ``aux_logits=True`` two
    auxiliary classifiers sit on (4a) and (4d) (13,378,280 parameters in all for
    1000 classes, of which the main network uses the same 6,998,552); in
    training mode the model then returns
    ``GoogLeNetOutputs(logits, aux1, aux2)`` (the paper adds the auxiliary losses
    with weight 0.3), in eval mode only the logits.

    Departures from the paper: the pooling rounds up (Caffe's ceil mode, which
    the paper's map sizes imply) and the final pooling is adaptive (identical on
    224x224 inputs). Counting biases, the parameters are 6,998,552, close to the
    paper's "about 6.8M" (Table 1 counts weights only, in units of 1024).
    torchvision's ``googlenet`` differs on purpose (batch norm, a 3x3 conv in
    place of the 5x5 branch, no LRN: 6,624,904 parameters).

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        aux_logits: add the two auxiliary classifiers (returned in training only).
        lrn: local response normalisation after the first two convolutions.
        dropout: drop probability before the final linear layer.

    Shape:
        input (N, in_channels, 224, 224); output (N, num_classes), or
        ``GoogLeNetOutputs`` of three such tensors (training, ``aux_logits``).

    Reference: C. Szegedy et al., "Going deeper with convolutions", CVPR 2015.

    Example:
        >>> import torch
        >>> from cnnlib import nn
        >>> model = googlenet(num_classes=10, aux_logits=True)
        >>> x = torch.randn(2, 3, 224, 224)
        >>> with nn.use_impl("native"):  # torch's kernels, for speed
        ...     logits, aux1, aux2 = model.train()(x)
        ...     eval_logits = model.eval()(x)
        >>> aux1.shape, eval_logits.shape
        (torch.Size([2, 10]), torch.Size([2, 10]))
    """
    return GoogLeNet(num_classes, in_channels, aux_logits, lrn, dropout)


def googlenet_small(
    num_classes: int = 10,
    in_channels: int = 3,
    batch_norm: bool = True,
    dropout: float = 0.2,
) -> nn.Sequential:
    """A CPU-size GoogLeNet for 32x32 images: five small Inception modules.

    A 3x3 stem and max pooling to 16x16, two modules, pooling to 8x8, two more,
    pooling to 4x4, a last module, global average pooling and a linear layer.
    Widths are about a quarter of GoogLeNet's (our choice, not the paper's);
    batch norm (off in the paper) makes it train in a few epochs. 146,030
    parameters for 10 classes with batch norm, 15M multiply-adds per image.

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        batch_norm: batch norm after every convolution.
        dropout: drop probability before the final linear layer.

    Shape:
        input (N, in_channels, 32, 32); output (N, num_classes).

    Reference: C. Szegedy et al., CVPR 2015 (the design it scales down).

    Example:
        >>> import torch
        >>> googlenet_small()(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    bn = batch_norm
    return nn.Sequential(
        conv_relu(in_channels, 64, 3, bn),  # (N, 64, 32, 32)
        nn.MaxPool2d(kernel_size=2),  # (N, 64, 16, 16)
        Inception(64, 16, 24, 32, 4, 8, 8, bn),  # (N, 64, 16, 16)
        Inception(64, 32, 32, 48, 8, 24, 16, bn),  # (N, 120, 16, 16)
        nn.MaxPool2d(kernel_size=2),  # (N, 120, 8, 8)
        Inception(120, 48, 24, 52, 4, 12, 16, bn),  # (N, 128, 8, 8)
        Inception(128, 40, 28, 56, 6, 16, 16, bn),  # (N, 128, 8, 8)
        nn.MaxPool2d(kernel_size=2),  # (N, 128, 4, 4)
        Inception(128, 64, 40, 80, 8, 32, 32, bn),  # (N, 208, 4, 4)
        nn.AdaptiveAvgPool2d(1),  # (N, 208, 1, 1)
        nn.Flatten(),  # (N, 208)
        nn.Dropout(dropout),
        nn.Linear(208, num_classes),  # (N, num_classes)
    )
