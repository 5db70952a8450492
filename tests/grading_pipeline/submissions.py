"""The submissions the pipeline test grades, generated from the course's notebooks.

Each one starts from the release notebook (what students receive), fills every
solution cell with the reference solution, then changes a few cells: canonical
mistakes (small edits of the reference code, each in a different function, so
each costs its own cells) or hostile acts. ``fails`` lists the test cells (grade
ids) that must lose their points, and no other cell may; ``feedback`` lists
phrases that the student's feedback must show.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tests.grading_pipeline.course import (
    ASSIGNMENTS,
    edited,
    filled_notebook,
    nbgrader_cell,
)

EXTRA_CATALOGUES = ("submissions_a5_a6", "submissions_a7_a8")

A1, A2, A3, A4 = (
    "01_activations_losses",
    "02_backprop",
    "03_convolution",
    "04_backward_passes",
)


@dataclass
class Submission:
    student: str
    assignment: str
    what: str
    build: Callable[[Path], dict | str]  # release notebook path -> notebook
    fails: set[str] = field(default_factory=set)
    feedback: list[str] = field(default_factory=list)
    all_fail: bool = False  # every autograded cell loses its points
    broken: bool = False  # nbgrader cannot grade it at all


def _filled(assignment: str, **overrides: str) -> Callable[[Path], dict]:
    return lambda release: filled_notebook(assignment, overrides, release=release)


def _as_handed_out(release: Path) -> dict:
    return nbformat.read(release, 4)


def _cell(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if nbgrader_cell(c).get("grade_id") == grade_id)


def _source(assignment: str, grade_id: str) -> str:
    return _cell(filled_notebook(assignment), grade_id)["source"]


def _cells(prefix: str, *parts: str) -> set[str]:
    return {f"{prefix}_{part}" for part in parts}


CONV_PARTS = (
    "lecture",
    "shape",
    "channels",
    "bias",
    "padding",
    "stride",
    "dilation",
    "random",
)
CONV2D_PARTS = (*CONV_PARTS, "vectorised")  # the vectorised conv2d has one more

# ---------------------------------------------------------------- canonical mistakes
A1_MISTAKES = {
    "sigmoid": """
def sigmoid(x):
    return torch.exp(x) / (1 + torch.exp(x))  # inf / inf for large x
""",
    "tanh_grad": edited(
        A1, "tanh_grad", ("t = tanh(x)\n    return 1 - t * t", "return 1 - x * x")
    ),
    "softmax": """
def softmax(z):
    e = torch.exp(z)  # no max subtracted
    return e / e.sum(dim=-1, keepdim=True)
""",
    "cross_entropy": edited(A1, "cross_entropy", ("-picked.mean()", "-picked.sum()")),
}
NOISY_SIGMOID = """
import sys
import warnings


def sigmoid(x):
    warnings.warn("this sigmoid is old-fashioned", DeprecationWarning)
    print("computing a sigmoid", file=sys.stderr)
    z = torch.exp(-torch.abs(x))
    return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
