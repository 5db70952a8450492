"""Assignment 8: intersection over union, per class and mean.

``iou_per_class(pred, target, num_classes)``: for label maps (N, H, W) int64,
IoU_c = |pred == c and target == c| / |pred == c or target == c|, counted over
every pixel of every image; NaN for a class absent from both (0 / 0), as
``cnnlib.train.iou_per_class``. ``mean_iou`` averages the classes that are not
NaN and returns a Python float, as ``cnnlib.train.mean_iou``. Both forbid cnnlib
(its metrics) and ready-made IoU/Jaccard functions (the "iou" family).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator
from cnnlib.grading.compare import check_tensor_type, fmt_shape, plain_float64
from cnnlib.grading.mlp import _as_float
from cnnlib.grading.runner import Case, CheckResult, Grader, each_case, run_parts

DICE = (
    "this is the Dice coefficient, 2|A and B| / (|A| + |B|); IoU divides the "
    "intersection by the union: |A and B| / |A or B|"
)
UNION_DOUBLE_COUNTS = (
    "the union counts the pixels in the prediction or the target once: "
    "|A or B| = |A| + |B| - |A and B|"
)
RECALL = (
    "you divided by the target's pixels of the class (that is the recall); IoU "
    "divides by the union of prediction and target"
)
PRECISION = (
    "you divided by the predicted pixels of the class (that is the precision); "
    "IoU divides by the union of prediction and target"
)
PER_IMAGE = (
    "you averaged per-image IoUs; count the intersection and the union over every "
    "pixel of every image first, then divide (as cnnlib.train.iou_per_class)"
)
ABSENT_NOT_NAN = (
    "a class absent from both the prediction and the target has no IoU (0 / 0): "
    "return NaN for it (float('nan')), so that the mean leaves it out"
)
PRESENT_NOT_NAN = (
    "a class present in the prediction or the target (not both) has IoU 0, not "
    "NaN: its union is not empty"
)
MEAN_ABSENT_ZERO = (
    "you counted the classes absent from both prediction and target as 0; leave "
    "them out of the mean (their IoU is NaN: torch.nanmean)"
)
MEAN_ABSENT_ONE = (
    "you counted the classes absent from both prediction and target as 1; leave "
    "them out of the mean (their IoU is NaN: torch.nanmean)"
)
MEAN_NAN = "the mean is NaN: leave the NaN classes out (torch.nanmean)"


def _counts(pred: torch.Tensor, target: torch.Tensor, c: int):
    """Per-class intersection, predicted and true pixel counts, float64."""
    inter = torch.stack([((pred == k) & (target == k)).sum() for k in range(c)])
    p = torch.stack([(pred == k).sum() for k in range(c)])
    t = torch.stack([(target == k).sum() for k in range(c)])
    return inter.double(), p.double(), t.double()


def reference_iou(pred: torch.Tensor, target: torch.Tensor, c: int) -> torch.Tensor:
    """IoU per class, (C,) float64, NaN where a class is absent from both.

    cnnlib.train.iou_per_class's definition (tests/grading/test_a8_checks.py
    checks that they agree), computed here with the grader's own arithmetic so
    that a notebook patching cnnlib.train cannot change what is expected.
    """
    inter, p, t = _counts(pred, target, c)
    return inter / (p + t - inter)  # 0 / 0 = NaN for absent classes


def expected_iou(case: Case) -> torch.Tensor:
    t = case.tensors
    return reference_iou(t["pred"], t["target"], t["num_classes"])


def _iou_mistakes(case: Case) -> list[dx.Candidate]:
    t = case.tensors
    pred, target, c = t["pred"], t["target"], t["num_classes"]
    inter, p, q = _counts(pred, target, c)

    def per_image():
        each = torch.stack(
            [reference_iou(a, b, c) for a, b in zip(pred, target, strict=True)]
        )
        return each.nanmean(dim=0)

    return [
        (DICE, lambda: 2 * inter / (p + q)),
        (UNION_DOUBLE_COUNTS, lambda: inter / (p + q)),
        (RECALL, lambda: inter / q),
        (PRECISION, lambda: inter / p),
        (PER_IMAGE, per_image),
    ]


def iou_case(label, pred, target, num_classes, hidden=True) -> Case:
    return Case(
        label,
        {"pred": pred, "target": target, "num_classes": num_classes},
        hidden=hidden,
    )


def _fmt(values: torch.Tensor) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in values) + "]"


def grade_iou(grader: Grader, case: Case, got: object) -> None:
    """Type, dtype and shape as usual; then NaN exactly for the absent classes;
    then the values of the other classes (messages name the class)."""
    expected = expected_iou(case)
    c = case.tensors["num_classes"]
    formula = f"one IoU per class, shape (num_classes,) = ({c},)"
    absent = torch.isnan(expected)
    ready = (
        check_tensor_type(got, "the IoUs") is None
        and got.dtype == expected.dtype
        and tuple(got.shape) == tuple(expected.shape)
    )
    if not ready:  # the usual messages for type, dtype and shape
        grader.grade(case, got, expected, name="the IoUs", formula=formula)
        return
    got = plain_float64(got)
    for k in range(c):
        if bool(absent[k]) and not math.isnan(got[k]):
            grader.fail(
                case,
                f"the IoU of class {k} is {float(got[k]):g} but expected NaN",
                ABSENT_NOT_NAN,
            )
        if not bool(absent[k]) and math.isnan(got[k]):
            grader.fail(
                case,
                f"the IoU of class {k} is NaN but expected {float(expected[k]):.6g}",
                PRESENT_NOT_NAN,
            )
    present = ~absent
    error = (got - expected).abs()
    bad = present & (error > 1e-6 + 1e-5 * expected.abs())
    if not bool(bad.any()):
        return
    k = int(bad.nonzero()[0, 0])
    lines = [
        f"the IoUs are wrong for {int(bad.sum())} of {c} classes; the first is "
        f"class {k}: expected {float(expected[k]):.6g}, got {float(got[k]):.6g} "
        "(tolerance: |got - expected| <= 1e-06 + 1e-05 * |expected|)"
    ]
    if not case.hidden:
        lines.append(f"expected: {_fmt(expected)}")
        lines.append(f"got:      {_fmt(got)}")
    hint = None
    for text, make in _iou_mistakes(case):
        wrong = make()
        if bool(((wrong - got).abs() <= 1e-6 + 1e-5 * wrong.abs())[present].all()):
            hint = text
            break
    grader.fail(case, "\n".join(lines), hint)


def _iou_cases() -> dict[str, list[Case]]:
    gen = generator(921)

    def labels(*shape, classes):
        return torch.randint(classes, shape, generator=gen)

    def blobs(n, h, w, classes):
        """Label maps with regions, not salt and pepper: class of a coarse grid."""
        coarse = labels(n, (h + 2) // 3, (w + 2) // 3, classes=classes)
        maps = coarse.repeat_interleave(3, 1).repeat_interleave(3, 2)[:, :h, :w]
        noise = labels(n, h, w, classes=classes)
        flip = torch.rand(n, h, w, generator=gen) < 0.15
        return torch.where(flip, noise, maps)

    example_target = torch.tensor(
        [[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 0], [2, 2, 0, 0]]]
    )
    example_pred = torch.tensor(
        [[[0, 0, 0, 1], [0, 1, 1, 1], [2, 2, 0, 0], [2, 2, 2, 0]]]
    )
    # class 3 nowhere; class 2 only in the prediction; class 1 only in the target
    absent_target = torch.tensor([[[0, 0, 1], [0, 1, 1]], [[0, 0, 0], [1, 1, 0]]])
    absent_pred = torch.tensor([[[0, 2, 0], [0, 0, 0]], [[0, 0, 0], [0, 2, 0]]])
    # two images: per-image averaging and pooled counts disagree
    batch_target = torch.stack([blobs(1, 6, 6, 3)[0], torch.zeros(6, 6).long()])
    batch_target[1, :1, :2] = 1
    batch_pred = batch_target.clone()
    batch_pred[0, :, :3] = 0
    batch_pred[1, 0, 0] = 0
    return {
        "example": [
            iou_case("4x4 masks, 3 classes", example_pred, example_target, 3,
                     hidden=False),
        ],
        "absent": [
            iou_case("a class nowhere, one only predicted, one only true",
                     absent_pred, absent_target, 4, hidden=False),
        ],
        "batch": [
            iou_case("two images of different content", batch_pred,
                     batch_target, 3),
            iou_case("five images", blobs(5, 7, 6, 4), blobs(5, 7, 6, 4), 4),
        ],
        "random": [
            iou_case("random masks, 5 classes", blobs(4, 9, 8, 5),
                     blobs(4, 9, 8, 5), 5),
            iou_case("random masks, 6 classes (one absent)",
                     blobs(3, 8, 10, 5), blobs(3, 8, 10, 5), 6),
            iou_case("a perfect prediction", labels(2, 5, 5, classes=3),
                     None, 3),
        ],
    }  # fmt: skip


def _fill_perfect(cases: dict[str, list[Case]]) -> dict[str, list[Case]]:
    for group in cases.values():
        for i, case in enumerate(group):
            if case.tensors["target"] is None:
                t = dict(case.tensors)
                t["target"] = t["pred"].clone()
                group[i] = Case(case.label, t, hidden=case.hidden)
    return cases


def check_iou_per_class(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(pred, target, num_classes) -> (num_classes,) float64``.

    pred and target are label maps (N, H, W) int64. IoU_c is the number of pixels
    where both are c over the number where either is c, counted over all images;
    NaN for a class absent from both (as ``cnnlib.train.iou_per_class``).

    Parts: "example" (a 4x4 example), "absent" (NaN for a class absent from
    both, 0 for a class in one of them only), "batch" (pixels counted over the
    whole batch, not averaged per image), "random" (hidden), or None. Forbids
    cnnlib (its metrics) and ready-made IoU/Jaccard functions.
    """
    groups = _fill_perfect(_iou_cases())
    parts = {name: each_case(cases, grade_iou) for name, cases in groups.items()}
    return run_parts(
        "iou_per_class", parts, part, fn, forbid=("iou",), what="your iou_per_class"
    )


