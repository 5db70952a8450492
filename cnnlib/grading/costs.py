"""Assignment 6: what a convolution costs, and what the 1x1 bottleneck saves.

A convolution with C_in input and C_out output channels and a KH x KW kernel,
producing H_out x W_out positions, does one multiply-add per weight and output
position: H_out * W_out * C_out * C_in * KH * KW. (The bias additions and the
ReLUs are not counted; a multiply-add is one multiplication and the addition that
accumulates it.) An Inception module costs the sum of its convolutions, every one
"same"-padded with stride 1 (so H x W positions); its max pooling costs none.

The expected numbers are computed here from these formulas (the tests check them
against ``cnnlib.models.conv2d_cost`` and ``inception_cost``). Both checks expect
Python ints and forbid cnnlib (its cost functions) and torch's convolutions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading.cases import generator
from cnnlib.grading.compare import compare_int
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

ADDITIONS_TWICE = (
    "you counted the additions too: a multiply-add is one multiplication and the "
    "addition that accumulates it, counted once"
)


def _kernel(k) -> tuple[int, int]:
    return (k, k) if isinstance(k, int) else tuple(k)


def mult_adds(c_in: int, c_out: int, k, h_out: int, w_out: int) -> int:
    """H_out * W_out * C_out * C_in * KH * KW."""
    kh, kw = _kernel(k)
    return h_out * w_out * c_out * c_in * kh * kw


def _grade_ints(mistakes: Callable[[Case], list[tuple[str, int]]], expect, formula):
    """A part: each case's result must be the int ``expect(case)``."""

    def run_cases(cases: list[Case]) -> Callable[[Callable, Grader], int]:
        def run(fn: Callable, grader: Grader) -> int:
            for case in cases:
                got = grader.call(fn, case).result
                want = expect(case)
                mismatch = compare_int(got, want, name="the number of multiply-adds")
                if mismatch is None:
                    continue
                hint, message = None, mismatch.message
                if mismatch.stage == "values":
                    hint = next(
                        (h for h, v in mistakes(case) if v == got and v != want), None
                    )
                    if case.hidden:  # the inputs are shown, the answer is not
                        message = f"the number of multiply-adds, {got}, is wrong"
                grader.fail(case, f"{message}: {formula(case)}", hint)
            return len(cases)

        return run

    return run_cases


# -- one convolution -----------------------------------------------------------------

_CONV_ARGS = ("in_channels", "out_channels", "kernel_size", "height_out", "width_out")


def _conv_case(label: str, *values) -> Case:
    return Case(label, dict(zip(_CONV_ARGS, values, strict=True)), hidden=False)


def _conv_expect(case: Case) -> int:
    return mult_adds(*case.tensors.values())


def _conv_formula(case: Case) -> str:
    c_in, c_out, k, h, w = case.tensors.values()
    kh, kw = _kernel(k)
    return (
        "H_out * W_out * C_out * C_in * KH * KW = "
        f"{h} * {w} * {c_out} * {c_in} * {kh} * {kw}"
    )


