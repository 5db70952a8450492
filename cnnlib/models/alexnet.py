"""AlexNet (Krizhevsky et al. 2012), ZFNet (Zeiler & Fergus 2013) and a CIFAR-size
AlexNet for CPU training.

Local response normalisation: the paper computes
``b = a / (k + alpha * sum(a^2))^beta`` over n = 5 neighbouring channels with
k = 2, alpha = 1e-4, beta = 0.75. ``LocalResponseNorm`` (like torch's) divides
alpha by n, so we pass ``alpha = 5 * 1e-4`` to get the paper's formula.
"""

from torch import Tensor

from cnnlib import nn

# k = 2, n = 5, alpha = 1e-4, beta = 0.75 (paper section 3.3), alpha scaled by n.
_LRN = {"size": 5, "alpha": 5e-4, "beta": 0.75, "k": 2.0}


class AlexNet(nn.Module):
    """Five convolutional and three fully connected layers; see :func:`alexnet`."""

    def __init__(
        self, num_classes: int = 1000, in_channels: int = 3, groups: int = 2
    ) -> None:
        super().__init__()
        # groups=2 reproduces the two GPUs of the paper: conv2, conv4 and conv5
        # only see the maps of their own GPU; conv3 and the FC layers see both.
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4),  # conv1
            nn.ReLU(),
            nn.LocalResponseNorm(**_LRN),
            nn.MaxPool2d(kernel_size=3, stride=2),  # overlapping pooling
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=groups),  # conv2
            nn.ReLU(),
            nn.LocalResponseNorm(**_LRN),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # conv3
            nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=groups),  # conv4
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=groups),  # conv5
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(256 * 6 * 6, 4096),  # fc6
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),  # fc7
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, num_classes),  # fc8
        )

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, 227, 227)
        # conv1 -> (N, 96, 55, 55), pool -> (N, 96, 27, 27)
        # conv2 -> (N, 256, 27, 27), pool -> (N, 256, 13, 13)
        # conv3, conv4 -> (N, 384, 13, 13), conv5 -> (N, 256, 13, 13)
        # pool -> (N, 256, 6, 6)
        x = self.features(x)
        return self.classifier(x)  # (N, num_classes)


def alexnet(
    num_classes: int = 1000, in_channels: int = 3, two_towers: bool = True
) -> AlexNet:
    """AlexNet with LRN, overlapping pooling and dropout; 60,965,224 parameters.

    With ``two_towers=True`` (default) conv2, conv4 and conv5 are grouped
    convolutions (``groups=2``), the paper's split over two GPUs: 60,965,224
    parameters for 1000 classes. ``two_towers=False`` gives the single-tower
    network with dense connections: 62,378,344 parameters.

    Departures from the paper: the input is 227x227, not the 224x224 the paper
    states, because only 227 gives the 55x55 conv1 maps of its Fig. 2 with an
    11x11 stride-4 unpadded convolution. Dropout sits after the ReLU of fc6 and
    fc7; the network returns logits (no softmax). torchvision's ``alexnet`` is
    the different, single-tower "one weird trick" variant (64-192-384-256-256
    channels, 61.1M parameters), so its counts do not match these.

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        two_towers: use grouped convolutions as in the paper's two-GPU network.

    Shape:
        input (N, in_channels, 227, 227); output (N, num_classes).

    Reference: A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet
    classification with deep convolutional neural networks", NeurIPS 2012.

    Example:
        >>> import torch
        >>> from cnnlib import nn
        >>> model = alexnet(num_classes=10).eval()
        >>> with nn.use_impl("native"):  # torch's kernels, for speed
        ...     model(torch.randn(1, 3, 227, 227)).shape
        torch.Size([1, 10])
    """
    return AlexNet(num_classes, in_channels, groups=2 if two_towers else 1)


