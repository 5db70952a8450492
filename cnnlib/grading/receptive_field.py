"""Assignment 6: the receptive field of a stack of convolution and pooling layers.

The student's ``receptive_field(layers)`` receives the layers from the input to
the output, each a tuple ``(kernel_size, stride, dilation)`` (a pooling layer is a
layer like any other: a 2x2 max pooling with stride 2 is (2, 2, 1)), and returns
how many input pixels, along one axis, one output value of the last layer depends
on (a Python int).

The expected value is not computed with the textbook formula but by following the
dependencies: starting from one output position, each layer, read backwards, maps
a set of positions to the input positions its windows read (i*S + j*D for j < K),
and the receptive field is the span of the final set. Hidden stacks are described
by their length only.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading.cases import generator
from cnnlib.grading.compare import compare_int
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

Stack = list[tuple[int, int, int]]


def span(layers: Stack) -> int:
    """The receptive field by following one output value's dependencies."""
    positions = {0}
    for k, s, d in reversed(layers):
        positions = {p * s + j * d for p in positions for j in range(k)}
    return max(positions) - min(positions) + 1


class _StackCase(Case):
    """A case whose hidden stacks are described by their length, never listed."""

    def describe(self) -> str:
        layers = self.tensors["layers"]
        if self.hidden:
            return f"a stack of {len(layers)} layers"
        return "layers=" + repr(layers)

    def args(self) -> list[object]:
        return [list(self.tensors["layers"])]  # a copy: the original stays intact


def _case(label: str, layers: Stack, hidden: bool = False) -> Case:
    return _StackCase(label, {"layers": list(layers)}, hidden=hidden)


def _formula(layers: Stack) -> str:
    return (
        "start from 1 and add (K - 1) * D * J for each layer, where J is the product "
        "of the strides of the layers before it"
    )


def _mistakes(layers: Stack) -> list[tuple[str, int]]:
    def growth(stride_of, dilated=True, own_stride=False):
        r, jump = 1, 1
        for k, s, d in layers:
            if own_stride:
                jump *= stride_of(s)
            r += (k - 1) * (d if dilated else 1) * jump
            if not own_stride:
                jump *= stride_of(s)
        return r

    product = 1
    for k, _, _ in layers:
        product *= k
    return [
        (
            "this is the receptive field without the strides: after a layer of stride "
            "S, one step of the next layer moves S pixels in that layer's input, so "
            "multiply each K - 1 by the product of the earlier strides",
            growth(lambda s: 1),
        ),
        (
            "a kernel dilated by D spans D(K - 1) + 1 pixels: add (K - 1) * D * J",
            growth(lambda s: s, dilated=False),
        ),
        (
            "a layer's stride does not widen its own window; it spaces out the windows "
            "of the layers after it",
            growth(lambda s: s, own_stride=True),
        ),
        (
            "the layers are listed from the input to the output",
            span(layers[::-1]) if layers else 1,
        ),
        (
            "stacked windows overlap: two 3x3 layers see 5x5, not 6x6 (add K - 1 per "
            "layer, not K)",
            sum(k for k, _, _ in layers),
        ),
        ("receptive fields grow by addition, not multiplication", product),
        ("you forgot the + 1: one layer of kernel K sees K pixels", span(layers) - 1),
    ]


def _grade(cases: list[Case]) -> Callable[[Callable, Grader], int]:
    def run(fn: Callable, grader: Grader) -> int:
        for case in cases:
            got = grader.call(fn, case).result
            layers = case.tensors["layers"]
            want = span(layers)
            mismatch = compare_int(got, want, name="the receptive field")
            if mismatch is None:
                continue
            hint, message = None, mismatch.message
            if mismatch.stage == "values":
                hint = next(
                    (h for h, v in _mistakes(layers) if v == got and v != want), None
                )
                if case.hidden:
                    message = f"the receptive field, {got}, is wrong"
            grader.fail(case, f"{message}: {_formula(layers)}", hint)
        return len(cases)

    return run


def _conv(k: int, s: int = 1, d: int = 1) -> tuple[int, int, int]:
    return (k, s, d)


POOL = (2, 2, 1)  # 2x2 max pooling, stride 2
VGG16 = (
    [_conv(3)] * 2 + [POOL] + [_conv(3)] * 2 + [POOL] + ([_conv(3)] * 3 + [POOL]) * 3
)
LENET5 = [_conv(5), POOL, _conv(5), POOL, _conv(5)]
ALEXNET = [
    _conv(11, 4),
    _conv(3, 2),
    _conv(5),
    _conv(3, 2),
    _conv(3),
    _conv(3),
    _conv(3),
    _conv(3, 2),
]


def _random_stack(gen) -> Stack:
    """3 to 7 layers: kernels 1-7, strides 1-3, dilations 1-3 (mostly 1)."""

    def draw(low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=gen))

    stack = []
    for _ in range(draw(3, 7)):
        k = draw(1, 7)
        s = draw(1, 3) if draw(0, 2) == 0 else 1
        d = draw(2, 3) if k > 1 and draw(0, 3) == 0 else 1
        stack.append((k, s, d))
    return stack


def check_receptive_field(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(layers) -> int``, the receptive field of a stack of layers.

    Args:
        fn: the student's function; ``layers`` is a list of (kernel_size, stride,
            dilation) tuples from the input to the output.
        part: "lecture" (stacks of 3x3 convolutions: two see 5x5, three 7x7, like
            one 5x5 or 7x7 layer), "stride" (strided layers and 2x2 poolings:
            LeNet-5 up to C5 sees the whole 32x32 image, VGG-16 up to pool5 212
            pixels, AlexNet up to pool5 195), "dilation", "random" (hidden
            stacks), or None.
    """
    gen = generator(1601)
    parts = {
        "lecture": _grade(
            [
                _case("two 3x3 convolutions", [_conv(3)] * 2),
                _case("three 3x3 convolutions", [_conv(3)] * 3),
                _case("one 5x5 convolution", [_conv(5)]),
                _case("one 7x7 convolution", [_conv(7)]),
            ]
        ),
        "stride": _grade(
            [
                _case(
                    "a 3x3 convolution after a stride-2 one", [_conv(3, 2), _conv(3)]
                ),
                _case("LeNet-5 up to C5", LENET5),
                _case("VGG-16 up to pool5", VGG16),
                _case("AlexNet up to pool5", ALEXNET),
            ]
        ),
        "dilation": _grade(
            [
                _case("one 3x3 convolution, dilation 2", [_conv(3, 1, 2)]),
                _case("dilations 1, 2, 4", [_conv(3), _conv(3, 1, 2), _conv(3, 1, 4)]),
                _case("stride 2, then dilation 2", [_conv(3, 2), _conv(3, 1, 2)]),
            ]
        ),
        "random": _grade(
            [_case(f"random stack {i + 1}", _random_stack(gen), True) for i in range(4)]
        ),
    }
    return run_parts(
        "receptive_field", parts, part, fn, forbid=(), what="your receptive_field"
    )
