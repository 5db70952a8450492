"""Assignment 1: softmax and the cross-entropy loss.

softmax normalises the last dimension: exp(z) / sum(exp(z)), computed stably
(subtract the max). cross_entropy takes logits (N, C) and int64 labels (N,) and
returns the mean of -log softmax(logits)[n, labels[n]], a 0-d tensor.

Both checks forbid torch's softmax/log_softmax (and cross_entropy torch's
losses) and cnnlib; torch.exp, torch.log, torch.logsumexp, max/sum reductions
and indexing are allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import (
    CE_LABELS,
    CE_LOGITS,
    generator,
    grid,
    labels,
    randn,
    reference,
)
from cnnlib.grading.compare import Mismatch, find_mismatch, plain_float64
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

CE_OVERFLOW = (
    "log(softmax) underflows to log(0) = -inf for large logits: compute "
    "log-softmax directly, z - max(z) - log(sum(exp(z - max(z))))"
)


# -- softmax ----------------------------------------------------------------------


def _softmax_wrong(z: torch.Tensor) -> list[dx.Candidate]:
    softmax = reference("softmax")
    wrong = [(dx.SOFTMAX_GLOBAL, lambda: z.exp() / z.exp().sum())]
    for dim in range(z.dim() - 1):
        wrong.append((dx.SOFTMAX_AXIS, lambda dim=dim: softmax(z, dim=dim)))
    return wrong


def check_softmax(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(z) -> softmax over the last dimension``: exp(z) / sum(exp(z)).

    Args:
        fn: the student's function; z is float64 (N, C), or any shape with at
            least one dimension, normalised over its last dimension.
        part: "values" (the lecture's exercise and random rows), "sums_to_one"
            (each row is >= 0 and sums to 1), "stability" (logits around 1000
            or -1000: subtract the max), "batched" (1-D and 3-D inputs), or None.

    Forbids torch.softmax, F.softmax, Tensor.softmax, log_softmax and softmin.
    """
    softmax = reference("softmax")
    gen = generator(201)

    def grade(cases: list[Case], sums: bool = False) -> Callable:
        def run(fn: Callable, grader: Grader) -> int:
            for case in cases:
                got = grader.call(fn, case).result
                z = case.tensors["z"]
                expected = softmax(z, dim=-1)
                shape = f"the output has the shape of z, {tuple(z.shape)}"

                def hint(m, z=z):
                    wrong = lambda: _softmax_wrong(z)  # noqa: E731
                    return dx.by_stage(m, values=wrong, unstable=True)

                if sums:  # the property itself: rows are >= 0 and sum to 1
                    _grade_rows(grader, case, got, expected, shape, hint)
                else:
                    grader.grade(case, got, expected, formula=shape, diagnose=hint)
            return len(cases)

        return run

    parts = {
        "values": grade(
            [
                Case(
                    "lecture: cross-entropy exercise",
                    {"z": grid(CE_LOGITS)},
                    hidden=False,
                ),
                Case("random rows", {"z": randn(gen, 4, 5, scale=2.0)}),
            ]
        ),
        "sums_to_one": grade(
            [Case("random rows", {"z": randn(gen, 6, 3, scale=3.0)})], sums=True
        ),
        "stability": grade(
            [
                Case(
                    "large logits",
                    {"z": grid([[1000.0, 0.0, -1000.0], [1000.0, 999.0, 998.0]])},
                    hidden=False,
                ),
                Case(
                    "very negative logits",
                    {"z": grid([[-1000.0, -1001.0, -1002.0]])},
                    hidden=False,
                ),
                Case("random logits around 800", {"z": randn(gen, 3, 4) * 50 + 800}),
            ]
        ),
        "batched": grade(
            [
                Case("1-D vector", {"z": randn(gen, 5)}),
                Case("3-D batch", {"z": randn(gen, 2, 3, 4)}),
            ]
        ),
    }
    return run_parts(
        "softmax", parts, part, fn, forbid=("softmax",), what="your softmax"
    )


def _grade_rows(grader, case, got, expected, shape, hint) -> None:
    """Grade the property: every row is >= 0 and sums to 1 (not the values)."""
    mismatch = find_mismatch(got, expected, formula=shape)
    if mismatch is not None and mismatch.stage in ("type", "dtype", "shape"):
        grader.fail(case, mismatch.message)
    probabilities = plain_float64(got)
    sums = probabilities.sum(dim=-1)
    grader.grade(
        case,
        sums,
        torch.ones_like(sums),
        name="the sum of each row",
        diagnose=lambda m: hint(Mismatch(m.stage, m.message, probabilities)),
    )
    negative = probabilities < 0
    if bool(negative.any()):
        index = tuple(negative.nonzero()[0].tolist())
        grader.fail(
            case, f"the output is negative at index {index}; probabilities are >= 0"
        )


# -- cross-entropy ----------------------------------------------------------------


def check_cross_entropy(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(logits, labels) -> mean softmax cross-entropy``, a 0-d tensor.

    Args:
        fn: the student's function; logits is float64 (N, C) of raw scores,
            labels is int64 (N,) of class indices in [0, C).
        part: "lecture" (the three-example exercise of the lectures),
            "batch_mean" (the mean, not the sum, over N examples), "stability"
            (logits in the thousands), "random", or None.

    Forbids torch's softmax/log_softmax and losses (F.cross_entropy, F.nll_loss,
    ...); torch.log, torch.exp, torch.logsumexp and indexing are allowed.
    """
    cross_entropy = reference("cross_entropy")
    softmax = reference("softmax")
    gen = generator(301)

    def case(label, n, c, scale=2.0, shift=0.0):
        z = randn(gen, n, c, scale=scale) + shift
        return Case(label, {"logits": z, "labels": labels(gen, n, c)})

    def grade(cases: list[Case]) -> Callable:
        def run(fn: Callable, grader: Grader) -> int:
            for one in cases:
                got = grader.call(fn, one).result
                z, y = one.tensors["logits"], one.tensors["labels"]
                expected = cross_entropy(z, y)
                n = z.shape[0]

                def hint(m, z=z, y=y, expected=expected, n=n):
                    if m.stage == "finite":
                        return CE_OVERFLOW
                    if m.stage == "shape":
                        return dx.shape_match(m.got, [(dx.PER_EXAMPLE, (n,))])
                    return dx.first_match(
                        m.got,
                        [
                            (dx.SUM_NOT_MEAN, dx.scaled(expected, n)),
                            (dx.LOG10, dx.log10_of(expected)),
                            (
                                dx.SOFTMAX_TWICE,
                                lambda: cross_entropy(softmax(z, -1), y),
                            ),
                        ],
                    )

                grader.grade(
                    one,
                    got,
                    expected,
                    name="loss",
                    diagnose=hint,
                    formula="the loss is the batch mean, a 0-d tensor (shape ())",
                )
            return len(cases)

        return run

    lecture = Case(
        "lecture: three examples of class 1",
        {"logits": grid(CE_LOGITS), "labels": torch.tensor(CE_LABELS)},
        hidden=False,
    )
    parts = {
        "lecture": grade([lecture]),
        "batch_mean": grade([case("batch of 8", 8, 5), case("batch of 1", 1, 4)]),
        "stability": grade([case("logits in the thousands", 6, 4, scale=3000.0)]),
        "random": grade([case("random batch", 16, 10), case("two classes", 5, 2)]),
    }
    return run_parts(
        "cross_entropy",
        parts,
        part,
        fn,
        forbid=("softmax", "loss"),
        what="your cross_entropy",
    )
