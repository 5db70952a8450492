"""Linear models and the multilayer perceptron: the book's first networks.

All three builders start with ``Flatten``, so they take a batch of vectors
``(N, D)`` or a batch of images ``(N, C, H, W)`` with ``D = C * H * W`` alike. They
take ``in_features`` (the flattened size) rather than ``in_channels``: a model
without convolutions has no notion of channels.
"""

from collections.abc import Callable, Sequence

from cnnlib import nn


def perceptron(in_features: int, num_classes: int = 1) -> nn.Sequential:
    """Rosenblatt's perceptron: one linear layer, ``score = w . x + b``.

    The model returns the raw score; the perceptron's prediction is its sign
    (``score.sign()`` for one output, ``score.argmax(1)`` for several), and the
    perceptron learning rule is the hinge-like update on misclassified samples.
    The step function is left out of the model because it has no useful gradient.

    Args:
        in_features: D, the number of input features (``C * H * W`` for images).
        num_classes: 1 for a binary perceptron, K for the multi-class one.

    Shape:
        input (N, D) or (N, C, H, W); output (N, num_classes).

    Reference: F. Rosenblatt, "The perceptron: a probabilistic model for
    information storage and organization in the brain", Psychological Review, 1958.

    Example:
        >>> import torch
        >>> model = perceptron(2)
        >>> model(torch.randn(5, 2)).shape
        torch.Size([5, 1])
    """
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, num_classes))


def logistic_regression(
    in_features: int, num_classes: int = 1, probabilities: bool = False
) -> nn.Sequential:
    """Logistic (``num_classes=1``) or softmax (``num_classes>1``) regression.

    One linear layer. By default the model returns logits, to be paired with
    ``binary_cross_entropy_with_logits`` or ``cross_entropy`` (numerically safer
    than taking the log of a probability). With ``probabilities=True`` a head is
    appended: ``Sigmoid`` for one output, ``Softmax(dim=1)`` for several.

    Args:
        in_features: D, the number of input features (``C * H * W`` for images).
        num_classes: 1 for binary logistic regression, K for softmax regression.
        probabilities: append the sigmoid/softmax head.

    Shape:
        input (N, D) or (N, C, H, W); output (N, num_classes).

    Reference: D. R. Cox, "The regression analysis of binary sequences", JRSS B,
    1958.

    Example:
        >>> import torch
        >>> model = logistic_regression(64, num_classes=10, probabilities=True)
        >>> model(torch.randn(3, 64)).sum(1).allclose(torch.ones(3))
        True
    """
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(in_features, num_classes)]
    if probabilities:
        layers.append(nn.Sigmoid() if num_classes == 1 else nn.Softmax(dim=1))
    return nn.Sequential(*layers)


def mlp(
    in_features: int,
    hidden_sizes: Sequence[int] = (128, 64),
    num_classes: int = 10,
    activation: Callable[[], nn.Module] = nn.ReLU,
    dropout: float = 0.0,
) -> nn.Sequential:
    """Multilayer perceptron: ``[Linear -> activation -> Dropout] * L -> Linear``.

    Args:
        in_features: D, the number of input features (``C * H * W`` for images).
        hidden_sizes: width of each hidden layer, input side first.
        num_classes: number of outputs (logits).
        activation: a layer class or factory called once per hidden layer, e.g.
            ``nn.ReLU``, ``nn.Tanh``, ``nn.Sigmoid`` or ``lambda: nn.LeakyReLU(0.1)``.
        dropout: drop probability after each hidden activation (0 leaves it out).

    Shape:
        input (N, D) or (N, C, H, W); output (N, num_classes).

    Reference: D. E. Rumelhart, G. E. Hinton, R. J. Williams, "Learning
    representations by back-propagating errors", Nature, 1986.

    Example:
        >>> import torch
        >>> model = mlp(28 * 28, hidden_sizes=(256, 128), num_classes=10)
        >>> model(torch.randn(4, 1, 28, 28)).shape
        torch.Size([4, 10])
    """
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for hidden in hidden_sizes:
        layers += [nn.Linear(width, hidden), activation()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
