"""Assignment 8: the transposed convolution and the size of its output.

Letters as everywhere in cnnlib: x (N, C_in, H, W), weight (C_in, C_out, KH, KW)
(the first axis is the channels of the *small* side, as in torch), bias (C_out,)
or None, output (N, C_out, H_out, W_out) with
H_out = (H - 1)S - 2P + KH + OP (likewise W_out). Each input pixel x[n, c, i, j]
pastes the kernel weight[c], scaled by its value, at (i*S, j*S) of a grid of
(H - 1)S + KH rows; overlapping copies add up; then P rows and columns are
cropped from every side and OP rows/columns are added at the bottom and right.
Stride, padding and output_padding are ints; tensors are float64.

Forbids torch's convolution kernels (F.conv_transpose2d, F.conv2d,
nn.ConvTranspose2d, torch.ops.aten.convolution, ...) and cnnlib; einsum,
matmul, indexing, F.pad and F.fold are allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator, image, randn, reference
from cnnlib.grading.compare import compare_int
from cnnlib.grading.runner import Case, CheckResult, Grader, each_case, run_parts

# Deck 001, "Branche ascendante - upsampling": the 2x2 input and the 2x2 filter of
# ones (stride 1 and 2), and the exercise with a 3x3 filter.
UPSAMPLE_INPUT = [[0, 1], [2, 3]]
ONES_2X2 = [[1, 1], [1, 1]]
EXERCISE_INPUT = [[2, 1], [4, 4]]
EXERCISE_FILTER = [[1, 4, 1], [1, 4, 3], [3, 3, 1]]

_DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0}

ROTATED_KERNEL = (
    "the kernel is rotated by 180 degrees: a transposed convolution pastes the "
    "kernel as it is, scaled by each input pixel. Written as a convolution of "
    "the zero-inserted, padded input, it needs the kernel rotated once "
    "(torch.flip(weight, (2, 3))): you rotated it twice, or not at all"
)
FLIPPED_ONE_AXIS = (
    "the kernel is flipped along one axis only; the rotation by 180 degrees "
    "flips both: torch.flip(weight, (2, 3))"
)
KERNEL_TRANSPOSED = (
    "you swapped the kernel's rows and columns: weight is (C_in, C_out, KH, KW), "
    "its row index moves down the output (H)"
)
WEIGHT_IN_OUT = (
    "you swapped the kernel's channel axes: a transposed convolution's weight is "
    "(C_in, C_out, KH, KW), weight[c, o] connects input channel c to output "
    "channel o (the reverse of conv2d's)"
)
PADDING_ONE_SIDE = (
    "padding P crops P rows and columns from *each* side of the full output "
    "(top and bottom, left and right), not 2P from one side"
)
OUTPUT_PADDING_SIDE = (
    "output_padding adds its rows and columns at the bottom and right of the "
    "output, not at the top and left"
)
CONV_SIZE = (
    "this is the size of a convolution's output; a transposed convolution goes "
    "the other way: H_out = (H - 1)S - 2P + K + OP"
)
STRIDE_IGNORED = (
    "this is the size for stride 1: the copies of the kernel land S pixels apart "
    "in the output, so the grid grows to (H - 1)S + K"
)
STRIDE_AS_CONV = (
    "the stride is applied as in a convolution (skipping positions of the "
    "padded input); in a transposed convolution it spaces the *input* pixels S "
    "apart (insert S - 1 zeros between them) before the stride-1 convolution"
)
PADDING_ADDED = (
    "in a transposed convolution padding P *removes* P rows and columns from "
    "each side of the output; you added them"
)
PADDING_ONCE = "padding P crops P from each side: 2P per dimension"
OUTPUT_PADDING_IGNORED = (
    "output_padding adds OP rows and columns (at the bottom and right): "
    "H_out = (H - 1)S - 2P + K + OP"
)
OUTPUT_PADDING_TWICE = "output_padding adds OP once per dimension, on one side"
HW_SWAPPED = "height and width are swapped: keep (N, C, H, W) order"


def transposed_size(size: int, k: int, s: int = 1, p: int = 0, op: int = 0) -> int:
    """(H - 1)S - 2P + K + OP."""
    return (size - 1) * s - 2 * p + k + op


def size_formula(size: int, k: int, s: int, p: int, op: int, axis: str = "H") -> str:
    """The output-size formula with the case's numbers, for shape messages."""
    return (
        f"{axis}_out = ({axis} - 1)S - 2P + K + OP = ({size} - 1)*{s} - 2*{p} + "
        f"{k} + {op} = {transposed_size(size, k, s, p, op)}"
    )


