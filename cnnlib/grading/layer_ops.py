"""Assignment 5: the student's conv2d and avg_pool2d as the forward functions of
cnnlib's layers, called the way the layers call them and differentiated by autograd.

``nn.Conv2d(..., impl=fn)`` calls ``fn(x, weight, bias, stride, padding, dilation,
groups)`` positionally, with stride, padding and dilation as pairs (SH, SW) and
groups = 1; ``nn.AvgPool2d(..., impl=fn)`` calls ``fn(x, kernel_size, stride,
padding, ceil_mode, count_include_pad, divisor_override)`` = (x, K, S, 0, False,
True, None). During training the tensors are float32 and require grad: autograd
differentiates the student's tensor operations, so the backward pass comes for
free as long as every operation is differentiable. The expected gradients come
from cnnlib.ops' explicit backward passes.

Forbids torch's convolution (resp. pooling) kernels and cnnlib, in the forward
pass and in the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator, randn, reference
from cnnlib.grading.compare import GradingError, check_tensor_type
from cnnlib.grading.guard import run_student
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

PAIRS_HINT = (
    "the layer passes stride, padding and dilation as pairs (SH, SW), e.g. "
    "stride=(1, 1): accept an int or a pair (see pair() in the notebook)"
)
POOL_CALL_HINT = (
    "nn.AvgPool2d calls fn(x, kernel_size, stride, padding, ceil_mode, "
    "count_include_pad, divisor_override), positionally: give your function "
    "torch.nn.functional.avg_pool2d's parameters, in that order"
)
GRAPH_CUT = (
    "autograd cannot see how your output was computed from {name}: something cut "
    "the graph (.detach(), .data, .numpy(), .item(), torch.tensor(...) of computed "
    "values, or a torch.no_grad() block). Build the output from tensor operations "
    "on the inputs themselves"
)
_FLOAT32 = {"atol": 1e-4, "rtol": 1e-4}  # the layers train in float32


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _with_hint(grader: Grader, case: Case, fn: Callable, hint: str):
    """Call the student's function; a raised error gets the calling-convention hint."""
    try:
        return grader.call(fn, case).result
    except GradingError as error:
        text = str(error)
        if " raised " in text and "Hint:" not in text:
            text += f"\nHint: {hint}"
        raise GradingError(text) from None


# -- conv2d ---------------------------------------------------------------------------


