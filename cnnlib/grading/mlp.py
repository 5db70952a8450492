"""Assignment 2: a two-layer network (one ReLU hidden layer), forward and backward.

Shapes (cs231n's letters): X (N, D), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,),
y (N,) int64 class indices. scores = relu(X W1 + b1) W2 + b2, (N, C); the loss
is the mean softmax cross-entropy over the N examples. All tensors are float64.

The expected gradients come from torch.autograd run through cnnlib.ops; the
student's backward must not use autograd (nor torch's linear layer or losses).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator, labels, randn, reference
from cnnlib.grading.compare import GradingError, _Base, _item
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

_FORWARD_FORMULA = "scores = relu(X W1 + b1) W2 + b2 has shape (N, C)"
_GRADS = ("loss", "dW1", "db1", "dW2", "db2")


def _net(seed: int, n: int, d: int, h: int, c: int, shift: float = 0.0) -> dict:
    gen = generator(seed)
    return {
        "X": randn(gen, n, d),
        "W1": randn(gen, d, h, scale=0.7),
        "b1": randn(gen, h, scale=0.5) + shift,
        "W2": randn(gen, h, c, scale=0.7),
        "b2": randn(gen, c, scale=0.5),
    }


def _scores(X, W1, b1, W2, b2, *, relu_hidden=True, relu_out=False, bias=(1, 1)):
    """The forward pass with cnnlib.ops, or with one canonical mistake."""
    linear, relu = reference("linear"), reference("relu")
    hidden = linear(X, W1.T, b1 * bias[0])
    if relu_hidden:
        hidden = relu(hidden)
    scores = linear(hidden, W2.T, b2 * bias[1])
    return relu(scores) if relu_out else scores


def check_two_layer_forward(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(X, W1, b1, W2, b2) -> scores``, scores = relu(X W1 + b1) W2 + b2.

    Args:
        fn: the student's function; X (N, D), W1 (D, H), b1 (H,), W2 (H, C),
            b2 (C,), all float64; returns scores (N, C).
        part: "shape", "relu" (negative hidden units are cut), "bias" (both
            biases are added), "values" (random networks), or None.

    Forbids torch's linear layer (F.linear, torch.nn.Linear) and cnnlib.ops;
    matmul (@), torch.relu, torch.maximum and clamp are allowed.
    """

    def grade(cases: list[Case]) -> Callable:
        def run(fn: Callable, grader: Grader) -> int:
            for case in cases:
                got = grader.call(fn, case).result
                net = case.tensors
                expected = _scores(**net)
                n, c = expected.shape

                def wrong(net=net):
                    return [
                        (dx.NO_RELU, lambda: _scores(**net, relu_hidden=False)),
                        (dx.RELU_ON_SCORES, lambda: _scores(**net, relu_out=True)),
                        ("you forgot b1", lambda: _scores(**net, bias=(0, 1))),
                        ("you forgot b2", lambda: _scores(**net, bias=(1, 0))),
                    ]

                def shapes(n=n, c=c):
                    return [("the scores are transposed: one row per example", (c, n))]

                grader.grade(
                    case,
                    got,
                    expected,
                    name="scores",
                    formula=_FORWARD_FORMULA,
                    diagnose=lambda m, w=wrong, s=shapes: dx.by_stage(m, s, w),
                )
            return len(cases)

        return run

    parts = {
        "shape": grade([Case("5 examples, D=4, H=6, C=3", _net(401, 5, 4, 6, 3))]),
        "relu": grade(
            [Case("many negative hidden units", _net(402, 6, 3, 8, 4, -1.0))]
        ),
        "bias": grade([Case("large biases", _net(403, 4, 5, 3, 2, 2.0))]),
        "values": grade(
            [
                Case("random network", _net(404, 7, 5, 9, 4)),
                Case("one example", _net(405, 1, 3, 4, 5)),
            ]
        ),
    }
    return run_parts(
        "two_layer_forward",
        parts,
        part,
        fn,
        forbid=("linear",),
        what="your two_layer_forward",
    )


def _backward(X, y, W1, b1, W2, b2, *, mask=True):
    """(loss, dW1, db1, dW2, db2) by autograd through cnnlib.ops.

    ``mask=False`` gives the canonical mistake of ignoring the ReLU's derivative.
    """
    cross_entropy = reference("cross_entropy")
    params = [p.detach().clone().requires_grad_() for p in (W1, b1, W2, b2)]
    w1, c1, w2, c2 = params
    with torch.enable_grad():
        pre = X @ w1 + c1
        hidden = reference("relu")(pre)
        if not mask:  # the value is relu, the gradient flows as if it were identity
            hidden = pre + (hidden - pre).detach()
        loss = cross_entropy(hidden @ w2 + c2, y)
        grads = torch.autograd.grad(loss, params)
    return (loss.detach(), *grads)


