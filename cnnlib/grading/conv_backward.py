"""Assignment 4: the backward pass of conv2d, written by hand.

For y = conv2d(x, weight, bias, stride, padding) and an upstream gradient
grad_out = dL/dy (N, C_out, H_out, W_out), the student returns
(grad_x, grad_w, grad_b) = (dL/dx, dL/dweight, dL/dbias), with the shapes of
x (N, C_in, H, W), weight (C_out, C_in, KH, KW) and bias (C_out,). The expected
values come from autograd through cnnlib.ops.conv2d (its explicit backward).

Forbids torch's convolution kernels (including torch.nn.grad.conv2d_input /
conv2d_weight), autograd, and cnnlib.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator, randn, reference
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

_NAMES = ("grad_x", "grad_w", "grad_b")


def _case(label: str, gen, n, c_in, h, w, c_out, k, stride=1, padding=0) -> Case:
    h_out = dx.out_size(h, k, stride, padding)
    w_out = dx.out_size(w, k, stride, padding)
    tensors = {
        "grad_out": randn(gen, n, c_out, h_out, w_out),
        "x": randn(gen, n, c_in, h, w),
        "weight": randn(gen, c_out, c_in, k, k),
    }
    options = {}
    if stride != 1:
        options["stride"] = stride
    if padding != 0:
        options["padding"] = padding
    return Case(label, tensors, options)


def _grads(case: Case, weight: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
    """(grad_x, grad_w, grad_b) by autograd through cnnlib.ops.conv2d."""
    conv2d = reference("conv2d")
    t = case.tensors
    w = t["weight"] if weight is None else weight
    x = t["x"].clone().requires_grad_()
    w = w.clone().requires_grad_()
    b = torch.zeros(w.shape[0], dtype=w.dtype, requires_grad=True)
    with torch.enable_grad():
        y = conv2d(
            x,
            w,
            b,
            stride=case.options.get("stride", 1),
            padding=case.options.get("padding", 0),
        )
        return torch.autograd.grad(y, (x, w, b), t["grad_out"])


def _hints(case: Case, which: str, want: torch.Tensor) -> tuple[Callable, Callable]:
    """(wrong shapes, wrong values) of the canonical mistakes for one gradient."""
    t = case.tensors
    n, c_out, h_out, w_out = t["grad_out"].shape
    p = case.options.get("padding", 0)

    def shapes():
        if which == "grad_b":
            return [
                ("sum over the batch too: grad_b has shape (C_out,)", (n, c_out)),
                ("sum over H_out and W_out too", (c_out, h_out, w_out)),
            ]
        if which == "grad_x" and p:
            padded = (*want.shape[:2], want.shape[2] + 2 * p, want.shape[3] + 2 * p)
            return [("crop the padding off: grad_x has the shape of x", padded)]
        return [
            (
                f"{which} has the shape of weight, (C_out, C_in, KH, KW)",
                (want.shape[1], want.shape[0], *want.shape[2:]),
            )
        ]

    def values():
        if which == "grad_x":
            return [
                (
                    dx.NOT_ROTATED,
                    lambda: _grads(case, torch.flip(t["weight"], (2, 3)))[0],
                )
            ]
        if which == "grad_w":
            flipped = (
                "grad_w correlates x with grad_out, no rotation needed: yours is "
                "rotated by 180 degrees"
            )
            return [(flipped, lambda: torch.flip(want, (2, 3)))]
        mean = "grad_b is the sum of grad_out over N, H_out and W_out, not the mean"
        return [(mean, dx.scaled(want, 1 / (n * h_out * w_out)))]

    return shapes, values


def check_conv2d_backward(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(grad_out, x, weight, stride=1, padding=0)``, the conv2d backward.

    It returns ``(grad_x, grad_w, grad_b)``.

    Args:
        fn: the student's function. grad_out (N, C_out, H_out, W_out),
            x (N, C_in, H, W), weight (C_out, C_in, KH, KW), float64; stride and
            padding ints passed by keyword when not the default. Returns the
            gradients of the loss with respect to x, weight and the bias
            (shapes of x, weight and (C_out,)).
        part: "grad_input", "grad_weight", "grad_bias" (each grades one output
            without stride or padding), "padding", "stride", "random" (all
            three outputs), or None for all.

    Forbids torch's convolution kernels (torch.nn.grad included), autograd and
    cnnlib.
    """
    gen = generator(801)
    basic = [
        _case("one image, one channel", gen, 1, 1, 5, 5, 1, 3),
        _case("batch and channels", gen, 2, 2, 6, 5, 3, 3),
    ]
    groups = {
        "grad_input": (basic, ("grad_x",)),
        "grad_weight": (basic, ("grad_w",)),
        "grad_bias": (basic, ("grad_b",)),
        "padding": ([_case("padding 1", gen, 2, 2, 5, 6, 2, 3, padding=1)], _NAMES),
        "stride": (
            [
                _case("stride 2", gen, 1, 2, 7, 8, 2, 3, stride=2),
                _case("stride 2, last row unused", gen, 2, 1, 6, 6, 2, 3, stride=2),
            ],
            _NAMES,
        ),
        "random": (
            [
                _case("stride 2, padding 1", gen, 2, 3, 7, 6, 2, 3, 2, 1),
                _case("kernel 2, padding 2", gen, 1, 2, 4, 5, 3, 2, padding=2),
            ],
            _NAMES,
        ),
    }

    def grade(cases: list[Case], names: tuple[str, ...]) -> Callable:
        def run(fn: Callable, grader: Grader) -> int:
            for case in cases:
                got = grader.unpack(case, grader.call(fn, case).result, _NAMES)
                expected = _grads(case)
                for which in names:
                    index = _NAMES.index(which)
                    want = expected[index]
                    shapes, values = _hints(case, which, want)
                    grader.grade(
                        case,
                        got[index],
                        want,
                        name=which,
                        formula=f"{which} has shape {tuple(want.shape)}",
                        diagnose=lambda m, s=shapes, v=values: dx.by_stage(m, s, v),
                    )
            return len(cases)

        return run

    parts = {name: grade(cases, names) for name, (cases, names) in groups.items()}
    return run_parts(
        "conv2d_backward",
        parts,
        part,
        fn,
        forbid=("conv", "autograd"),
        what="your conv2d_backward",
    )