def _conv_mistakes(case: Case) -> list[tuple[str, int]]:
    c_in, c_out, k, h, w = case.tensors.values()
    kh, kw = _kernel(k)
    right = mult_adds(c_in, c_out, k, h, w)
    return [
        (ADDITIONS_TWICE, 2 * right),
        (
            "each output sums over all C_in input channels: C_in * KH * KW products "
            "per output value",
            right // c_in,
        ),
        ("one output map per filter: multiply by C_out", right // c_out),
        (
            "the kernel (KH, KW) is not square: use KH * KW",
            h * w * c_out * c_in * kh * kh,
        ),
        ("a KH x KW kernel has KH * KW taps, not KH", h * w * c_out * c_in * kh),
        (
            "the bias additions are not multiply-adds; count the multiplications",
            right + h * w * c_out,
        ),
        (
            "that is the number of parameters; each weight is used at every output "
            "position: multiply by H_out * W_out",
            (c_in * kh * kw + 1) * c_out,
        ),
        (
            "that is the number of parameters; each weight is used at every output "
            "position: multiply by H_out * W_out",
            c_in * kh * kw * c_out,
        ),
    ]


def check_conv_mult_adds(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(in_channels, out_channels, kernel_size, height_out, width_out)``,
    the multiply-adds of one convolution for one image, a Python int.

    Parts: "lecture" (the 5x5 convolution from 28x28x192 to 28x28x32: 120,422,400;
    with a 1x1 bottleneck to 16 channels first: 2,408,448 + 10,035,200; LeNet-5's
    C1; VGG-16's conv1_2), "rectangular" (kernel_size a pair (KH, KW), H_out !=
    W_out), or None.
    """
    grade = _grade_ints(_conv_mistakes, _conv_expect, _conv_formula)
    parts = {
        "lecture": grade(
            [
                _conv_case(
                    "the lecture's 5x5 convolution, 192 -> 32 on 28x28",
                    192,
                    32,
                    5,
                    28,
                    28,
                ),
                _conv_case("its 1x1 bottleneck, 192 -> 16", 192, 16, 1, 28, 28),
                _conv_case("then the 5x5 convolution, 16 -> 32", 16, 32, 5, 28, 28),
                _conv_case("LeNet-5's C1", 1, 6, 5, 28, 28),
                _conv_case("VGG-16's conv1_2", 64, 64, 3, 224, 224),
            ]
        ),
        "rectangular": grade(
            [
                _conv_case("a 1x7 kernel", 128, 192, (1, 7), 17, 17),
                _conv_case("a 3x5 kernel, output 14x7", 8, 12, (3, 5), 14, 7),
            ]
        ),
    }
    return run_parts(
        "conv_mult_adds",
        parts,
        part,
        fn,
        forbid=("conv",),
        what="your conv_mult_adds",
    )


# -- the Inception module -------------------------------------------------------------

_INCEPTION_ARGS = (
    "in_channels",
    "ch1x1",
    "ch3x3red",
    "ch3x3",
    "ch5x5red",
    "ch5x5",
    "pool_proj",
    "height",
    "width",
)


def _inception_case(label: str, *values, hidden: bool = False) -> Case:
    return Case(label, dict(zip(_INCEPTION_ARGS, values, strict=True)), hidden=hidden)


def inception_mult_adds(
    c_in, ch1, red3, ch3, red5, ch5, proj, h, w, *, reductions=True, projection=True
) -> int:
    """The module's multiply-adds; ``reductions=False`` or ``projection=False``
    leaves out the 1x1 reductions or the pool projection (canonical mistakes)."""
    total = mult_adds(c_in, ch1, 1, h, w)
    for red, ch, k in ((red3, ch3, 3), (red5, ch5, 5)):
        if red is None:
            total += mult_adds(c_in, ch, k, h, w)
        else:
            total += mult_adds(red, ch, k, h, w)
            total += mult_adds(c_in, red, 1, h, w) if reductions else 0
    if proj is not None and projection:
        total += mult_adds(c_in, proj, 1, h, w)
    return total


def _inception_expect(case: Case) -> int:
    return inception_mult_adds(*case.tensors.values())


def _inception_formula(case: Case) -> str:
    return (
        "the sum over the module's convolutions (1x1, reductions, 3x3, 5x5, pool "
        "projection) of H * W * C_out * C_in * K * K; each sees H x W positions, and "
        "a None width means that 1x1 layer does not exist"
    )


def _inception_mistakes(case: Case) -> list[tuple[str, int]]:
    v = list(case.tensors.values())
    c_in, ch1, red3, ch3, red5, ch5, proj, h, w = v
    right = inception_mult_adds(*v)
    return [
        (ADDITIONS_TWICE, 2 * right),
        (
            "the 1x1 reductions cost multiply-adds too: H * W * ch3x3red * C_in "
            "and H * W * ch5x5red * C_in",
            inception_mult_adds(*v, reductions=False),
        ),
        (
            "the pool branch's 1x1 projection costs H * W * pool_proj * C_in",
            inception_mult_adds(*v, projection=False),
        ),
        (
            "the 1x1 reductions and the pool projection cost multiply-adds too",
            inception_mult_adds(*v, reductions=False, projection=False),
        ),
        (
            "max pooling multiplies nothing: it costs no multiply-adds",
            right + 9 * c_in * h * w,
        ),
        (
            "after its 1x1 reduction, a 3x3 or 5x5 convolution reads the reduced "
            "channels (ch3x3red, ch5x5red), not in_channels",
            inception_mult_adds(c_in, ch1, None, ch3, None, ch5, proj, h, w)
            + (mult_adds(c_in, red3, 1, h, w) if red3 else 0)
            + (mult_adds(c_in, red5, 1, h, w) if red5 else 0),
        ),
    ]


def _random_module(gen, i: int) -> tuple:
    """Widths 1-256, sizes 3-32; module i lacks one of its 1x1 layers (i = 0, 1)."""

    def draw(low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=gen))

    c_in, ch1, red3, ch3, red5, ch5, proj = (draw(1, 256) for _ in range(7))
    h, w = draw(3, 32), draw(3, 32)
    if i == 0:
        red3 = None
    elif i == 1:
        proj = None
    return c_in, ch1, red3, ch3, red5, ch5, proj, h, w


def check_inception_mult_adds(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
    height, width)``, the multiply-adds of an Inception module on an H x W input
    (a Python int). ``ch3x3red``, ``ch5x5red`` or ``pool_proj`` None means that
    1x1 layer is absent (the naive module of the paper's Fig. 2a has none).

    Parts: "naive" (inception (3a) without 1x1 layers: 303,464,448), "bottleneck"
    (inception (3a): 128,049,152, and (4a)), "random" (hidden: other widths,
    some reductions absent), or None.
    """
    a3 = (192, 64, 96, 128, 16, 32, 32, 28, 28)
    gen = generator(1701)
    grade = _grade_ints(_inception_mistakes, _inception_expect, _inception_formula)
    parts = {
        "naive": grade(
            [
                _inception_case(
                    "inception (3a), naive", 192, 64, None, 128, None, 32, None, 28, 28
                ),
                _inception_case(
                    "a small naive module", 8, 4, None, 6, None, 2, None, 5, 7
                ),
            ]
        ),
        "bottleneck": grade(
            [
                _inception_case("inception (3a)", *a3),
                _inception_case(
                    "inception (4a)", 480, 192, 96, 208, 16, 48, 64, 14, 14
                ),
            ]
        ),
        "random": grade(
            [
                _inception_case(
                    f"random module {i + 1}", *_random_module(gen, i), hidden=True
                )
                for i in range(3)
            ]
        ),
    }
    return run_parts(
        "inception_mult_adds",
        parts,
        part,
        fn,
        forbid=("conv",),
        what="your inception_mult_adds",
    )