def check_two_layer_backward(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(X, y, W1, b1, W2, b2) -> (loss, dW1, db1, dW2, db2)``.

    The loss is the mean softmax cross-entropy of scores = relu(X W1 + b1) W2 + b2
    (a 0-d tensor); each gradient has the shape of its parameter.

    Args:
        fn: the student's function; X (N, D), y (N,) int64, W1 (D, H), b1 (H,),
            W2 (H, C), b2 (C,), all float64.
        part: "loss", "dW2", "db2", "dW1", "db1" (each grades that output), or
            None for all.

    Forbids autograd (.backward(), torch.autograd.grad, torch.func), torch's
    linear layer and losses, and cnnlib.ops.
    """

    def make(seed: int, label: str, n: int, d: int, h: int, c: int) -> Case:
        net = _net(seed, n, d, h, c)
        y = labels(generator(seed + 50), n, c)
        return Case(label, {"X": net.pop("X"), "y": y, **net})

    cases = [
        make(501, "6 examples, D=4, H=5, C=3", 6, 4, 5, 3),
        make(502, "10 examples, D=3, H=7, C=4", 10, 3, 7, 4),
    ]

    def grade(which: str) -> Callable:
        index = _GRADS.index(which)

        def run(fn: Callable, grader: Grader) -> int:
            for case in cases:
                got = grader.call(fn, case).result
                items = grader.unpack(case, got, _GRADS)
                t = case.tensors
                expected = _backward(**t)
                n = t["X"].shape[0]
                want = expected[index]
                param = {"dW1": "W1", "db1": "b1", "dW2": "W2", "db2": "b2"}.get(which)
                formula = (
                    f"{which} has the shape of {param}, {tuple(want.shape)}"
                    if param
                    else "the loss is a 0-d tensor (shape ())"
                )

                def wrong(t=t, want=want, n=n):
                    found = [(dx.SUM_NOT_MEAN, dx.scaled(want, n))]
                    if which in ("dW1", "db1"):
                        found.append(
                            (dx.NO_RELU_MASK, lambda: _backward(**t, mask=False)[index])
                        )
                    if which == "loss":
                        found.append((dx.LOG10, dx.log10_of(want)))
                    return found

                def shapes(want=want, n=n):
                    found = [
                        ("sum the gradient over the batch (dim 0)", (n, *want.shape))
                    ]
                    if want.dim() == 2:
                        found.append(
                            (f"{which} is transposed", tuple(want.shape)[::-1])
                        )
                    return found

                grader.grade(
                    case,
                    items[index],
                    want,
                    name=which,
                    formula=formula,
                    diagnose=lambda m, w=wrong, s=shapes: dx.by_stage(m, s, w),
                )
            return len(cases)

        return run

    parts = {name: grade(name) for name in ("loss", "dW2", "db2", "dW1", "db1")}
    return run_parts(
        "two_layer_backward",
        parts,
        part,
        fn,
        forbid=("linear", "loss", "autograd"),
        what="your two_layer_backward",
    )


def check_training_accuracy(
    accuracy: object, threshold: float, *, what: str = "accuracy"
) -> CheckResult:
    """Pass when ``accuracy`` is a fraction in [0, 1] and at least ``threshold``.

    For "trained on digits" cells: ``check_training_accuracy(acc, 0.9)``.

    Args:
        accuracy: a Python float/int, a numpy scalar or a one-element tensor.
        threshold: the smallest accepted accuracy, in [0, 1].
        what: how the message names the number ("test accuracy", ...).
    """
    value = _as_float(accuracy)
    if value is None:
        raise GradingError(
            f"{what} should be a number (float, or a one-element tensor), got "
            f"{type(accuracy).__qualname__}"
        )
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        hint = " (divide a percentage by 100)" if 1.0 < value <= 100.0 else ""
        raise GradingError(
            f"{what} is {value:g}; it must be a fraction in [0, 1]{hint}"
        )
    if value < threshold:
        raise GradingError(
            f"{what} is {value:.4f}, below the required {threshold:.4f}: train "
            "longer, tune the learning rate, or look for a bug in the backward pass"
        )
    return CheckResult("training_accuracy", (f">= {threshold:g}",), 1)


def _as_float(value: object) -> float | None:
    """A float read without trusting the object (no __float__ overrides)."""
    if type(value) is bool:
        return None
    if isinstance(value, float):
        return float.__float__(value)
    if type(value) is int:
        return float(int.__int__(value))
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        if _Base.numel(value) != 1 or not value.dtype.is_floating_point:
            return None
        return float(_item(value))
    if type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        if getattr(value, "size", 0) == 1 and value.dtype.kind == "f":
            return float(value.item())
    return None
