"""Assignment 3: conv2d, the forward pass of a convolutional layer.

Letters as everywhere in cnnlib: x (N, C_in, H, W), weight (C_out, C_in, KH, KW),
bias (C_out,) or None, output (N, C_out, H_out, W_out) with
H_out = floor((H + 2P - D(KH-1) - 1)/S) + 1 (likewise W_out). Stride, padding and
dilation are ints. Tensors are float64. "Convolution" means cross-correlation
(the kernel is not flipped), as in torch and the lectures.

Forbids torch's convolution kernels (F.conv2d, torch.conv2d, torch.nn.Conv2d,
torch.ops.aten.convolution, torch.nn.grad, ...) and cnnlib; unfold, as_strided,
matmul, einsum, F.pad and indexing are allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import (
    NG_7X7,
    NG_7X7_FILTER,
    NG_IMAGE,
    VERTICAL_EDGE,
    generator,
    image,
    randn,
    reference,
)
from cnnlib.grading.runner import (
    Case,
    CheckResult,
    Grader,
    each_case,
    kernel_growth,
    run_parts,
)

_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1}


def conv_case(
    label: str,
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    hidden: bool = True,
    **options: int,
) -> Case:
    """A conv2d case; only the non-default options are passed (by keyword)."""
    tensors = {"x": x, "weight": weight}
    if bias is not None:
        tensors["bias"] = bias
    options = {k: v for k, v in options.items() if v != _DEFAULTS[k]}
    return Case(label, tensors, options, hidden=hidden)


def _options(case: Case) -> tuple[int, int, int]:
    opts = case.options
    return opts.get("stride", 1), opts.get("padding", 0), opts.get("dilation", 1)


def conv_formula(case: Case) -> str:
    """'(N, C_out, H_out, W_out) with H_out = ... = 4, W_out = ... = 4'."""
    x, w = case.tensors["x"], case.tensors["weight"]
    s, p, d = _options(case)
    h = dx.size_formula(x.shape[2], w.shape[2], s, p, d, "H")
    v = dx.size_formula(x.shape[3], w.shape[3], s, p, d, "W")
    return f"(N, C_out, H_out, W_out) with {h} and {v}"


def conv_wrong_shapes(case: Case) -> list[tuple[str, tuple[int, ...]]]:
    x, w = case.tensors["x"], case.tensors["weight"]
    s, p, d = _options(case)
    return dx.window_shapes(
        x.shape[0],
        w.shape[0],
        tuple(x.shape[2:]),
        tuple(w.shape[2:]),
        (s, s),
        (p, p),
        (d, d),
    )


def conv_wrong_values(case: Case) -> list[dx.Candidate]:
    """Outputs of the canonical conv2d mistakes for this case."""
    conv2d = reference("conv2d")
    x, w = case.tensors["x"], case.tensors["weight"]
    b = case.tensors.get("bias")
    s, p, d = _options(case)

    def conv(x=x, w=w, b=b, p=p):
        return conv2d(x, w, b, stride=s, padding=p, dilation=d)

    wrong = [(dx.FLIPPED_KERNEL, lambda: conv(w=torch.flip(w, (2, 3))))]
    if b is not None:
        wrong.append((dx.MISSING_BIAS, lambda: conv(b=None)))
    if w.shape[2] == w.shape[3]:
        wrong.append((dx.KERNEL_TRANSPOSED, lambda: conv(w=w.transpose(2, 3))))
    if w.shape[0] == w.shape[1]:
        wrong.append((dx.WEIGHT_IN_OUT, lambda: conv(w=w.transpose(0, 1))))
    if p > 0:
        edge = lambda: F.pad(x, (p, p, p, p), mode="replicate")  # noqa: E731
        wrong.append((dx.NOT_ZERO_PADDING, lambda: conv(x=edge(), p=0)))
    return wrong


def _cases(loops: bool) -> dict[str, list[Case]]:
    """The cases of each part; ``loops`` makes them tiny (N=1, 2 channels)."""
    gen = generator(701)
    n, c_in, c_out = (1, 2, 2) if loops else (2, 3, 4)

    def rnd(*shape):
        return randn(gen, *shape)

    ng, edge = image(NG_IMAGE), image([VERTICAL_EDGE])[0]
    return {
        "lecture": [
            conv_case("6x6 image * vertical-edge filter", ng, edge, hidden=False),
            conv_case("the same with padding 1", ng, edge, hidden=False, padding=1),
            conv_case(
                "7x7 image, stride 2",
                image(NG_7X7),
                image(NG_7X7_FILTER),
                hidden=False,
                stride=2,
            ),
        ],
        "shape": [
            conv_case(
                "batch, non-square image and kernel",
                rnd(n + 1, 1, 7, 5),
                rnd(1, 1, 3, 2),
            )
        ],
        "channels": [
            conv_case("C_in -> C_out", rnd(n, c_in, 6, 5), rnd(c_out, c_in, 3, 3)),
            conv_case("as many outputs as inputs", rnd(n, 2, 5, 5), rnd(2, 2, 3, 3)),
        ],
        "bias": [
            conv_case(
                "with bias", rnd(n, c_in, 5, 6), rnd(c_out, c_in, 3, 3), rnd(c_out)
            )
        ],
        "padding": [
            conv_case(
                "padding 1", rnd(n, c_in, 5, 6), rnd(c_out, c_in, 3, 3), padding=1
            ),
            conv_case(
                "padding 2, kernel 3", rnd(n, 1, 4, 5), rnd(c_out, 1, 3, 3), padding=2
            ),
        ],
        "stride": [
            conv_case("stride 2", rnd(n, c_in, 7, 8), rnd(c_out, c_in, 3, 3), stride=2),
            conv_case(
                "stride 3, windows do not fit",
                rnd(n, 1, 8, 7),
                rnd(c_out, 1, 3, 3),
                stride=3,
            ),
        ],
        "dilation": [
            conv_case(
                "dilation 2", rnd(n, c_in, 7, 8), rnd(c_out, c_in, 3, 3), dilation=2
            ),
            conv_case(
                "dilation 2, kernel 2x3",
                rnd(n, 1, 6, 7),
                rnd(c_out, 1, 2, 3),
                dilation=2,
            ),
        ],
        "random": [
            conv_case(
                "everything at once",
                rnd(n, c_in, 9, 8),
                rnd(c_out, c_in, 3, 2),
                rnd(c_out),
                stride=2,
                padding=1,
                dilation=2,
            ),
            conv_case(
                "1x1 kernel",
                rnd(n, c_in, 4, 5),
                rnd(c_out, c_in, 1, 1),
                rnd(c_out),
                stride=2,
            ),
            conv_case(
                "kernel as large as the padded image",
                rnd(n, 1, 3, 4),
                rnd(c_out, 1, 5, 6),
                rnd(c_out),
                padding=1,
            ),
        ],
    }


def grade_conv_output(grader: Grader, case: Case, got: object) -> None:
    """Grade one conv2d output against cnnlib's, diagnosing canonical mistakes."""
    t = case.tensors
    s, p, d = _options(case)
    conv2d = reference("conv2d")
    expected = conv2d(
        t["x"], t["weight"], t.get("bias"), stride=s, padding=p, dilation=d
    )

    def hint(m):
        return dx.by_stage(
            m, lambda: conv_wrong_shapes(case), lambda: conv_wrong_values(case)
        )

    grader.grade(case, got, expected, formula=conv_formula(case), diagnose=hint)