def zfnet(num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """ZFNet: AlexNet with a 7x7 stride-2 first layer; 62,357,608 parameters.

    From the paper's Fig. 3: conv1 has 96 7x7 filters with stride 2 (instead of
    11x11 stride 4, to keep the first layer's filters from aliasing), conv2 uses
    stride 2, all pools are 3x3 stride 2, and the network is trained on a single
    GPU, so every layer is dense (no groups). conv3-5 have 384, 384, 256
    filters. 62,357,608 parameters for 1000 classes (computed from the layers).

    Departures from the paper: the paper's pooling rounds map sizes up (Caffe's
    ceil mode: 110 -> 55 and 26 -> 13); we pad the first two pools by one pixel,
    which gives the same sizes. "Contrast normalisation" is done with AlexNet's
    LRN. The paper's renormalisation of conv filters whose RMS exceeds 0.1 is a
    training detail, not part of the model.

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.

    Shape:
        input (N, in_channels, 224, 224); output (N, num_classes).

    Reference: M. D. Zeiler, R. Fergus, "Visualizing and understanding
    convolutional networks", ECCV 2014 (arXiv:1311.2901, 2013).

    Example:
        >>> import torch
        >>> from cnnlib import nn
        >>> model = zfnet(num_classes=10).eval()
        >>> with nn.use_impl("native"):
        ...     model(torch.randn(1, 3, 224, 224)).shape
        torch.Size([1, 10])
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 96, kernel_size=7, stride=2, padding=1),
        nn.ReLU(),  # (N, 96, 110, 110)
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (N, 96, 55, 55)
        nn.LocalResponseNorm(**_LRN),
        nn.Conv2d(96, 256, kernel_size=5, stride=2),
        nn.ReLU(),  # (N, 256, 26, 26)
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (N, 256, 13, 13)
        nn.LocalResponseNorm(**_LRN),
        nn.Conv2d(256, 384, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 384, 13, 13)
        nn.Conv2d(384, 384, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 384, 13, 13)
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 256, 13, 13)
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 256, 6, 6)
        nn.Flatten(),  # (N, 9216)
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(4096, num_classes),  # (N, num_classes)
    )


def alexnet_small(
    num_classes: int = 10, in_channels: int = 3, dropout: float = 0.5
) -> nn.Sequential:
    """A CIFAR-size AlexNet (32x32 inputs) that trains on a CPU in minutes.

    The same recipe at a smaller scale: five 3x3/5x5 convolutions with ReLU, LRN
    after the first two, overlapping 3x3 stride-2 max pooling, and two dropout-
    regularised hidden FC layers. Widths are a sixth to an eighth of AlexNet's
    (16-32-48-48-32) and the first layer is a 5x5 stride-1 convolution, since a
    32x32 image cannot afford AlexNet's 11x11 stride 4. 146,026 parameters for
    10 classes, 7.7M multiply-adds per image. This is our own scaled-down
    design, not a network from the paper.

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the input image.
        dropout: drop probability after the two hidden FC layers.

    Shape:
        input (N, in_channels, 32, 32); output (N, num_classes).

    Reference: A. Krizhevsky et al., NeurIPS 2012 (the design it scales down).

    Example:
        >>> import torch
        >>> alexnet_small()(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, kernel_size=5, padding=2),
        nn.ReLU(),  # (N, 16, 32, 32)
        nn.LocalResponseNorm(**_LRN),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (N, 16, 16, 16)
        nn.Conv2d(16, 32, kernel_size=5, padding=2),
        nn.ReLU(),  # (N, 32, 16, 16)
        nn.LocalResponseNorm(**_LRN),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (N, 32, 8, 8)
        nn.Conv2d(32, 48, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 48, 8, 8)
        nn.Conv2d(48, 48, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 48, 8, 8)
        nn.Conv2d(48, 32, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 32, 8, 8)
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (N, 32, 4, 4)
        nn.Flatten(),  # (N, 512)
        nn.Linear(32 * 4 * 4, 128),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(128, 128),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(128, num_classes),  # (N, num_classes)
    )
