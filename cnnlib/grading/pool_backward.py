"""Assignment 4: the backward passes of max and average pooling, by hand.

The student's function is ``fn(grad_out, x, kernel_size, stride=None) -> grad_x``:
grad_out = dL/dy (N, C, H_out, W_out) for y = pool(x, kernel_size, stride),
x (N, C, H, W) float64, kernel_size an int K, stride an int or None (= K). It
returns dL/dx, shaped like x. Max pooling sends each window's gradient to the
window's largest element only (inputs have no ties); average pooling spreads it
evenly, grad / (K*K), over the window. Where windows overlap, contributions add
up. The expected values come from autograd through cnnlib.ops.

Forbids torch's pooling kernels, autograd and cnnlib.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import (
    POOL_4X4,
    distinct,
    generator,
    image,
    input_grad,
    reference,
)
from cnnlib.grading.compare import close
from cnnlib.grading.runner import Case, CheckResult, Grader, each_case, run_parts


def _case(label, x, k, stride=None, gen=None, hidden=True) -> Case:
    """grad_out is random (or ones for the public cases) with y's shape."""
    s = k if stride is None else stride
    n, c, h, w = x.shape
    out = (n, c, dx.out_size(h, k, s), dx.out_size(w, k, s))
    grad_out = (
        torch.ones(out, dtype=x.dtype)
        if gen is None
        else torch.randn(out, generator=gen, dtype=x.dtype)
    )
    options = {} if stride is None else {"stride": stride}
    return Case(
        label, {"grad_out": grad_out, "x": x, "kernel_size": k}, options, hidden
    )


def _window(case: Case) -> tuple[int, int]:
    k = case.tensors["kernel_size"]
    return k, case.options.get("stride", k)


def _overlap_hint(got, expected, counts, hint) -> Callable[[], str | None]:
    """The hint when got is right except where several windows share an element."""

    def check() -> str | None:
        shared = counts >= 2
        if got is None or not bool(shared.any()):
            return None
        alone = ~shared
        if close(got[alone], expected[alone], 1e-6, 1e-5):
            return hint
        return None

    return check


def _check(name, fn, part, lecture, wrong) -> CheckResult:
    op = reference(name)
    gen = generator(1001)

    def rnd(*shape):
        return distinct(gen, *shape)

    def grade_one(grader: Grader, case: Case, got: object) -> None:
        t = case.tensors
        k, s = _window(case)
        expected = input_grad(op, t["grad_out"], t["x"], k, stride=s)
        counts = input_grad(op, torch.ones_like(t["grad_out"]), t["x"], k, stride=s)
        if name == "avg_pool2d":
            counts = counts * (k * k)

        def hint(m):
            if m.stage != "values":
                return None
            found = dx.first_match(m.got, wrong(case, expected))
            if found is None:
                overlap = (
                    dx.MAX_BACK_NO_OVERLAP
                    if name == "max_pool2d"
                    else (
                        "where windows overlap, an element receives the sum of the "
                        "gradients of every window it is in: accumulate (+=)"
                    )
                )
                found = _overlap_hint(m.got, expected, counts, overlap)()
            return found

        grader.grade(
            case,
            got,
            expected,
            name="grad_x",
            diagnose=hint,
            formula=f"grad_x has the shape of x, {tuple(t['x'].shape)}",
        )

    groups = {
        "lecture": lecture,
        "winner_only" if name == "max_pool2d" else "scale": [
            _case("2x2 windows, stride 2", rnd(2, 2, 6, 6), 2, 2, gen),
            _case("3x3 windows, no stride given", rnd(1, 2, 6, 7), 3, gen=gen),
        ],
        "overlapping": [
            _case("3x3 windows, stride 1", rnd(1, 1, 5, 6), 3, 1, gen),
            _case("3x3 windows, stride 2", rnd(2, 2, 7, 7), 3, 2, gen),
        ],
        "random": [
            _case("stride larger than the kernel", rnd(1, 2, 7, 8), 2, 3, gen),
            _case("windows that do not fit", rnd(2, 1, 7, 9), 2, gen=gen),
        ],
    }
    parts = {key: each_case(cases, grade_one) for key, cases in groups.items()}
    return run_parts(
        f"{name}_backward",
        parts,
        part,
        fn,
        forbid=("pool", "autograd"),
        what=f"your {name}_backward",
    )


def check_max_pool2d_backward(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(grad_out, x, kernel_size, stride=None) -> grad_x`` for max pooling.

    Parts: "lecture" (the 4x4 example, 2x2 windows, stride 2, grad_out of ones:
    only the four winners get 1), "winner_only", "overlapping" (the max of
    several windows gets the sum of their gradients), "random", or None.
    Forbids torch's pooling kernels, autograd and cnnlib.
    """
    lecture = [
        _case("4x4 example, 2x2 windows, stride 2", image(POOL_4X4), 2, 2, hidden=False)
    ]
    avg = reference("avg_pool2d")

    def wrong(case, expected):
        t = case.tensors
        k, s = _window(case)

        def everywhere():
            grad = input_grad(avg, t["grad_out"], t["x"], k, stride=s)
            return grad * (k * k)

        return [(dx.MAX_BACK_EVERYWHERE, everywhere)]

    return _check("max_pool2d", fn, part, lecture, wrong)


def check_avg_pool2d_backward(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(grad_out, x, kernel_size, stride=None) -> grad_x`` for average
    pooling (x is passed for symmetry with max pooling; only its shape matters).

    Parts: "lecture" (the 4x4 example with grad_out of ones: 1/4 everywhere),
    "scale" (each element gets grad / (K*K)), "overlapping", "random", or None.
    Forbids torch's pooling kernels, autograd and cnnlib.
    """
    lecture = [
        _case("4x4 example, 2x2 windows, stride 2", image(POOL_4X4), 2, 2, hidden=False)
    ]

    def wrong(case, expected):
        k = case.tensors["kernel_size"]
        return [
            (dx.AVG_BACK_SCALE, dx.scaled(expected, k * k)),
            (dx.AVG_BACK_K, dx.scaled(expected, k)),
        ]

    return _check("avg_pool2d", fn, part, lecture, wrong)