def check_conv2d(
    fn: Callable, part: str | None = None, *, loops: bool = False
) -> CheckResult:
    """Grade ``fn(x, weight, bias=None, stride=1, padding=0, dilation=1)``.

    Args:
        fn: the student's conv2d: x (N, C_in, H, W), weight (C_out, C_in, KH, KW),
            bias (C_out,) or None; stride, padding, dilation ints (passed by
            keyword, only when not the default). Returns (N, C_out, H_out, W_out).
        part: "lecture" (the 6x6 vertical-edge example, with padding 1, the 7x7
            image with stride 2), "shape", "channels", "bias", "padding",
            "stride", "dilation", "random", "vectorised" (not with loops=True;
            the number of torch operations must not grow with the image), or
            None for all.
        loops: grade a loop version: tiny inputs (N=1, 2 channels) and no
            "vectorised" part.

    Forbids torch's convolution kernels (F.conv2d, torch.conv2d, nn.Conv2d,
    torch.ops.aten.convolution, torch.nn.grad) and cnnlib.
    """
    cases = _cases(loops)
    parts = {name: each_case(group, grade_conv_output) for name, group in cases.items()}
    if not loops:
        gen = generator(702)
        w = randn(gen, 4, 3, 3, 3)
        small = conv_case("8x8 image", randn(gen, 2, 3, 8, 8), w, padding=1)
        large = conv_case("16x16 image", randn(gen, 2, 3, 16, 16), w, padding=1)
        parts["vectorised"] = kernel_growth(
            small, large, grade_conv_output, "output positions"
        )
    return run_parts("conv2d", parts, part, fn, forbid=("conv",), what="your conv2d")
