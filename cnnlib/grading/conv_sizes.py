"""Assignment 3: the size of a convolution's output and its number of parameters.

H_out = floor((H + 2P - D(K-1) - 1)/S) + 1; a Conv2d layer holds
C_out*C_in*KH*KW weights and C_out biases. Both checks expect Python ints and
forbid measuring a real convolution (torch's conv kernels, cnnlib).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

import cnnlib.nn
from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator, reference
from cnnlib.grading.compare import compare_int
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

# -- output size ------------------------------------------------------------------


def _size_case(label, size, k, padding=0, stride=1, dilation=1) -> Case:
    options = {"padding": padding, "stride": stride, "dilation": dilation}
    defaults = {"padding": 0, "stride": 1, "dilation": 1}
    options = {key: v for key, v in options.items() if v != defaults[key]}
    return Case(label, {"size": size, "kernel_size": k}, options, hidden=False)


def _size_mistakes(size, k, p, s, d) -> list[tuple[str, int]]:
    span = d * (k - 1) + 1
    wrong = [
        (
            "a kernel dilated by D spans D(K-1)+1 pixels, not K",
            (size + 2 * p - k) // s + 1,
        ),
        ("padding adds P on each side: 2P per dimension", (size + p - span) // s + 1),
        ("you forgot the + 1 (the first window)", (size + 2 * p - span) // s),
        ("divide by the stride S", size + 2 * p - span + 1),
        ("the + 1 comes after the division", (size + 2 * p - span + 1) // s),
        (
            "round down (floor): a window that does not fit is dropped",
            -(-(size + 2 * p - span) // s) + 1,
        ),
    ]
    return wrong


def check_conv_output_size(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(size, kernel_size, padding=0, stride=1, dilation=1) -> int``.

    The result is floor((size + 2*padding - dilation*(kernel_size-1) - 1)/stride)
    + 1, a Python int (use //). Only non-default options are passed, by keyword.

    Parts: "lecture" (the worked examples), "padding", "stride", "dilation",
    "random", or None. Forbids torch's convolutions (no measuring the size of a
    real convolution's output).
    """
    conv2d = reference("conv2d")
    gen = generator(601)

    def expected_size(case: Case) -> int:
        size, k = case.tensors["size"], case.tensors["kernel_size"]
        opts = case.options
        x = torch.zeros(1, 1, size, 1, dtype=torch.float64)
        w = torch.zeros(1, 1, k, 1, dtype=torch.float64)
        out = conv2d(
            x,
            w,
            stride=(opts.get("stride", 1), 1),
            padding=(opts.get("padding", 0), 0),
            dilation=(opts.get("dilation", 1), 1),
        )
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
                opts = case.options
                p, s, d = (
                    opts.get(n, v)
                    for n, v in (("padding", 0), ("stride", 1), ("dilation", 1))
                )
                hint = None
                if mismatch.stage == "values":
                    wrong = _size_mistakes(size, k, p, s, d)
                    hint = next((h for h, v in wrong if v == got and v != want), None)
                formula = dx.size_formula(size, k, s, p, d)
                grader.fail(case, f"{mismatch.message}: {formula}", hint)
            return len(cases)

        return run

    def rand(label, **fixed):
        values = {
            "size": int(torch.randint(5, 40, (1,), generator=gen)),
            "k": int(torch.randint(1, 6, (1,), generator=gen)),
            "padding": int(torch.randint(0, 3, (1,), generator=gen)),
            "stride": int(torch.randint(1, 4, (1,), generator=gen)),
            "dilation": int(torch.randint(1, 3, (1,), generator=gen)),
        } | fixed
        size, k = values.pop("size"), values.pop("k")
        span = values["dilation"] * (k - 1) + 1
        values["padding"] = max(values["padding"], (span - size + 1) // 2)
        return _size_case(label, size, k, **values)

    parts = {
        "lecture": grade(
            [
                _size_case("6x6 image, 3x3 filter", 6, 3),
                _size_case("padding 1 keeps 6x6", 6, 3, padding=1),
                _size_case("7x7 image, stride 2", 7, 3, stride=2),
                _size_case("stride 3 does not fit a 7x7 image", 7, 3, stride=3),
                _size_case("LeNet-5's first layer", 32, 5),
                _size_case("VGG's 'same' convolution", 224, 3, padding=1),
            ]
        ),
        "padding": grade(
            [
                _size_case("padding 2", 5, 3, padding=2),
                _size_case("padding 3, kernel 7", 7, 7, padding=3),
            ]
        ),
        "stride": grade(
            [
                _size_case("stride 2", 9, 3, stride=2),
                _size_case("stride 3 with padding", 10, 4, padding=1, stride=3),
            ]
        ),
        "dilation": grade(
            [
                _size_case("dilation 2", 7, 3, dilation=2),
                _size_case("dilation 3 with padding", 10, 3, padding=2, dilation=3),
            ]
        ),
        "random": grade([rand(f"random {i + 1}") for i in range(5)]),
    }
    return run_parts(
        "conv_output_size",
        parts,
        part,
        fn,
        forbid=("conv",),
        what="your conv_output_size",
    )


# -- parameter count --------------------------------------------------------------


def check_conv_param_count(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(in_channels, out_channels, kernel_size, bias=True) -> int``.

    The number of learnable scalars of a Conv2d layer: C_out*C_in*KH*KW weights
    plus C_out biases when ``bias``. ``kernel_size`` is an int (KH = KW) or a
    tuple (KH, KW). ``bias=False`` is passed by keyword; a Python int is returned.

    Parts: "lecture" (LeNet-5 and VGG16 layers of the lectures), "bias"
    (bias=False), "tuple" (non-square kernels), or None.
    """

    def expected_count(case: Case) -> int:
        t = case.tensors
        layer = cnnlib.nn.Conv2d(
            t["in_channels"],
            t["out_channels"],
            t["kernel_size"],
            bias=case.options.get("bias", True),
            device="meta",
        )
        return sum(p.numel() for p in layer.parameters())

    def case(label, c_in, c_out, k, bias=True) -> Case:
        options = {} if bias else {"bias": False}
        tensors = {"in_channels": c_in, "out_channels": c_out, "kernel_size": k}
        return Case(label, tensors, options, hidden=False)

    def mistakes(c_in, c_out, k, bias) -> list[tuple[str, int]]:
        kh, kw = (k, k) if isinstance(k, int) else k
        weights = c_out * c_in * kh * kw
        b = c_out if bias else 0
        return [
            ("bias=False: the layer has no bias", weights + c_out),
            ("each output channel also has one bias: + C_out", weights),
            (
                "one bias per output channel (C_out), not per input channel",
                weights + (c_in if bias else 0),
            ),
            (
                "each filter spans all C_in input channels: C_in*KH*KW weights",
                c_out * kh * kw + b,
            ),
            (
                "kernel_size (KH, KW) is not square: use KH*KW",
                c_out * c_in * kh * kh + b,
            ),
        ]

    def grade(cases: list[Case]) -> Callable:
        def run(fn: Callable, grader: Grader) -> int:
            for one in cases:
                got = grader.call(fn, one).result
                want = expected_count(one)
                mismatch = compare_int(got, want, name="the parameter count")
                if mismatch is None:
                    continue
                t = one.tensors
                bias = one.options.get("bias", True)
                wrong = mistakes(
                    t["in_channels"], t["out_channels"], t["kernel_size"], bias
                )
                hint = next((h for h, v in wrong if v == got and v != want), None)
                formula = "C_out*C_in*KH*KW weights" + (
                    " + C_out biases" if bias else ""
                )
                grader.fail(one, f"{mismatch.message}: {formula}", hint)
            return len(cases)

        return run

    parts = {
        "lecture": grade(
            [
                case("LeNet-5 C1: 1 -> 6 channels, 5x5", 1, 6, 5),
                case("LeNet-5 C3: 6 -> 16 channels, 5x5", 6, 16, 5),
                case("VGG16 conv1_1: 3 -> 64, 3x3", 3, 64, 3),
                case("VGG16 conv1_2: 64 -> 64, 3x3", 64, 64, 3),
                case("1x1 convolution 192 -> 64", 192, 64, 1),
            ]
        ),
        "bias": grade(
            [
                case("no bias", 3, 8, 3, bias=False),
                case("no bias, 1x1", 16, 4, 1, bias=False),
            ]
        ),
        "tuple": grade(
            [
                case("3x5 kernel", 2, 4, (3, 5)),
                case("1x7 kernel, no bias", 8, 8, (1, 7), bias=False),
            ]
        ),
    }
    return run_parts(
        "conv_param_count",
        parts,
        part,
        fn,
        forbid=("conv",),
        what="your conv_param_count",
    )
