"""The families of torch kernels a check can forbid, and how calls are named.

A family is matched by name: the name of a torch function, Tensor method, aten
operator or library Python function, normalised (``normalise``), is searched
with the family's pattern; ``torch.nn`` modules are matched by class name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """A family of torch kernels that a check can forbid.

    Attributes:
        name: short key used by checks, e.g. "conv".
        what: how the message names the family, e.g. "torch's own convolution".
        pattern: regular expression searched in normalised function/op names.
        modules: ``torch.nn`` module classes of the family.
    """

    name: str
    what: str
    pattern: str
    modules: frozenset[str] = frozenset()


def _exact(*names: str) -> str:
    return "^(" + "|".join(names) + ")$"


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "conv",
            "torch's own convolution kernels",
            r"conv(\dd|olution|_transpose|_tbc|_depthwise|_dilated)|correlate|convolve",
            frozenset(
                {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"}
                | {"ConvTranspose3d", "LazyConv2d", "_ConvNd"}
            ),
        ),
        Family(
            "pool",
            "torch's own pooling kernels",
            r"pool",
            frozenset(
                {"MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d"}
                | {"AvgPool3d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "LPPool2d"}
                | {"FractionalMaxPool2d", "MaxUnpool2d"}
            ),
        ),
        Family(
            "norm",
            "torch's own normalisation kernels",
            r"batch_norm|layer_norm|group_norm|instance_norm|local_response_norm",
            frozenset(
                {"BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"}
                | {"InstanceNorm2d", "LocalResponseNorm"}
            ),
        ),
        Family(
            "softmax",
            "torch's own softmax",
            r"softmax|softmin",
            frozenset({"Softmax", "LogSoftmax", "Softmin", "Softmax2d"}),
        ),
        Family(
            "sigmoid",
            "torch's own sigmoid and tanh",
            _exact(
                "sigmoid",
                "expit",
                "tanh",
                "silu",
                "logsigmoid",
                "log_sigmoid",
                "log_sigmoid_forward",
                "sigmoid_backward",
                "tanh_backward",
            ),
            frozenset({"Sigmoid", "Tanh", "SiLU", "LogSigmoid"}),
        ),
        Family(
            "relu",
            "torch's own ReLU",
            _exact(
                "relu",
                "relu6",
                "leaky_relu",
                "prelu",
                "prelu_kernel",
                "rrelu",
                "rrelu_with_noise",
                "elu",
                "celu",
                "selu",
                "gelu",
                "threshold",
                "threshold_backward",
                "hardtanh",
            ),
            frozenset(
                {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU"}
                | {"SELU", "GELU", "Threshold", "Hardtanh"}
            ),
        ),
        Family(
            "loss",
            "torch's own loss functions",
            r"cross_entropy|nll_loss|mse_loss|kl_div|l1_loss|huber_loss",
            frozenset(
                {"CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss"}
                | {"BCEWithLogitsLoss", "KLDivLoss"}
            ),
        ),
        Family(
            "linear",
            "torch's own linear layer",
            _exact("linear", "bilinear", "mkldnn_linear"),
            frozenset({"Linear", "Bilinear", "LazyLinear"}),
        ),
        Family(
            "iou",
            "ready-made IoU (Jaccard) metrics",
            r"jaccard|(^|_)iou($|_)",
        ),
        Family(
            "autograd",
            "autograd (backward, torch.autograd.grad, torch.func)",
            _exact(
                "backward",
                "grad",
                "run_backward",
                "vjp",
                "jvp",
                "jacobian",
                "hessian",
                "jacrev",
                "jacfwd",
                "grad_and_value",
                "make_dual",
                "unpack_dual",
                "vhp",
                "hvp",
            ),
        ),
    )
}

ADVICE = {
    "autograd": "derive the gradient and code it by hand",
}
DEFAULT_ADVICE = (
    "write it from ordinary tensor operations (arithmetic, matmul, einsum, "
    "indexing, unfold, max, exp, ...)"
)

# Calls that switch the guard off. Forbidden when the student's code makes them.
TAMPER = re.compile(
    _exact(
        "setprofile",
        "setprofile_all_threads",
        "pop_mode",
        "pop_mode_temporarily",
        "pop_torch_function_stack",
        "pop_torch_dispatch_stack",
        "set_dispatch_mode",
        "unset_dispatch_mode",
        "disable_current_modes",
        "DisableTorchFunction",
        "DisableTorchFunctionSubclass",
        "disable_torch_function",
    )
)


def normalise(name: str) -> str:
    """'_softmax' -> 'softmax', 'sigmoid_' -> 'sigmoid', 'special_expit' -> 'expit',
    'convolution.default' -> 'convolution', 'aten::relu' -> 'relu'."""
    name = name.rsplit("::", 1)[-1].split(".", 1)[0]
    name = name.strip("_")
    if name.startswith("special_"):
        name = name[len("special_") :]
    return name
