"""Run a check: pick its parts, run each case under the guard, grade the outputs.

A check is a table of named parts (one property each, one test cell each); a part
is a list of cases; a case is one call of the student's function. ``grade_case``
does one case from start to end:

1. call the student's function under the guard, on copies of the inputs;
2. make sure it left its inputs alone;
3. only then compute the expected result (so nothing expected exists while the
   student's code runs);
4. compare (``compare.find_mismatch``) and, on a mismatch, ask the check's
   diagnosis for the canonical mistake that explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from cnnlib.grading.compare import (
    _VF,
    GradingError,
    Mismatch,
    _any,
    _Base,
    _item,
    _logical_not,
    find_mismatch,
    fmt_shape,
)
from cnnlib.grading.guard import StudentRun, run_student

_clone = _Base.clone
_shape_of = _Base.shape.__get__
_eq = _VF.eq
_isnan = _VF.isnan
_logical_and = _VF.logical_and
_logical_or = _VF.logical_or


@dataclass(frozen=True)
class CheckResult:
    """What a passing check graded. Shown under the test cell when it passes."""

    check: str
    parts: tuple[str, ...]
    cases: int

    def __repr__(self) -> str:
        parts = ", ".join(self.parts)
        return f"{self.check}: passed ({parts}; {self.cases} cases)"


@dataclass(frozen=True)
class Case:
    """One call of the student's function.

    Attributes:
        label: what the case is, e.g. "lecture: 7x7 image, stride 2".
        tensors: the positional arguments, by name (x, weight, ...), in order.
        options: keyword arguments (stride=2, ...); only non-default ones.
        hidden: True when the data are hidden (random cases): messages then show
            shapes and options, never the tensors.
        extra: anything the reference or the diagnosis needs (e.g. bias=None).
    """

    label: str
    tensors: dict[str, object]
    options: dict[str, object] = field(default_factory=dict)
    hidden: bool = True
    extra: dict[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        """'x (1, 1, 7, 7), weight (1, 1, 3, 3), stride=2' (never the values)."""
        parts = []
        for name, value in self.tensors.items():
            if isinstance(value, torch.Tensor):
                parts.append(f"{name} {fmt_shape(_shape_of(value))}")
            elif value is not None:
                parts.append(f"{name}={value!r}")
        parts += [f"{name}={value!r}" for name, value in self.options.items()]
        return ", ".join(parts)

    def args(self) -> list[object]:
        """Copies of the positional arguments, for the student's function."""
        return [
            _clone(value) if isinstance(value, torch.Tensor) else value
            for value in self.tensors.values()
        ]


# A diagnosis takes the failed stage and the student's (float64) result and
# returns a hint naming the canonical mistake, or None.
Diagnosis = Callable[[Mismatch], "str | None"]


