"""The architectures of the book, from the perceptron to U-Net.

Every builder is a lowercase function taking ``num_classes`` and ``in_channels``
(the linear models take ``in_features`` instead) and returning a model built only
from ``cnnlib.nn`` layers, so it runs on the from-scratch ops or, inside
``cnnlib.nn.use_impl("native")``, on torch's kernels. Parameter counts match the
papers (or torchvision, where the book compares with it); each docstring states
the count and where the model departs from its paper. The ``*_small`` builders and
the CIFAR networks take 32x32 images and train on a CPU.

Example:
    >>> import torch
    >>> from cnnlib import models, nn
    >>> model = models.resnet20().eval()
    >>> with nn.use_impl("native"):
    ...     model(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 10])
"""

from cnnlib.models.alexnet import AlexNet, alexnet, alexnet_small, zfnet
from cnnlib.models.googlenet import (
    GoogLeNet,
    GoogLeNetOutputs,
    InceptionAux,
    googlenet,
    googlenet_small,
)
from cnnlib.models.inception import (
    Cost,
    Inception,
    conv2d_cost,
    inception_cost,
    naive_inception,
)
from cnnlib.models.lenet import LeNet5, lenet5, lenet5_keras
from cnnlib.models.linear import logistic_regression, mlp, perceptron
from cnnlib.models.nin import NiN, mlpconv, nin, nin_small
from cnnlib.models.resnet import (
    ResNet,
    plain18,
    plain34,
    preact_resnet,
    resnet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from cnnlib.models.resnet_blocks import (
    BasicBlock,
    Bottleneck,
    PreActBlock,
    PreActBottleneck,
)
from cnnlib.models.resnet_cifar import resnet20, resnet_cifar, wide_resnet
from cnnlib.models.text import MaxOverTime, TextCNN
from cnnlib.models.unet import UNet, unet, unet_output_size
from cnnlib.models.vgg import (
    VGG,
    make_features,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
    vgg_small,
)

__all__ = [
    "VGG",
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "Cost",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "InceptionAux",
    "LeNet5",
    "MaxOverTime",
    "NiN",
    "PreActBlock",
    "PreActBottleneck",
    "ResNet",
    "TextCNN",
    "UNet",
    "alexnet",
    "alexnet_small",
    "conv2d_cost",
    "googlenet",
    "googlenet_small",
    "inception_cost",
    "lenet5",
    "lenet5_keras",
    "logistic_regression",
    "make_features",
    "mlp",
    "mlpconv",
    "naive_inception",
    "nin",
    "nin_small",
    "perceptron",
    "plain18",
    "plain34",
    "preact_resnet",
    "resnet",
    "resnet18",
    "resnet20",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnet_cifar",
    "unet",
    "unet_output_size",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "vgg_small",
    "wide_resnet",
    "zfnet",
]
