"""Assignment 1: activation functions and their derivatives, elementwise.

Student functions receive float64 tensors and must return tensors of the same
dtype. Each check forbids the matching torch kernels (and cnnlib.ops); ordinary
tensor operations such as torch.exp, torch.log, torch.maximum, torch.where,
max/sum reductions and indexing are allowed. The derivative checks also forbid
autograd. The derivative of ReLU at exactly 0 is not graded.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import (
    ACTIVATION_POINTS,
    generator,
    grid,
    input_grad,
    randn,
    reference,
)
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

SIGMOID_OVERFLOW = (
    "exp overflows for large |x| (exp(1000) = inf, and inf/inf is NaN): use "
    "1/(1 + exp(-x)) for x >= 0 and exp(x)/(1 + exp(x)) for x < 0 (torch.where), "
    "or write the derivative from sigmoid(x) itself"
)
TANH_OVERFLOW = (
    "exp overflows for large |x| (inf/inf is NaN): e.g. use "
    "tanh(x) = (1 - exp(-2|x|)) / (1 + exp(-2|x|)) with the sign of x"
)

# -- the elementwise functions ------------------------------------------------------


def _value_cases(seed: int) -> list[Case]:
    gen = generator(seed)
    return [
        Case("lecture points", {"x": grid([ACTIVATION_POINTS])[0]}, hidden=False),
        Case("random values", {"x": randn(gen, 7, scale=3.0)}),
        Case("random matrix", {"x": randn(gen, 4, 6, scale=2.0)}),
    ]


def _shape_cases(seed: int) -> list[Case]:
    gen = generator(seed)
    return [
        Case("0-d tensor", {"x": randn(gen)}),
        Case("3-D tensor", {"x": randn(gen, 2, 3, 5)}),
        Case("4-D batch of images", {"x": randn(gen, 2, 3, 4, 5)}),
    ]


def _large_cases() -> list[Case]:
    big = grid([[-1000.0, -200.0, -40.0, 0.0, 40.0, 200.0, 1000.0]])[0]
    return [Case("large inputs", {"x": big}, hidden=False)]


def _elementwise(
    check: str,
    fn: Callable,
    part: str | None,
    *,
    value: Callable[[torch.Tensor], torch.Tensor],
    wrong: Callable[[torch.Tensor], list[dx.Candidate]],
    forbid: tuple[str, ...],
    overflow_hint: str | None = None,
    seed: int,
) -> CheckResult:
    """A check of y = f(x) elementwise, with parts values, shape (and stability)."""

    def grade_all(cases: list[Case]) -> Callable[[Callable, Grader], int]:
        def run(fn: Callable, grader: Grader) -> int:
            for case in cases:
                got = grader.call(fn, case).result
                x = case.tensors["x"]
                expected = value(x)

                def hint(mismatch, x=x):
                    if mismatch.stage == "finite":
                        return overflow_hint
                    return dx.by_stage(mismatch, values=lambda: wrong(x))

                shape = f"the output has the shape of x, {tuple(x.shape)}"
                grader.grade(case, got, expected, formula=shape, diagnose=hint)
            return len(cases)

        return run

    parts = {
        "values": grade_all(_value_cases(seed)),
        "shape": grade_all(_shape_cases(seed + 1)),
    }
    if overflow_hint is not None:
        parts["stability"] = grade_all(_large_cases())
    return run_parts(check, parts, part, fn, forbid=forbid, what=f"your {check}")


def _grad_of(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    op = reference(name)
    return lambda x: input_grad(op, torch.ones_like(x), x)


def check_sigmoid(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x) -> sigmoid(x) = 1 / (1 + exp(-x))``, elementwise.

    Args:
        fn: the student's function; x is a float64 tensor of any shape.
        part: "values", "shape", "stability" (x = +-1000 gives no NaN), or None.

    Forbids torch.sigmoid, F.sigmoid, torch.special.expit, Tensor.sigmoid (and
    tanh, which gives sigmoid in one line); torch.exp is allowed.
    """
    ref = reference("sigmoid")
    return _elementwise(
        "sigmoid",
        fn,
        part,
        value=ref,
        forbid=("sigmoid",),
        seed=101,
        wrong=lambda x: [],
        overflow_hint=SIGMOID_OVERFLOW,
    )


def check_sigmoid_grad(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x) -> d sigmoid(x) / dx = sigmoid(x) (1 - sigmoid(x))``.

    Parts: "values", "shape", "stability" (no NaN for x = +-1000), or None.
    Forbids torch's sigmoid/tanh and autograd.
    """
    sigmoid = reference("sigmoid")
    return _elementwise(
        "sigmoid_grad",
        fn,
        part,
        value=_grad_of("sigmoid"),
        forbid=("sigmoid", "autograd"),
        seed=111,
        wrong=lambda x: [
            (dx.SIGMOID_GRAD_OF_X, lambda: x * (1 - x)),
            (dx.FUNCTION_NOT_GRAD, lambda: sigmoid(x)),
        ],
        overflow_hint=SIGMOID_OVERFLOW,
    )


def check_tanh(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x) -> tanh(x) = (e^x - e^-x) / (e^x + e^-x)``, elementwise.

    Parts: "values", "shape", "stability", or None. Forbids torch.tanh,
    Tensor.tanh, F.tanh (and sigmoid); torch.exp is allowed.
    """
    return _elementwise(
        "tanh",
        fn,
        part,
        value=reference("tanh"),
        forbid=("sigmoid",),
        seed=121,
        wrong=lambda x: [],
        overflow_hint=TANH_OVERFLOW,
    )


def check_tanh_grad(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x) -> d tanh(x) / dx = 1 - tanh(x)^2``.

    Parts: "values", "shape", "stability", or None. Forbids torch's tanh/sigmoid
    and autograd.
    """
    tanh = reference("tanh")
    return _elementwise(
        "tanh_grad",
        fn,
        part,
        value=_grad_of("tanh"),
        forbid=("sigmoid", "autograd"),
        seed=131,
        wrong=lambda x: [
            (dx.TANH_GRAD_OF_X, lambda: 1 - x**2),
            (dx.FUNCTION_NOT_GRAD, lambda: tanh(x)),
        ],
        overflow_hint=TANH_OVERFLOW,
    )


def check_relu(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x) -> max(0, x)``, elementwise. Parts: "values", "shape".

    Forbids torch.relu, F.relu, Tensor.relu and the other rectifiers;
    torch.maximum, torch.clamp and torch.where are allowed.
    """
    return _elementwise(
        "relu",
        fn,
        part,
        value=reference("relu"),
        forbid=("relu",),
        seed=141,
        wrong=lambda x: [("negative inputs must give 0, not |x|", lambda: x.abs())],
    )


def check_relu_grad(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x) -> 1 where x > 0, else 0`` (same dtype as x).

    Parts: "values", "shape". Exactly 0 never occurs in the inputs. Forbids
    torch's ReLU kernels and autograd.
    """
    relu = reference("relu")
    return _elementwise(
        "relu_grad",
        fn,
        part,
        value=_grad_of("relu"),
        forbid=("relu", "autograd"),
        seed=151,
        wrong=lambda x: [(dx.FUNCTION_NOT_GRAD, lambda: relu(x))],
    )