class Grader:
    """Grades the cases of one part of one check."""

    def __init__(
        self,
        check: str,
        part: str,
        forbid: Sequence[str],
        what: str,
        budget: int | None = None,
    ):
        self.check = check
        self.part = part
        self.forbid = tuple(forbid)
        self.what = what
        self.budget = budget

    def header(self, case: Case) -> str:
        details = case.describe()
        kind = "hidden case" if case.hidden else "case"
        line = f'{self.check}, part "{self.part}", {kind} "{case.label}"'
        return f"{line}: {details}" if details else line

    def fail(self, case: Case, message: str, hint: str | None = None) -> None:
        text = f"{self.header(case)}\n{message}"
        if hint:
            text += f"\nHint: {hint}"
        raise GradingError(text)

    def call(self, fn: Callable, case: Case) -> StudentRun:
        """Run the student's function on copies of the case's inputs."""
        args = case.args()
        try:
            run = run_student(
                fn,
                args,
                dict(case.options),
                forbid=self.forbid,
                what=self.what,
                budget=self.budget,
            )
        except GradingError as error:
            self.fail(case, str(error))
        for (name, original), passed in zip(case.tensors.items(), args, strict=True):
            if isinstance(original, torch.Tensor) and not _same(original, passed):
                self.fail(
                    case,
                    f"{self.what} changed its input {name} in place; leave the "
                    "inputs unchanged (work on new tensors, e.g. x.clone()).",
                )
        return run

    def grade(
        self,
        case: Case,
        got: object,
        expected: torch.Tensor,
        *,
        name: str = "output",
        formula: str | None = None,
        diagnose: Diagnosis | None = None,
        atol: float = 1e-6,
        rtol: float = 1e-5,
    ) -> None:
        """Compare one result; on a mismatch fail with the diagnosis's hint."""
        mismatch = find_mismatch(
            got,
            expected,
            name=name,
            formula=formula,
            atol=atol,
            rtol=rtol,
            hidden=case.hidden,
        )
        if mismatch is None:
            return
        hint = diagnose(mismatch) if diagnose is not None else None
        self.fail(case, mismatch.message, hint)

    def unpack(self, case: Case, got: object, names: Sequence[str]) -> list[object]:
        """The items of a returned tuple, after checking there are len(names)."""
        wanted = f"({', '.join(names)})"
        if type(got) not in (tuple, list):
            self.fail(
                case,
                f"{self.what} must return a tuple {wanted}, got "
                f"{type(got).__qualname__}",
            )
        items = list(got)
        if len(items) != len(names):
            self.fail(
                case,
                f"{self.what} must return {len(names)} values {wanted}, got "
                f"{len(items)}",
            )
        return items


def _same(a: torch.Tensor, b: object) -> bool:
    """Bitwise the same values (NaN equal to NaN) and shape."""
    if type(b) is not type(a) or _shape_of(a) != _shape_of(b):
        return False
    equal = _eq(a, b)
    both_nan = _logical_and(_isnan(a), _isnan(b))
    return not bool(_item(_any(_logical_not(_logical_or(equal, both_nan)))))


# Torch operations one call may run before it is stopped (about 5 s under the
# guard): enough for loops over the tiny inputs of the loop versions.
DEFAULT_BUDGET = 50_000

Part = Callable[[Callable, Grader], int]  # runs a part's cases, returns how many


def run_parts(
    check: str,
    parts: dict[str, Part],
    part: str | None,
    fn: Callable,
    *,
    forbid: Sequence[str],
    what: str,
    budget: int | None = DEFAULT_BUDGET,
) -> CheckResult:
    """Run one part (or all, in order, when ``part`` is None) of a check."""
    if part is None:
        names = list(parts)
    elif part in parts:
        names = [part]
    else:
        raise ValueError(
            f"{check} has no part {part!r}; choose one of {sorted(parts)} or None"
        )
    cases = 0
    for name in names:
        cases += parts[name](fn, Grader(check, name, forbid, what, budget))
    return CheckResult(check, tuple(names), cases)


GradeOne = Callable[[Grader, Case, object], None]


def each_case(
    cases: list[Case], grade_one: GradeOne
) -> Callable[[Callable, Grader], int]:
    """A part that calls the student's function on each case and grades it."""

    def run(fn: Callable, grader: Grader) -> int:
        for case in cases:
            grade_one(grader, case, grader.call(fn, case).result)
        return len(cases)

    return run


def kernel_growth(
    small: Case, large: Case, grade_one: GradeOne, what: str
) -> Callable[[Callable, Grader], int]:
    """The "vectorised" part: the number of torch operations must not grow with
    the image (a loop over output positions makes it grow with H_out*W_out)."""

    def run(fn: Callable, grader: Grader) -> int:
        counts = []
        for case in (small, large):
            done = grader.call(fn, case)
            grade_one(grader, case, done.result)
            counts.append(done.kernels)
        if counts[1] > 1.5 * counts[0] + 10:
            grader.fail(
                large,
                f"{grader.what} ran {counts[0]} torch operations on "
                f"{small.describe()} and {counts[1]} on {large.describe()}: it "
                f"loops over the {what}. Vectorise it: gather every window at once "
                "(unfold or as_strided) and combine them with one matmul, einsum "
                "or reduction.",
            )
        return 2

    return run