def ct_case(
    label: str,
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    hidden: bool = True,
    **options: int,
) -> Case:
    """A conv_transpose2d case; only the non-default options are passed."""
    tensors = {"x": x, "weight": weight}
    if bias is not None:
        tensors["bias"] = bias
    options = {k: v for k, v in options.items() if v != _DEFAULTS[k]}
    return Case(label, tensors, options, hidden=hidden)


def _options(case: Case) -> tuple[int, int, int]:
    o = case.options
    return o.get("stride", 1), o.get("padding", 0), o.get("output_padding", 0)


def _formula(case: Case) -> str:
    x, w = case.tensors["x"], case.tensors["weight"]
    s, p, op = _options(case)
    h = size_formula(x.shape[2], w.shape[2], s, p, op, "H")
    v = size_formula(x.shape[3], w.shape[3], s, p, op, "W")
    return f"(N, C_out, H_out, W_out) with {h} and {v}"


def _wrong_shapes(case: Case) -> list[tuple[str, tuple[int, ...]]]:
    x, w = case.tensors["x"], case.tensors["weight"]
    n, c_out = x.shape[0], w.shape[1]
    s, p, op = _options(case)
    hw, kk = tuple(x.shape[2:]), tuple(w.shape[2:])

    def shape(size_fn) -> tuple[int, ...]:
        return (n, c_out, *(size_fn(h, k) for h, k in zip(hw, kk, strict=True)))

    right = shape(lambda h, k: transposed_size(h, k, s, p, op))
    wrong = [
        (CONV_SIZE, shape(lambda h, k: (h + 2 * p - k) // s + 1)),
        (STRIDE_AS_CONV, shape(lambda h, k: (h + 2 * (k - 1 - p) - k) // s + 1)),
        (PADDING_ADDED, shape(lambda h, k: (h - 1) * s + 2 * p + k + op)),
        (PADDING_ONCE, shape(lambda h, k: (h - 1) * s - p + k + op)),
        (OUTPUT_PADDING_TWICE, shape(lambda h, k: transposed_size(h, k, s, p, 2 * op))),
        (OUTPUT_PADDING_IGNORED, shape(lambda h, k: transposed_size(h, k, s, p, 0))),
    ]
    if s != 1:
        wrong.append(
            (STRIDE_IGNORED, shape(lambda h, k: transposed_size(h, k, 1, p, op)))
        )
    wrong.append((HW_SWAPPED, (n, c_out, right[3], right[2])))
    return [(hint, sh) for hint, sh in wrong if sh != right and min(sh) > 0]


def _wrong_values(case: Case) -> list[dx.Candidate]:
    """Outputs of the canonical conv_transpose2d mistakes for this case."""
    ct = reference("conv_transpose2d")
    x, w = case.tensors["x"], case.tensors["weight"]
    b = case.tensors.get("bias")
    s, p, op = _options(case)

    def run(w=w, b=b, p=p, op=op):
        return ct(x, w, b, stride=s, padding=p, output_padding=op)

    h_out, w_out = run().shape[2:]
    wrong = [
        (ROTATED_KERNEL, lambda: run(w=torch.flip(w, (2, 3)))),
        (FLIPPED_ONE_AXIS, lambda: run(w=torch.flip(w, (2,)))),
        (FLIPPED_ONE_AXIS, lambda: run(w=torch.flip(w, (3,)))),
    ]
    if b is not None:
        wrong.append((dx.MISSING_BIAS, lambda: run(b=None)))
    if w.shape[2] == w.shape[3]:
        wrong.append((KERNEL_TRANSPOSED, lambda: run(w=w.transpose(2, 3))))
    if w.shape[0] == w.shape[1]:
        wrong.append((WEIGHT_IN_OUT, lambda: run(w=w.transpose(0, 1))))
    if op > 0:

        def top_left() -> torch.Tensor:
            bias = 0 if b is None else b.view(1, -1, 1, 1)
            full = F.pad(run(p=0, op=0) - bias, (op, 0, op, 0))
            return full[..., p : p + h_out, p : p + w_out] + bias

        wrong.append((OUTPUT_PADDING_SIDE, top_left))
    if p > 0:

        def cropped(top: int) -> torch.Tensor:
            full = run(p=0)  # (N, C_out, H_out + 2P, W_out + 2P)
            return full[..., top : top + h_out, top : top + w_out]

        wrong.append((PADDING_ONE_SIDE, lambda: cropped(0)))
        wrong.append((PADDING_ONE_SIDE, lambda: cropped(2 * p)))
    return wrong


def grade_conv_transpose(grader: Grader, case: Case, got: object) -> None:
    t = case.tensors
    s, p, op = _options(case)
    expected = reference("conv_transpose2d")(
        t["x"], t["weight"], t.get("bias"), stride=s, padding=p, output_padding=op
    )

    def hint(m):
        return dx.by_stage(m, lambda: _wrong_shapes(case), lambda: _wrong_values(case))

    grader.grade(case, got, expected, formula=_formula(case), diagnose=hint)


def _cases() -> dict[str, list[Case]]:
    gen = generator(901)

    def rnd(*shape):
        return randn(gen, *shape)

    up, ones = image(UPSAMPLE_INPUT), image(ONES_2X2)
    return {
        "lecture": [
            ct_case("2x2 input, 2x2 filter of ones", up, ones, hidden=False),
            ct_case("the same with stride 2", up, ones, hidden=False, stride=2),
            ct_case(
                "exercise: 2x2 input, 3x3 filter",
                image(EXERCISE_INPUT),
                image(EXERCISE_FILTER),
                hidden=False,
            ),
        ],
        "shape": [
            ct_case("batch, non-square image and kernel", rnd(3, 1, 4, 5),
                    rnd(1, 1, 3, 2)),
        ],
        "channels": [
            ct_case("as many outputs as inputs", rnd(2, 4, 3, 4), rnd(4, 4, 2, 3)),
            ct_case("C_in -> C_out", rnd(2, 3, 4, 3), rnd(3, 5, 3, 3)),
        ],
        "bias": [
            ct_case("with bias", rnd(2, 3, 3, 4), rnd(3, 2, 3, 3), rnd(2)),
        ],
        "stride": [
            ct_case("stride 2, overlapping copies", rnd(2, 2, 3, 4),
                    rnd(2, 3, 3, 3), stride=2),
            ct_case("stride 3, gaps between copies", rnd(1, 2, 3, 2),
                    rnd(2, 2, 2, 2), stride=3),
        ],
        "padding": [
            ct_case("padding 1", rnd(2, 2, 4, 5), rnd(2, 3, 3, 3), padding=1),
            ct_case("kernel 4, stride 2, padding 1: twice the size",
                    rnd(1, 3, 3, 4), rnd(3, 2, 4, 4), stride=2, padding=1),
        ],
        "output_padding": [
            ct_case("kernel 3, stride 2, padding 1, output_padding 1",
                    rnd(2, 2, 4, 3), rnd(2, 3, 3, 3), rnd(3), stride=2,
                    padding=1, output_padding=1),
            ct_case("stride 3, output_padding 2", rnd(1, 2, 3, 3),
                    rnd(2, 2, 2, 3), stride=3, output_padding=2),
        ],
        "random": [
            ct_case("everything at once", rnd(2, 3, 5, 4), rnd(3, 4, 3, 4),
                    rnd(4), stride=2, padding=1, output_padding=1),
            ct_case("1x1 kernel, stride 2", rnd(2, 3, 4, 5), rnd(3, 2, 1, 1),
                    rnd(2), stride=2),
            ct_case("large kernel, padding 2", rnd(1, 2, 3, 3), rnd(2, 3, 5, 4),
                    padding=2),
            ct_case("U-Net's 2x2 up-convolution", rnd(2, 4, 3, 5),
                    rnd(4, 2, 2, 2), rnd(2), stride=2),
        ],
    }  # fmt: skip


def check_conv_transpose2d(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x, weight, bias=None, stride=1, padding=0, output_padding=0)``.

    Args:
        fn: the student's transposed convolution: x (N, C_in, H, W), weight
            (C_in, C_out, KH, KW), bias (C_out,) or None; stride, padding and
            output_padding ints passed by keyword when not the default. Returns
            (N, C_out, H_out, W_out), H_out = (H - 1)S - 2P + KH + OP.
        part: "lecture" (the slides' upsampling examples: a 2x2 filter of ones
            with stride 1 and 2, the 3x3-filter exercise), "shape", "channels",
            "bias", "stride", "padding", "output_padding", "random", or None.

    Forbids torch's convolution kernels (transposed or not) and cnnlib.
    """
    parts = {
        name: each_case(group, grade_conv_transpose) for name, group in _cases().items()
    }
    return run_parts(
        "conv_transpose2d",
        parts,
        part,
        fn,
        forbid=("conv",),
        what="your conv_transpose2d",
    )


# -- the output size ----------------------------------------------------------------


def _size_case(label, size, k, stride=1, padding=0, output_padding=0) -> Case:
    options = {"stride": stride, "padding": padding, "output_padding": output_padding}
    options = {key: v for key, v in options.items() if v != _DEFAULTS[key]}
    return Case(label, {"size": size, "kernel_size": k}, options, hidden=False)


def _size_mistakes(size, k, s, p, op) -> list[tuple[str, int]]:
    return [
        (CONV_SIZE, (size + 2 * p - k) // s + 1),
        (
            "the last input pixel pastes its kernel at (H - 1)S, not H S: "
            "H_out = (H - 1)S - 2P + K + OP",
            size * s - 2 * p + k + op,
        ),
        (PADDING_ADDED, (size - 1) * s + 2 * p + k + op),
        (PADDING_ONCE, (size - 1) * s - p + k + op),
        (OUTPUT_PADDING_IGNORED, (size - 1) * s - 2 * p + k),
        (
            "the kernel adds K - 1 rows after the last copy's first one: + K, "
            "not + K - 1",
            (size - 1) * s - 2 * p + k - 1 + op,
        ),
        (STRIDE_IGNORED, (size - 1) - 2 * p + k + op),
    ]


def check_conv_transpose_output_size(
    fn: Callable, part: str | None = None
) -> CheckResult:
    """Grade ``fn(size, kernel_size, stride=1, padding=0, output_padding=0) -> int``.

    The result is (size - 1)*stride - 2*padding + kernel_size + output_padding,
    a Python int. Only non-default options are passed, by keyword.

    Parts: "lecture" (the slides' examples and U-Net's 2x2 up-convolution),
    "options" (padding and output_padding), "random", or None. Forbids torch's
    convolutions (no measuring a real transposed convolution).
    """
    ct = reference("conv_transpose2d")
    gen = generator(902)

    def expected_size(case: Case) -> int:
        size, k = case.tensors["size"], case.tensors["kernel_size"]
        s, p, op = _options(case)
        x = torch.zeros(1, 1, size, 1, dtype=torch.float64)
        w = torch.zeros(1, 1, k, 1, dtype=torch.float64)
        out = ct(x, w, stride=(s, 1), padding=(p, 0), output_padding=(op, 0))
        return out.shape[2]

    def grade(cases: list[Case]) -> Callable:
        def run(fn: Callable, grader: Grader) -> int:
            for case in cases:
                got = grader.call(fn, case).result
                want = expected_size(case)
                mismatch = compare_int(got, want, name="the output size")
                if mismatch is None:
                    continue
                size, k = case.tensors["size"], case.tensors["kernel_size"]
                s, p, op = _options(case)
                hint = None
                if mismatch.stage == "values":
                    wrong = _size_mistakes(size, k, s, p, op)
                    hint = next((h for h, v in wrong if v == got and v != want), None)
                formula = size_formula(size, k, s, p, op)
                grader.fail(case, f"{mismatch.message}: {formula}", hint)
            return len(cases)

        return run

    def rand(label: str) -> Case:
        def draw(low: int, high: int) -> int:
            return int(torch.randint(low, high, (1,), generator=gen))

        size, k, s = draw(2, 30), draw(1, 6), draw(1, 4)
        p = min(draw(0, 3), (k - 1) // 2 + (size - 1) * s // 2)
        op = draw(0, s) if s > 1 else 0
        return _size_case(label, size, k, s, p, op)

    parts = {
        "lecture": grade(
            [
                _size_case("2x2 input, 2x2 filter, stride 1", 2, 2),
                _size_case("2x2 input, 2x2 filter, stride 2", 2, 2, stride=2),
                _size_case("2x2 input, 3x3 filter (the exercise)", 2, 3),
                _size_case("U-Net's 2x2 up-convolution of a 28x28 map", 28, 2, 2),
            ]
        ),
        "options": grade(
            [
                _size_case("kernel 3, stride 2, padding 1", 4, 3, 2, 1),
                _size_case("the same with output_padding 1", 4, 3, 2, 1, 1),
                _size_case("kernel 4, stride 2, padding 1 doubles", 5, 4, 2, 1),
                _size_case("stride 3, output_padding 2", 6, 2, 3, 0, 2),
            ]
        ),
        "random": grade([rand(f"random {i + 1}") for i in range(6)]),
    }
    return run_parts(
        "conv_transpose_output_size",
        parts,
        part,
        fn,
        forbid=("conv",),
        what="your conv_transpose_output_size",
    )
