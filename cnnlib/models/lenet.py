"""LeNet-5 (LeCun et al. 1998) and the lecture's Keras version of it.

Both expect 32x32 inputs; MNIST's 28x28 digits are zero-padded by 2 pixels on each
side first, as in the paper. Both have 61,706 parameters (on 1 input channel and
10 classes), because they differ only in parameter-free layers.
"""

from torch import Tensor

from cnnlib import nn


class LeNet5(nn.Module):
    """LeNet-5 as in LeCun et al. 1998, Fig. 2, with two simplifications (below).

    Layer names follow the paper: C = convolution, S = subsampling, F = full.

    Departures from the paper:

    * S2 and S4 are plain 2x2 average pooling. In the paper each subsampling map
      also multiplies the average by a trainable coefficient, adds a trainable
      bias and squashes the result (12 + 32 parameters we do not have).
    * C3 connects every S2 map to every C3 map (2,416 parameters). The paper's
      Table I connects each C3 map to only 3, 4 or 6 of the 6 S2 maps (1,516
      parameters), to break symmetry and save computation.
    * The activation is ``tanh``; the paper uses the scaled ``1.7159 tanh(2a/3)``.
    * The output layer is a Linear layer giving logits; the paper's output layer
      is made of Euclidean radial basis function units with fixed weights.

    C5 is kept as a 5x5 convolution as in the paper: on a 32x32 input it sees a
    5x5 map, so it is equivalent to a fully connected layer on 400 inputs.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),  # C1
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),  # S2
            nn.Conv2d(6, 16, kernel_size=5),  # C3
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),  # S4
            nn.Conv2d(16, 120, kernel_size=5),  # C5
            nn.Tanh(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(120, 84),  # F6
            nn.Tanh(),
            nn.Linear(84, num_classes),  # output (RBF units in the paper)
        )

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, 32, 32); C1 -> (N, 6, 28, 28), S2 -> (N, 6, 14, 14),
        # C3 -> (N, 16, 10, 10), S4 -> (N, 16, 5, 5), C5 -> (N, 120, 1, 1)
        x = self.features(x)
        return self.classifier(x)  # (N, num_classes)


def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 (tanh, average-pooling subsampling), 61,706 parameters.

    See :class:`LeNet5` for the departures from the paper (full C3 connectivity,
    no trainable subsampling coefficients, no RBF output layer).

    Args:
        num_classes: number of outputs (logits).
        in_channels: channels of the 32x32 input image.

    Shape:
        input (N, in_channels, 32, 32); output (N, num_classes).

    Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based
    learning applied to document recognition", Proc. IEEE, 1998.

    Example:
        >>> import torch
        >>> lenet5()(torch.randn(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """
    return LeNet5(num_classes=num_classes, in_channels=in_channels)


def lenet5_keras(num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """The lecture's Keras LeNet-5: max pooling and dense layers, 61,706 parameters.

    ``Conv2D(6, 5, tanh) -> MaxPool(2) -> Conv2D(16, 5, tanh) -> MaxPool(2) ->
    Flatten -> Dense(120, tanh) -> Dense(84, tanh) -> Dense(10)``. Compared with
    the paper it swaps average subsampling for max pooling and C5 for a dense
    layer on the flattened 16x5x5 maps (same parameter count).

    Args:
        num_classes: number of outputs (logits; Keras would add a softmax).
        in_channels: channels of the 32x32 input image.

    Shape:
        input (N, in_channels, 32, 32); output (N, num_classes).

    Reference: Y. LeCun et al., Proc. IEEE, 1998 (the architecture it adapts).

    Example:
        >>> import torch
        >>> lenet5_keras()(torch.randn(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5),  # (N, 6, 28, 28)
        nn.Tanh(),
        nn.MaxPool2d(kernel_size=2),  # (N, 6, 14, 14)
        nn.Conv2d(6, 16, kernel_size=5),  # (N, 16, 10, 10)
        nn.Tanh(),
        nn.MaxPool2d(kernel_size=2),  # (N, 16, 5, 5)
        nn.Flatten(),  # (N, 400)
        nn.Linear(16 * 5 * 5, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, num_classes),  # (N, num_classes)
    )
