"""Assignment 4: max and average pooling, forward.

The student's function is ``fn(x, kernel_size, stride=None)``: x (N, C, H, W)
float64, kernel_size an int K (K x K windows), stride an int S, passed by
keyword, and None by default, meaning S = K (windows side by side), as in torch.
No padding. The output is (N, C, H_out, W_out), H_out = floor((H - K)/S) + 1.

Forbids torch's pooling kernels (F.max_pool2d, F.avg_pool2d, torch.nn.MaxPool2d,
torch.ops.aten.max_pool2d_with_indices, adaptive pools, ...) and cnnlib;
unfold, as_strided, reshape, amax/max and mean are allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import NG_IMAGE, POOL_4X4, generator, image, randn, reference
from cnnlib.grading.runner import (
    Case,
    CheckResult,
    Grader,
    each_case,
    kernel_growth,
    run_parts,
)


def pool_case(
    label: str, x: torch.Tensor, k: int, stride: int | None = None, hidden: bool = True
) -> Case:
    """A pooling case; the stride is passed (by keyword) only when given."""
    options = {} if stride is None else {"stride": stride}
    return Case(label, {"x": x, "kernel_size": k}, options, hidden=hidden)


def window(case: Case) -> tuple[int, int]:
    """(K, S) of a pooling case, with S = K when the stride is not given."""
    k = case.tensors["kernel_size"]
    return k, case.options.get("stride", k)


def pool_shapes(case: Case) -> list[tuple[str, tuple[int, ...]]]:
    """Wrong output shapes, with the default-stride hint where it applies."""
    x = case.tensors["x"]
    k, s = window(case)
    n, c, h, w = x.shape
    wrong = dx.window_shapes(n, c, (h, w), (k, k), (s, s), (0, 0), (1, 1))
    if "stride" not in case.options:
        wrong = [
            (dx.DEFAULT_STRIDE if hint == dx.STRIDE_IGNORED else hint, shape)
            for hint, shape in wrong
        ]
    return wrong


def pool_formula(case: Case) -> str:
    x = case.tensors["x"]
    k, s = window(case)
    h = dx.size_formula(x.shape[2], k, s, 0, 1, "H")
    w = dx.size_formula(x.shape[3], k, s, 0, 1, "W")
    return f"(N, C, H_out, W_out) with {h} and {w} (P = 0, D = 1)"


def _cases(loops: bool) -> dict[str, list[Case]]:
    gen = generator(901)
    n, c = (1, 2) if loops else (2, 3)

    def rnd(*shape):
        return randn(gen, *shape)

    return {
        "shape": [pool_case("batch of non-square images", rnd(n, c, 6, 8), 2, 2)],
        "default_stride": [
            pool_case("kernel 2, no stride given", rnd(1, c, 6, 6), 2),
            pool_case("kernel 3, no stride given", rnd(n, 1, 9, 7), 3),
        ],
        "overlapping": [
            pool_case("kernel 3, stride 1", rnd(1, c, 6, 7), 3, 1),
            pool_case("kernel 3, stride 2", rnd(n, 1, 7, 7), 3, 2),
        ],
        "random": [
            pool_case("windows that do not fit", rnd(n, c, 7, 9), 2, 2),
            pool_case("stride larger than the kernel", rnd(1, c, 8, 10), 2, 3),
            pool_case("kernel 1", rnd(n, 2, 3, 4), 1),
        ],
    }


def _check(
    name: str,
    fn: Callable,
    part: str | None,
    loops: bool,
    lecture: list[Case],
    wrong: Callable[[Case], list[dx.Candidate]],
) -> CheckResult:
    op = reference(name)

    def grade_one(grader: Grader, case: Case, got: object) -> None:
        k, s = window(case)
        expected = op(case.tensors["x"], k, stride=s)
        grader.grade(
            case,
            got,
            expected,
            formula=pool_formula(case),
            diagnose=lambda m: dx.by_stage(
                m, lambda: pool_shapes(case), lambda: wrong(case)
            ),
        )

    groups = {"lecture": lecture, **_cases(loops)}
    parts = {key: each_case(cases, grade_one) for key, cases in groups.items()}
    if not loops:
        gen = generator(902)
        small = pool_case("8x8 images", randn(gen, 2, 3, 8, 8), 2)
        large = pool_case("16x16 images", randn(gen, 2, 3, 16, 16), 2)
        parts["vectorised"] = kernel_growth(small, large, grade_one, "output positions")
    return run_parts(name, parts, part, fn, forbid=("pool",), what=f"your {name}")


def check_max_pool2d(
    fn: Callable, part: str | None = None, *, loops: bool = False
) -> CheckResult:
    """Grade ``fn(x, kernel_size, stride=None) -> the max of each window``.

    Args:
        fn: the student's max_pool2d: x (N, C, H, W) float64, kernel_size an
            int, stride an int or None (= kernel_size).
        part: "lecture" (the 6x6 image with a 3x3 window and stride 1; the 4x4
            example with 2x2 windows and stride 2), "shape", "default_stride",
            "overlapping", "random", "vectorised" (not with loops=True), or None.
        loops: grade a loop version: small inputs, no "vectorised" part.

    Forbids torch's pooling kernels and cnnlib.
    """
    lecture = [
        pool_case("6x6 image, 3x3 window, stride 1", image(NG_IMAGE), 3, 1, False),
        pool_case("4x4 example, 2x2 window, stride 2", image(POOL_4X4), 2, 2, False),
    ]

    def wrong(case: Case) -> list[dx.Candidate]:
        k, s = window(case)
        avg = reference("avg_pool2d")
        you_averaged = "you averaged each window; max pooling keeps its largest value"
        return [(you_averaged, lambda: avg(case.tensors["x"], k, stride=s))]

    return _check("max_pool2d", fn, part, loops, lecture, wrong)


def check_avg_pool2d(
    fn: Callable, part: str | None = None, *, loops: bool = False
) -> CheckResult:
    """Grade ``fn(x, kernel_size, stride=None) -> the mean of each window``.

    Args and parts as ``check_max_pool2d`` ("lecture": the 4x4 example with 2x2
    windows, 3.25 5.25 / 2 2, and the 6x6 image with 2x2 windows).

    Forbids torch's pooling kernels and cnnlib.
    """
    lecture = [
        pool_case("4x4 example, 2x2 window, stride 2", image(POOL_4X4), 2, 2, False),
        pool_case("6x6 image, 2x2 window", image(NG_IMAGE), 2, hidden=False),
    ]

    def wrong(case: Case) -> list[dx.Candidate]:
        k, s = window(case)
        x = case.tensors["x"]
        avg, top = reference("avg_pool2d"), reference("max_pool2d")
        took_max = "you took the max of each window; average pooling takes the mean"
        return [
            (dx.AVG_SUM, lambda: avg(x, k, stride=s) * (k * k)),
            (
                "divide the sum by the window's area KH*KW, not by K",
                lambda: avg(x, k, stride=s) * k,
            ),
            (took_max, lambda: top(x, k, stride=s)),
        ]

    return _check("avg_pool2d", fn, part, loops, lecture, wrong)
