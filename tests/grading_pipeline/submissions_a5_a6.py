"""Submissions of assignments 5 (LeNet-5 on the student's ops) and 6 (architecture
blocks) for the pipeline test: canonical mistakes, a convolution too slow to train
with, and calls to the reference blocks.

Each mistake is a small edit of the reference solution in one function; ``fails``
lists every test cell it must cost (including the cells of functions that call the
wrong one) and ``feedback`` the phrases the student's feedback must show.
"""

from __future__ import annotations

from tests.grading_pipeline.course import edited
from tests.grading_pipeline.submissions import Submission, _cells, _filled

A5, A6 = "05_lenet_own_ops", "06_architecture_blocks"

# ---------------------------------------------------------------- assignment 5
A5_MISTAKES = {
    # the stride is read but never used: LeNet-5 (stride 1) still trains
    "conv2d": edited(
        A5,
        "conv2d",
        ("= pair(stride), pair(padding)", "= pair(1), pair(padding)"),
    ),
    # stride=None taken as 1 instead of kernel_size
    "avg_pool2d": edited(
        A5,
        "avg_pool2d",
        (
            "SH, SW = pair(kernel_size if stride is None else stride)",
            "SH, SW = pair(1 if stride is None else stride)",
        ),
    ),
    # the subsampling layers keep cnnlib's own avg_pool2d
    "my_lenet5": edited(
        A5, "my_lenet5", ("    nn.set_impl(model, avg_pool2d, only=nn.AvgPool2d)\n", "")
    ),
}
SLOW_CONV = '''
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Right, but one einsum per output position: far too slow to train with."""
    (SH, SW), (PH, PW), (DH, DW) = pair(stride), pair(padding), pair(dilation)
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = weight.shape
    x_pad = x.new_zeros(N, C_in, H + 2 * PH, W + 2 * PW)
    x_pad[:, :, PH : PH + H, PW : PW + W] = x
    H_out = (H + 2 * PH - DH * (KH - 1) - 1) // SH + 1
    W_out = (W + 2 * PW - DW * (KW - 1) - 1) // SW + 1
    rows = []
    for i in range(H_out):
        row = []
        for j in range(W_out):
            window = x_pad[
                :,
                :,
                i * SH : i * SH + DH * (KH - 1) + 1 : DH,
                j * SW : j * SW + DW * (KW - 1) + 1 : DW,
            ]
            row.append(torch.einsum("nckl,ockl->no", window, weight))
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1)
    return out
'''

# ---------------------------------------------------------------- assignment 6
A6_MISTAKES = {
    # 5x5 kernels (padding 2 keeps the shape right)
    "vgg_block": edited(
        A6, "vgg_block", ("kernel_size=3, padding=1", "kernel_size=5, padding=2")
    ),
    # no ReLU after the last 1x1 convolution
    "mlpconv": edited(
        A6,
        "mlpconv",
        (
            "nn.Conv2d(c2, c3, kernel_size=1),\n        nn.ReLU(),\n",
            "nn.Conv2d(c2, c3, kernel_size=1),\n",
        ),
    ),
    # the 5x5 branch without its 1x1 bottleneck
    "inception": edited(
        A6,
        "inception",
        (
            "*conv_relu(in_channels, ch5x5red, 1), *conv_relu(ch5x5red, ch5x5, 5)",
            "*conv_relu(in_channels, ch5x5, 5)",
        ),
    ),
    # the 1x1 reductions cost nothing
    "inception_mult_adds": edited(
        A6,
        "inception_mult_adds",
        ("            total += conv_mult_adds(in_channels, reduce, 1, H, W)\n", ""),
    ),
    # the strides never widen the field
    "receptive_field": edited(A6, "receptive_field", ("        jump *= stride\n", "")),
}
CALLS_REFERENCE = {
    "vgg_block": """
from cnnlib.models.vgg import make_features as stack


def vgg_block(in_channels, out_channels, num_convs):
    return stack([out_channels] * num_convs + ["M"], in_channels)
""",
    "inception": """
from cnnlib.models import Inception as Base


class InceptionModule(Base):
    \"\"\"The reference module, under another name.\"\"\"
""",
    "conv_mult_adds": """
from cnnlib import models


def conv_mult_adds(in_channels, out_channels, kernel_size, height_out, width_out):
    h, w = height_out, width_out
    return models.conv2d_cost(in_channels, out_channels, kernel_size, h, w).mult_adds
""",
}


def catalogue() -> list[Submission]:
    return [
        Submission(
            "mistakes",
            A5,
            "conv2d ignores the stride (LeNet-5 still trains); avg_pool2d takes "
            "stride=None as 1; my_lenet5 leaves S2 and S4 on cnnlib's pooling",
            _filled(A5, **A5_MISTAKES),
            fails=_cells("conv2d", "lecture", "stride", "layer_call", "random")
            | {"conv2d_gradients"}
            | _cells("avg_pool", "lecture", "default_stride", "vectorised")
            | _cells("lenet", "layers", "forward"),
            feedback=[
                "Hint: this is the size for stride 1: did you ignore the stride?",
                "Hint: stride=None means stride = kernel_size",
                "S2 (features.2) runs impl='native', not your avg_pool2d",
            ],
        ),
        Submission(
            "slow_conv",
            A5,
            "a right conv2d with a Python loop over the output positions: too slow "
            "to train (the notebook's own training cell times out)",
            _filled(A5, conv2d=SLOW_CONV),
            fails={"conv2d_vectorised", "lenet_training"},
            feedback=[
                "it loops over the output positions",
                "your conv2d is too slow to train with",
            ],
        ),
        Submission(
            "mistakes",
            A6,
            "VGG block with 5x5 kernels; mlpconv without its last ReLU; Inception "
            "without the 5x5 bottleneck; Inception cost without the reductions; "
            "receptive field without the strides",
            _filled(A6, **A6_MISTAKES),
            fails=_cells("vgg", "params", "values", "random")
            | _cells("mlpconv", "values", "random")
            | _cells("inception", "params", "values", "random")
            | _cells("inception_cost", "bottleneck", "random")
            | _cells("rf", "stride", "dilation", "random"),
            feedback=[
                "Hint: VGG uses 3x3 kernels only",
                "Hint: the block ends with a ReLU after the last 1x1 convolution",
                "Hint: the 5x5 branch has no 1x1 bottleneck",
                "Hint: the 1x1 reductions cost multiply-adds too",
                "Hint: this is the receptive field without the strides",
            ],
        ),
        Submission(
            "calls_reference",
            A6,
            "vgg_block returns cnnlib's make_features under another name; "
            "InceptionModule subclasses cnnlib's Inception; conv_mult_adds calls "
            "cnnlib's conv2d_cost (and inception_mult_adds, which uses it)",
            _filled(A6, **CALLS_REFERENCE),
            fails=_cells("vgg", "params", "shape", "values", "random")
            | _cells("inception", "params", "shape", "values", "random")
            | _cells("mult_adds", "lecture", "rectangular")
            | _cells("inception_cost", "naive", "bottleneck", "random"),
            feedback=[
                "called cnnlib.models.vgg.make_features, cnnlib's reference",
                "called cnnlib.models.inception.Inception.__init__",
                "your conv_mult_adds called cnnlib.models.inception.conv2d_cost",
            ],
        ),
    ]