def _mean_mistakes(case: Case) -> list[tuple[str, float]]:
    iou = expected_iou(case)
    absent = torch.isnan(iou)
    wrong = []
    if bool(absent.any()):
        wrong.append((MEAN_ABSENT_ZERO, float(torch.where(absent, 0.0, iou).mean())))
        wrong.append((MEAN_ABSENT_ONE, float(torch.where(absent, 1.0, iou).mean())))
    for hint, make in _iou_mistakes(case):
        wrong.append((hint, float(make().nanmean())))
    return wrong


def grade_mean_iou(grader: Grader, case: Case, got: object) -> None:
    want = float(expected_iou(case).nanmean())
    value = _as_float(got)
    if value is None:
        hint = ""
        if isinstance(got, torch.Tensor):
            hint = f" of shape {fmt_shape(tuple(got.shape))}: return one number"
        grader.fail(
            case,
            "expected a Python float for the mean IoU, got "
            f"{type(got).__qualname__}{hint}",
        )
    if math.isnan(value):
        grader.fail(case, f"the mean IoU is nan but expected {want:.6g}", MEAN_NAN)
    if abs(value - want) > 1e-9 + 1e-6 * abs(want):
        hint = next(
            (
                h
                for h, v in _mean_mistakes(case)
                if abs(v - value) <= 1e-9 + 1e-6 * abs(v)
            ),
            None,
        )
        grader.fail(
            case,
            f"the mean IoU is {value:.6g} but expected {want:.6g} (tolerance 1e-6, "
            "relative)",
            hint,
        )


def check_mean_iou(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(pred, target, num_classes) -> float``, the mean of the per-class
    IoUs over the classes present in the prediction or the target (as
    ``cnnlib.train.mean_iou``).

    Parts: "absent" (the 4x4 example, and classes absent from both left out),
    "random" (hidden), or None. Forbids cnnlib and ready-made IoU/Jaccard
    functions (the student's own iou_per_class may be called).
    """
    groups = _fill_perfect(_iou_cases())
    chosen = {
        "absent": groups["example"] + groups["absent"],
        "random": groups["batch"] + groups["random"],
    }
    parts = {name: each_case(cases, grade_mean_iou) for name, cases in chosen.items()}
    return run_parts("mean_iou", parts, part, fn, forbid=("iou",), what="your mean_iou")