def _conv_case(label, x, w, b, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    tensors = {"x": x, "weight": w, "bias": b, "stride": stride}
    tensors |= {"padding": padding, "dilation": dilation, "groups": 1}
    return Case(label, tensors)


def _conv_expected(case: Case, x=None, w=None, b=None) -> torch.Tensor:
    t = case.tensors
    x, w = (t["x"] if x is None else x), (t["weight"] if w is None else w)
    b = t["bias"] if b is None else b
    conv2d = reference("conv2d")
    return conv2d(
        x.double(),
        w.double(),
        None if b is None else b.double(),
        t["stride"],
        t["padding"],
        t["dilation"],
    )


def _conv_layer_shapes(case: Case) -> list[tuple[str, tuple[int, ...]]]:
    """Output shapes of the pair mistakes: one value for both axes, or swapped."""
    t = case.tensors
    n, _, h, w = t["x"].shape
    c_out, _, kh, kw = t["weight"].shape
    s, p, d = t["stride"], t["padding"], t["dilation"]

    def shape(s, p, d):
        return (
            n,
            c_out,
            dx.out_size(h, kh, s[0], p[0], d[0]),
            dx.out_size(w, kw, s[1], p[1], d[1]),
        )

    right = shape(s, p, d)
    wrong = [
        (
            "the pairs are (height, width): use stride[0], padding[0] and "
            "dilation[0] for H, the second values for W",
            shape(s[::-1], p[::-1], d[::-1]),
        ),
        (
            "you used the first value of each pair for both axes: the second one is "
            "for W",
            shape((s[0],) * 2, (p[0],) * 2, (d[0],) * 2),
        ),
    ]
    return [(hint, sh) for hint, sh in wrong if sh != right]


def _conv_layer_call(cases: list[Case]) -> Callable[[Callable, Grader], int]:
    def run(fn: Callable, grader: Grader) -> int:
        for case in cases:
            got = _with_hint(grader, case, fn, PAIRS_HINT)
            x = case.tensors["x"]
            expected = _conv_expected(case).to(x.dtype)
            tolerance = _FLOAT32 if x.dtype == torch.float32 else {}
            grader.grade(
                case,
                got,
                expected,
                formula="(N, C_out, H_out, W_out), H_out from stride[0], padding[0] "
                "and dilation[0], W_out from the second values",
                diagnose=lambda m, c=case: dx.by_stage(
                    m, lambda: _conv_layer_shapes(c)
                ),
                **tolerance,
            )
        return len(cases)

    return run


def _gradients(
    grader: Grader,
    case: Case,
    fn: Callable,
    names: tuple[str, ...],
    expected: Callable[[], tuple[torch.Tensor, ...]],
    grad_out: torch.Tensor,
    hint: str,
) -> None:
    """Differentiate the student's output by autograd; compare with ``expected``."""
    leaves = {n: case.tensors[n].detach().clone().requires_grad_() for n in names}
    graded = Case(case.label, {**case.tensors, **leaves}, case.options, case.hidden)
    with torch.enable_grad():
        out = _with_hint(grader, graded, fn, hint)
    wrong_type = check_tensor_type(out, "output")
    if wrong_type is not None:
        grader.fail(case, wrong_type.message)
    if tuple(out.shape) != tuple(grad_out.shape):
        grader.fail(
            case,
            f"output has shape {tuple(out.shape)} but expected "
            f"{tuple(grad_out.shape)}: grade the values first (the other parts)",
        )
    if not out.requires_grad:
        grader.fail(case, "output does not require grad", GRAPH_CUT.format(name="x"))
    inputs = [leaves[n] for n in names]

    def backward():
        return torch.autograd.grad(out, inputs, grad_out, allow_unused=True)

    try:
        run = run_student(
            backward, forbid=grader.forbid, what=f"{grader.what}'s backward"
        )
    except GradingError as error:
        grader.fail(case, str(error))
    want = expected()
    for name, got, right in zip(names, run.result, want, strict=True):
        if got is None:
            grader.fail(
                case, f"the gradient of {name} is None", GRAPH_CUT.format(name=name)
            )
        grader.grade(
            case,
            got,
            right,
            name=f"the gradient of {name}",
            formula=f"the gradient of {name} has the shape of {name}",
        )


def check_conv2d_layer(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn`` as the forward function of ``nn.Conv2d(..., impl=fn)``.

    Args:
        fn: the student's conv2d, called positionally as the layer calls it:
            ``fn(x, weight, bias, stride, padding, dilation, groups)`` with pairs
            (SH, SW) and groups = 1.
        part: "layer_call" (pairs that differ per axis, bias None, float32 inputs
            like LeNet-5's C1 during training: the output keeps x's dtype),
            "gradients" (grad of x, weight and bias by autograd through fn, against
            cnnlib's explicit backward), or None for both.

    Forbids torch's convolution kernels and cnnlib, forward and backward.
    """
    gen = generator(1501)

    def rnd(*shape, scale=1.0):
        return randn(gen, *shape, scale=scale)

    layer_cases = [
        _conv_case(
            "LeNet-5's C1 in training: float32, pairs (1, 1)",
            rnd(4, 1, 32, 32).float(),
            rnd(6, 1, 5, 5, scale=0.2).float(),
            rnd(6, scale=0.1).float(),
        ),
        _conv_case(
            "pairs that differ per axis",
            rnd(2, 3, 9, 8),
            rnd(4, 3, 3, 2),
            rnd(4),
            stride=(3, 1),
            padding=(1, 0),
            dilation=(1, 2),
        ),
        _conv_case(
            "bias None",
            rnd(2, 2, 6, 7),
            rnd(3, 2, 3, 3),
            None,
            padding=(1, 1),
        ),
    ]
    grad_cases = [
        _conv_case("with bias", rnd(2, 3, 6, 7), rnd(4, 3, 3, 3), rnd(4)),
        _conv_case(
            "stride 2, padding 1",
            rnd(2, 2, 7, 8),
            rnd(3, 2, 3, 3),
            rnd(3),
            stride=(2, 2),
            padding=(1, 1),
        ),
    ]

    def gradients(fn: Callable, grader: Grader) -> int:
        names = ("x", "weight", "bias")
        for case in grad_cases:
            shape = _conv_expected(case).shape
            grad_out = randn(generator(1502), *shape)

            def expected(case=case, grad_out=grad_out):
                leaves = [case.tensors[n].clone().requires_grad_() for n in names]
                with torch.enable_grad():
                    y = _conv_expected(case, *leaves)
                    return torch.autograd.grad(y, leaves, grad_out)

            _gradients(grader, case, fn, names, expected, grad_out, PAIRS_HINT)
        return len(grad_cases)

    parts = {"layer_call": _conv_layer_call(layer_cases), "gradients": gradients}
    return run_parts(
        "conv2d_layer", parts, part, fn, forbid=("conv",), what="your conv2d"
    )


# -- avg_pool2d ------------------------------------------------------------------------


def _pool_case(label, x, k, s) -> Case:
    tensors = {"x": x, "kernel_size": k, "stride": s, "padding": 0}
    tensors |= {"ceil_mode": False, "count_include_pad": True, "divisor_override": None}
    return Case(label, tensors)


def _pool_expected(case: Case, x=None) -> torch.Tensor:
    t = case.tensors
    x = t["x"] if x is None else x
    return reference("avg_pool2d")(x.double(), t["kernel_size"], t["stride"])


def check_avg_pool2d_layer(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn`` as the forward function of ``nn.AvgPool2d(..., impl=fn)``.

    Args:
        fn: the student's avg_pool2d, called positionally as the layer calls it:
            ``fn(x, kernel_size, stride, 0, False, True, None)``.
        part: "layer_call" (LeNet-5's S2 in float32, a 3x3 window with stride 2,
            a (2, 3) window given as a pair), "gradients" (grad of x by autograd
            through fn, against cnnlib's explicit backward), or None for both.

    Forbids torch's pooling kernels and cnnlib, forward and backward.
    """
    gen = generator(1511)

    def rnd(*shape):
        return randn(gen, *shape)

    layer_cases = [
        _pool_case(
            "LeNet-5's S2 in training: float32", rnd(4, 6, 28, 28).float(), 2, 2
        ),
        _pool_case("3x3 windows, stride 2", rnd(2, 3, 7, 9), 3, 2),
        _pool_case("kernel and stride as pairs", rnd(2, 2, 6, 9), (2, 3), (2, 3)),
    ]
    grad_cases = [
        _pool_case("2x2 windows, stride 2", rnd(2, 3, 6, 8), 2, 2),
        _pool_case("overlapping 3x3 windows, stride 2", rnd(1, 2, 7, 7), 3, 2),
    ]

    def layer_call(fn: Callable, grader: Grader) -> int:
        for case in layer_cases:
            got = _with_hint(grader, case, fn, POOL_CALL_HINT)
            x = case.tensors["x"]
            tolerance = _FLOAT32 if x.dtype == torch.float32 else {}
            grader.grade(
                case,
                got,
                _pool_expected(case).to(x.dtype),
                formula="(N, C, H_out, W_out) with H_out = floor((H - KH)/SH) + 1 "
                "and W_out = floor((W - KW)/SW) + 1",
                **tolerance,
            )
        return len(layer_cases)

    def gradients(fn: Callable, grader: Grader) -> int:
        for case in grad_cases:
            grad_out = randn(generator(1512), *_pool_expected(case).shape)

            def expected(case=case, grad_out=grad_out):
                x = case.tensors["x"].clone().requires_grad_()
                with torch.enable_grad():
                    return torch.autograd.grad(_pool_expected(case, x), x, grad_out)

            _gradients(grader, case, fn, ("x",), expected, grad_out, POOL_CALL_HINT)
        return len(grad_cases)

    parts = {"layer_call": layer_call, "gradients": gradients}
    return run_parts(
        "avg_pool2d_layer", parts, part, fn, forbid=("pool",), what="your avg_pool2d"
    )
