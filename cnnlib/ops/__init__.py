"""From-scratch functional ops, mirroring ``torch.nn.functional``.

Every op here is a ``torch.autograd.Function`` with an explicit backward formula,
built from tensor primitives (matmul, einsum, indexing, as_strided, unfold/fold,
pad). None calls torch's own conv/pool/norm/loss/linear kernels, so the code is the
lesson; ``cnnlib.nn`` layers can switch to the native kernels for speed.
"""

from cnnlib.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from cnnlib.ops.conv import conv1d, conv2d
from cnnlib.ops.conv_transpose import conv_transpose2d
from cnnlib.ops.dropout import dropout
from cnnlib.ops.linear import linear
from cnnlib.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from cnnlib.ops.norm import batch_norm, local_response_norm
from cnnlib.ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
    stochastic_pool2d,
)

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "leaky_relu",
    "linear",
    "local_response_norm",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "stochastic_pool2d",
    "tanh",
]