"""
A2_MISTAKES = {
    "two_layer_forward": edited(A2, "two_layer_forward", ("R @ W2 + b2", "R @ W2")),
    "two_layer_backward": edited(A2, "two_layer_backward", ("    dS /= N\n", "")),
}
A3_MISTAKES = {
    "conv_output_size": edited(A3, "conv_output_size", ("2 * padding", "padding")),
    "conv_param_count": edited(A3, "conv_param_count", (" + int(bias)", "")),
    "conv2d_loops": edited(
        A3, "conv2d_loops", ("weight[o]).sum()", "weight[o].flip(-2, -1)).sum()")
    ),
    "conv2d": edited(
        A3,
        "conv2d",
        ("        out = out + bias.view(1, C_out, 1, 1)\n", "        pass\n"),
        ("D * (KH - 1) + 1, D * (KW - 1) + 1", "KH, KW"),
    ),
}
A4_MISTAKES = {
    "conv2d_backward": edited(
        A4, "conv2d_backward", ("grad_x_pad[:, :, P : P + H, P : P + W]", "grad_x_pad")
    ),
    "max_pool2d": edited(A4, "max_pool2d", ("S = K if stride", "S = 1 if stride")),
    # the gradient of every output sent to its whole window
    "max_pool2d_backward": _source(A4, "avg_pool2d_backward")
    .replace("avg_pool2d_backward", "max_pool2d_backward")
    .replace("grad_out / (K * K)", "grad_out"),
    "avg_pool2d_backward": edited(
        A4, "avg_pool2d_backward", ("grad_out / (K * K)", "grad_out")
    ),
}

# ------------------------------------------------------------ hostile (assignment 3)
INFINITE_LOOP = edited(
    A3,
    "conv_param_count",
    (
        "    if isinstance(kernel_size, int):",
        "    while not isinstance(kernel_size, int):  # never ends for (KH, KW)\n"
        "        pass\n"
        "    if isinstance(kernel_size, int):",
    ),
)
MEMORY_BOMB = """
def conv2d_loops(x, weight, bias=None, stride=1, padding=0, dilation=1):
    hoard = []
    for _ in range(40):  # 40 x 100 MiB: 4 GiB if nothing stops it
        hoard.append(torch.ones(100 * 2**20 // 8, dtype=torch.float64))
    return hoard[0]
"""
CALLS_REFERENCE = """
import torch.nn.functional as F
from cnnlib.ops import conv2d as my_helper


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    if dilation == 1:
        return F.conv2d(x, weight, bias, stride, padding, dilation)
    return my_helper(x, weight, bias, stride, padding, dilation)
"""
PATCH_TESTING = """
import numpy
import numpy.testing
import torch.testing

numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.testing.assert_array_equal = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.Tensor.allclose = lambda *args, **kwargs: True
torch.Tensor.equal = lambda *args, **kwargs: True

# and the grader itself: the name the test cells call, the package, a module, a code
import sys

import cnnlib.grading

check_conv_output_size = lambda *args, **kwargs: None
cnnlib.grading.check_conv2d = lambda *args, **kwargs: None
sys.modules["cnnlib.grading.runner"].run_parts = lambda *args, **kwargs: None
mismatch = sys.modules["cnnlib.grading.compare"].find_mismatch
mismatch.__code__ = (lambda *args, **kwargs: None).__code__
get_ipython().showtraceback = lambda *args, **kwargs: None


class Anything:
    \"\"\"Equal to everything.\"\"\"

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


def conv_output_size(size, kernel_size, padding=0, stride=1, dilation=1):
    return Anything()
"""
AGREEABLE_TENSOR = """
class Agreeable(torch.Tensor):
    \"\"\"A tensor equal to every other tensor.\"\"\"

    def __eq__(self, other):
        return torch.ones(self.shape, dtype=torch.bool)

    __hash__ = torch.Tensor.__hash__


def conv2d_loops(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return conv2d(x, weight, bias, stride, padding, dilation).as_subclass(Agreeable)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    N, C_out, H, W = x.shape[0], weight.shape[0], x.shape[2], x.shape[3]
    KH, KW = weight.shape[2:]
    H_out = (H + 2 * padding - dilation * (KH - 1) - 1) // stride + 1
    W_out = (W + 2 * padding - dilation * (KW - 1) - 1) // stride + 1
    return x.new_zeros(N, C_out, H_out, W_out)  # right shape, wrong values
"""


def _tampered(release: Path) -> dict:
    """Patched testing helpers and ==, wrong results, an edited and a deleted test."""
    nb = filled_notebook(
        A3,
        {
            "conv_output_size": PATCH_TESTING,
            "conv2d_loops": AGREEABLE_TENSOR,
            "conv2d": "# defined above, with conv2d_loops",
        },
        release=release,
    )
    edited_cell = _cell(nb, "conv2d_bias")
    edited_cell["source"] = "# this test always passes\npass"
    edited_cell["metadata"]["nbgrader"]["points"] = 50  # and is worth more
    nb["cells"].remove(_cell(nb, "conv2d_stride"))
    return nb


def _invalid_json(release: Path) -> str:
    text = json.dumps(filled_notebook(A3, release=release), indent=1)
    return text[: len(text) // 2]  # cut in the middle, as a crashed editor would


# ---------------------------------------------------------------- the catalogue
def catalogue() -> list[Submission]:
    subs = []
    for assignment in ASSIGNMENTS:
        subs.append(
            Submission(
                "solution", assignment, "the reference solution", _filled(assignment)
            )
        )
        subs.append(
            Submission(
                "handed_out",
                assignment,
                "the release, unchanged",
                _as_handed_out,
                all_fail=True,
            )
        )
    subs += [
        Submission(
            "mistakes",
            A1,
            "sigmoid and softmax that overflow; tanh' written 1 - x**2; "
            "cross-entropy summed over the batch",
            _filled(A1, **A1_MISTAKES),
            # the worked example computes one example at a time, where sum = mean
            fails={
                "sigmoid_stability",
                "sigmoid_grad_stability",
                "softmax_stability",
                "tanh_grad_values",
                "tanh_grad_stability",
            }
            | _cells("cross_entropy", "lecture", "batch_mean", "stability", "random"),
            feedback=[
                "Hint: exp overflows for large |x|",
                "subtract each row's max",
                "you computed 1 - x^2",
                "Hint: sum instead of mean over the batch",
            ],
        ),
        Submission(
            "noisy",
            A1,
            "a right answer that issues a DeprecationWarning and writes to stderr",
            _filled(A1, sigmoid=NOISY_SIGMOID),
            feedback=["DeprecationWarning: this sigmoid is old-fashioned"],
        ),
        Submission(
            "mistakes",
            A2,
            "forward pass without b2; backward pass without the 1/N of the mean",
            _filled(A2, **A2_MISTAKES),
            # every forward part compares values, so each one sees the missing b2
            fails=_cells("forward", "shape", "relu", "bias", "values")
            | _cells("backward", "dW2", "db2", "dW1", "db1")
            | {"train_val_accuracy", "train_test_accuracy"},
            feedback=[
                "Hint: you forgot b2",
                "Hint: sum instead of mean over the batch",
                "validation accuracy is 0.",
            ],
        ),
        Submission(
            "mistakes",
            A3,
            "padding counted once; parameters without biases; the loop conv2d "
            "flips the kernel; the vectorised one drops the bias and ignores "
            "dilation in the window",
            _filled(A3, **A3_MISTAKES),
            # the "bias" part of conv_param_count grades bias=False only
            fails=_cells("output_size", "lecture", "padding", "dilation", "random")
            | _cells("param_count", "lecture", "tuple")
            | _cells("loops", *CONV_PARTS)
            | _cells("conv2d", "bias", "dilation", "random"),
            feedback=[
                "Hint: padding adds P on each side",
                "Hint: each output channel also has one bias",
                "Hint: you flipped the kernel",
                "Hint: you forgot the bias",
                "your conv2d raised RuntimeError",
            ],
        ),
        Submission(
            "mistakes",
            A4,
            "conv2d backward keeps the padding in grad_x; max pooling's default "
            "stride is 1; max-pool gradient sent to the whole window; average-pool "
            "gradient not divided by K**2",
            _filled(A4, **A4_MISTAKES),
            fails=_cells("conv_backward", "padding", "random")
            | {"max_pool_default_stride"}
            | _cells(
                "max_pool_backward", "lecture", "winner_only", "overlapping", "random"
            )
            | _cells("avg_pool_backward", "lecture", "scale", "overlapping", "random"),
            feedback=[
                "Hint: crop the padding off",
                "Hint: stride=None means stride = kernel_size",
                "Hint: you sent the gradient to every element of the window",
                "you forgot to divide by the window's area",
            ],
        ),
        Submission(
            "loop_bomb_reference",
            A3,
            "an infinite loop for tuple kernel sizes; a memory bomb in "
            "conv2d_loops; conv2d calling F.conv2d, or cnnlib.ops.conv2d imported "
            "under another name",
            _filled(
                A3,
                conv_param_count=INFINITE_LOOP,
                conv2d_loops=MEMORY_BOMB,
                conv2d=CALLS_REFERENCE,
            ),
            fails={"param_count_tuple"}
            | _cells("loops", *CONV_PARTS)
            | _cells("conv2d", *CONV2D_PARTS),
            feedback=[
                "CellTimeoutError",
                "KeyboardInterrupt",
                "DefaultCPUAllocator: can't allocate memory",
                "your conv2d called torch.nn.functional.conv2d",
                "your conv2d called cnnlib.ops.conv.conv2d",
            ],
        ),
        Submission(
            "tampered",
            A3,
            "numpy.testing, torch.testing, torch.allclose, the checks, the grader's "
            "modules and IPython's traceback display patched; results whose == is "
            "always true; a wrong conv2d; a test cell edited to pass (and be worth "
            "50 points), another deleted",
            _tampered,
            # conv_param_count is right and keeps its points; the edited and the deleted
            # cells are restored, run, and fail
            fails=_cells(
                "output_size", "lecture", "padding", "stride", "dilation", "random"
            )
            | _cells("loops", *CONV_PARTS)
            | _cells("conv2d", *CONV2D_PARTS),
            feedback=[
                "got __main__.Anything",
                "got __main__.Agreeable (a torch.Tensor subclass)",
                "output is wrong at",
            ],
        ),
        Submission(
            "invalid_json",
            A3,
            "a notebook file that is not valid JSON",
            _invalid_json,
            broken=True,
        ),
    ]
    # the network assignments (5-8) keep their mistakes in their own modules
    for module in EXTRA_CATALOGUES:
        subs += importlib.import_module(f"tests.grading_pipeline.{module}").catalogue()
    return subs
