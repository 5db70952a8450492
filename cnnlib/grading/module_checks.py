"""Grading a student's ``nn.Module`` class: build it, run it, copy weights into it.

Assignments 7 and 8 ask for modules assembled from ``cnnlib.nn`` layers (a
residual block, a small U-Net). They run under ``block_match.run_builder``, the
guard that allows cnnlib's layers and ops and forbids ``cnnlib.models``, where
the reference architectures live (``BasicBlock``, ``make_shortcut``, ``UNet``,
``center_crop``, ...); ``no_reference_modules`` also rejects a model holding (or
subclassing) one of their classes. Errors raised by the student's code become
``GradingError`` messages that show the student's frames only.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading.block_match import run_builder
from cnnlib.grading.compare import GradingError, fmt_shape
from cnnlib.grading.runner import Case, Grader


def run_module(
    fn: Callable, args: tuple = (), kwargs: dict | None = None, *, what: str
) -> object:
    """``fn(*args, **kwargs)`` (a constructor, or a module on an input) under the
    guard of ``run_builder``: cnnlib.models forbidden."""
    kwargs = kwargs or {}
    return run_builder(lambda: fn(*args, **kwargs), (), what=what)


def capture(*functions: Callable) -> tuple:
    """The code objects of reference functions, captured when the grader is imported."""
    return tuple(fn.__code__ for fn in functions)


def ensure_unchanged(name: str, functions: tuple, codes: tuple) -> None:
    """Fail if a notebook has replaced one of the reference's functions."""
    for fn, code in zip(functions, codes, strict=True):
        if getattr(fn, "__code__", None) is not code:
            raise GradingError(
                f"cnnlib.models' {name} has been replaced; the grader cannot trust "
                "its reference. Restart the kernel and run the notebook without "
                "replacing library code."
            )


def no_reference_modules(model: torch.nn.Module, what: str) -> None:
    """Fail if ``model`` holds an instance of a cnnlib.models class (or subclass)."""
    for name, module in model.named_modules():
        for cls in type(module).__mro__:
            if cls.__module__.startswith("cnnlib.models"):
                where = f" (at {name!r})" if name else ""
                raise GradingError(
                    f"{what} contains a {cls.__module__}.{cls.__qualname__}{where}, "
                    "the course's reference architecture; build it yourself from "
                    "cnnlib.nn layers."
                )


def build(grader: Grader, case: Case, cls: object, *args, **kwargs) -> torch.nn.Module:
    """Construct the student's module under the watch; fail the case unless it
    is an ``nn.Module`` free of reference classes."""
    call = ", ".join(
        [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    )
    name = getattr(cls, "__name__", type(cls).__name__)
    what = f"{name}({call})"
    if not callable(cls):
        grader.fail(case, f"{name} is not a class: got {type(cls).__name__}")
    try:
        model = run_module(cls, args, kwargs, what=what)
    except GradingError as error:
        grader.fail(case, str(error))
    if not isinstance(model, torch.nn.Module):
        grader.fail(
            case,
            f"{what} should be a torch.nn.Module (class {name}(nn.Module)), got "
            f"{type(model).__name__}",
        )
    try:
        no_reference_modules(model, what)
    except GradingError as error:
        grader.fail(case, str(error))
    return model


def forward(
    grader: Grader,
    case: Case,
    model: torch.nn.Module,
    x: torch.Tensor,
    what: str,
    hint: Callable[[str], str | None] | None = None,
) -> object:
    """``model(x)`` under the watch; on an error fail the case (with a hint)."""
    try:
        return run_module(model, (x,), what=what)
    except GradingError as error:
        message = str(error)
        grader.fail(case, message, hint(message) if hint is not None else None)


def count_parameters(model: torch.nn.Module) -> int:
    """Learnable scalars (each shared tensor once), as cnnlib.summary counts them."""
    return sum(p.numel() for p in model.parameters())


def load_reference_state(
    grader: Grader,
    case: Case,
    model: torch.nn.Module,
    state: dict[str, torch.Tensor],
    what: str,
    naming: str,
    hints: Callable[[set[str], set[str]], list[str]] | None = None,
) -> None:
    """Copy the reference's parameters and buffers into the student's module.

    Names and shapes must agree; a message lists what differs. ``naming`` tells
    the student how to name the layers; ``hints(missing, unexpected)`` adds
    diagnoses.
    """
    own = model.state_dict()
    missing = set(state) - set(own)
    unexpected = set(own) - set(state)
    if missing or unexpected:
        lines = [f"{what} cannot receive the reference's weights:"]
        if missing:
            lines.append(f"  missing: {', '.join(sorted(missing))}")
        if unexpected:
            lines.append(f"  not in the reference: {', '.join(sorted(unexpected))}")
        lines.append(naming)
        found = hints(missing, unexpected) if hints is not None else []
        grader.fail(case, "\n".join(lines), "; ".join(found) if found else None)
    for key, value in state.items():
        if tuple(own[key].shape) != tuple(value.shape):
            grader.fail(
                case,
                f"{what}: {key} has shape {fmt_shape(tuple(own[key].shape))} but "
                f"the reference's has {fmt_shape(tuple(value.shape))}",
            )
    with torch.no_grad():
        model.load_state_dict(state)
