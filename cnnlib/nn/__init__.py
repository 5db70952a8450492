"""Layers of the course, each switchable between scratch, native and custom code.

Every layer here has exactly the constructor arguments, parameter names, shapes and
initialisation of its ``torch.nn`` namesake, so models, state_dicts and training
recipes carry over both ways. What differs is the keyword ``impl``:

* ``"scratch"`` (default): the forward/backward pair written in ``cnnlib.ops``;
* ``"native"``: torch's optimised kernel (``torch.nn.functional``);
* a callable with the op's signature: your own function, e.g. ``my_conv2d``.

``use_impl("native")`` switches every layer called inside a ``with`` block;
``set_impl(model, impl)`` changes a model's layers for good. ``Sequential``,
``Module``, ``ModuleList``, ``ModuleDict``, ``Identity`` and ``Parameter`` are
torch's own, re-exported so that ``from cnnlib import nn`` reads like ``torch.nn``.

Example:
    >>> import torch
    >>> from cnnlib import nn
    >>> model = nn.Sequential(
    ...     nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
    ...     nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 10),
    ... )
    >>> with nn.use_impl("native"):
    ...     model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
"""

from torch.nn import Identity, Module, ModuleDict, ModuleList, Parameter, Sequential

from cnnlib.nn._impl import IMPLS, Impl, SwitchableLayer, set_impl, use_impl
from cnnlib.nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from cnnlib.nn.conv import Conv1d, Conv2d
from cnnlib.nn.conv_transpose import ConvTranspose2d
from cnnlib.nn.dropout import Dropout
from cnnlib.nn.flatten import Flatten
from cnnlib.nn.linear import Linear
from cnnlib.nn.norm import BatchNorm1d, BatchNorm2d, LocalResponseNorm
from cnnlib.nn.pool import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    StochasticPool2d,
)

__all__ = [
    "IMPLS",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout",
    "Flatten",
    "Identity",
    "Impl",
    "LeakyReLU",
    "Linear",
    "LocalResponseNorm",
    "LogSoftmax",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StochasticPool2d",
    "SwitchableLayer",
    "Tanh",
    "set_impl",
    "use_impl",
]
