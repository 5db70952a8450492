"""The reference-call guard: run a student's function and catch forbidden calls.

An assignment that asks for ``conv2d`` written from tensor operations must not be
passed by ``torch.nn.functional.conv2d`` under another name, nor by the course's
own ``cnnlib.ops.conv2d``. ``run_student`` watches the student's function while
(and only while) it runs, through three independent nets:

1. a profile hook (``sys.setprofile``, and ``threading.setprofile`` for threads
   the function starts) that sees every Python function entered and every
   builtin called from Python code: files under ``cnnlib/``, functions of torch
   (and numpy/scipy) by name, ``torch.nn`` modules by class, ``torch.ops.aten``
   operators by operator name, Tensor methods such as ``x.softmax(1)``;
2. a ``TorchFunctionMode`` that sees every torch function and Tensor method,
   even one called from C (``map(torch.tanh, xs)``);
3. a ``TorchDispatchMode`` that sees every aten kernel that runs, even from
   TorchScript; it also counts kernels, which ``vectorised`` parts use.

A name is forbidden when it belongs to one of the families the check declares
(``FAMILIES``). Code under ``cnnlib/`` (other than the grader's) is always
forbidden, and so is switching the guard off (``sys.setprofile``, popping torch
modes). The first forbidden call is recorded; the function is stopped if
possible, and ``run_student`` raises ``GradingError`` naming the call.

Exceptions raised by the student's function become ``GradingError`` messages
that show only the student's own frames (file, line, source).
"""

from __future__ import annotations

import linecache
import os
import re
import site
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from cnnlib.grading.compare import GradingError
from cnnlib.grading.families import (
    ADVICE,
    DEFAULT_ADVICE,
    FAMILIES,
    TAMPER,
    normalise,
)

_GUARD_FILE = os.path.abspath(__file__)
_GRADING_DIR = os.path.dirname(_GUARD_FILE) + os.sep
_CNNLIB_DIR = os.path.dirname(os.path.dirname(_GUARD_FILE)) + os.sep
_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep


def _library_roots() -> tuple[str, ...]:
    """Folders of installed code (site-packages, the standard library, torch)."""
    roots = {_TORCH_DIR}
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.abspath(path) + os.sep)
    for path in site.getsitepackages():
        roots.add(os.path.abspath(path) + os.sep)
    return tuple(sorted(roots))


_LIBRARY_ROOTS = _library_roots()


def is_library_file(filename: str) -> bool:
    """True for installed code and frozen modules, False for a student's code."""
    if filename.startswith("<frozen"):
        return True
    return os.path.abspath(filename).startswith(_LIBRARY_ROOTS)


def is_cnnlib_file(filename: str) -> bool:
    """True for files of the cnnlib package, except the grader's own.

    The grader's code runs inside the student's call (the mode callbacks); a
    student who calls into it reaches cnnlib.ops or torch, which are watched.
    """
    path = os.path.abspath(filename)
    return path.startswith(_CNNLIB_DIR) and not path.startswith(_GRADING_DIR)


_FUNCTIONAL = torch.nn.functional


def _qualname(code) -> str:
    """'Conv2d.forward' (co_qualname exists from Python 3.11; else the name)."""
    return getattr(code, "co_qualname", code.co_name)


class ForbiddenCall(BaseException):
    """Raised inside the student's function to stop it after a forbidden call.

    A ``BaseException``, so a student's ``except Exception`` does not swallow it
    (and the call is recorded before it is raised, so swallowing would not help).
    """


@dataclass
class Violation:
    """The first forbidden call: what was called, and which family it belongs to."""

    call: str
    family: str  # a FAMILIES key, or "cnnlib", "tamper" or "budget"


class _Watch:
    """State shared by the three nets while one student function runs."""

    def __init__(self, forbid: Sequence[str], budget: int | None = None) -> None:
        self.budget = budget
        unknown = set(forbid) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; see FAMILIES")
        self.families = [FAMILIES[name] for name in forbid]
        self.regexes = [(f.name, re.compile(f.pattern)) for f in self.families]
        self.modules = {m: f.name for f in self.families for m in f.modules}
        self.active = False
        self.violation: Violation | None = None
        self.kernels = 0
        self._names: dict[str, str | None] = {}
        self._codes: dict[object, tuple[str, str | None]] = {}

    # -- classification -------------------------------------------------------
    def family_of(self, name: str) -> str | None:
        """The forbidden family a function/op name belongs to, or None."""
        try:
            return self._names[name]
        except KeyError:
            pass
        base = normalise(name)
        found = "tamper" if TAMPER.match(base) else None
        for family, regex in self.regexes:
            if found is not None:
                break
            if regex.search(base):
                found = family
                break
        self._names[name] = found
        return found

    def record(self, call: str, family: str) -> None:
        if self.violation is None:
            self.violation = Violation(call, family)

    def stop(self, call: str, family: str) -> None:
        """Record a forbidden call and stop the student's function right there.

        Raising from a profile hook also removes the hook (CPython's rule); the
        violation is already recorded, and ``run_student`` restores the profiler.
        """
        self.record(call, family)
        raise ForbiddenCall(call)

    def _classify_code(self, frame) -> tuple[str, str | None]:
        """('skip'|'ops'|'check'|'tamper', detail) for the code of a frame."""
        code = frame.f_code
        filename = code.co_filename
        if TAMPER.match(normalise(code.co_name)):
            return "tamper", f"{frame.f_globals.get('__name__', '?')}.{_qualname(code)}"
        if is_cnnlib_file(filename):
            module = frame.f_globals.get("__name__", "cnnlib")
            return "check", f"cnnlib:{module}.{_qualname(code)}"
        if filename == _GUARD_FILE or not is_library_file(filename):
            return "skip", None
        if filename.startswith(_TORCH_DIR) and filename.endswith("_ops.py"):
            if code.co_name == "__call__":
                return "ops", None
        owner = _qualname(code).rsplit(".", 1)[0] if "." in _qualname(code) else ""
        owner = owner.split(".<locals>")[0]
        if owner in self.modules:
            return "check", f"{self.modules[owner]}:torch.nn.{owner}"
        family = self.family_of(code.co_name)
        if family is None:
            return "skip", None
        module = frame.f_globals.get("__name__", "?")
        if module == "torch._tensor":
            module = "torch"
        return "check", f"{family}:{module}.{_qualname(code)}"

    # -- net 1: the profile hook ---------------------------------------------
    def profile(self, frame, event, arg) -> None:
        if not self.active:
            return
        if event == "call":
            code = frame.f_code
            verdict = self._codes.get(code)
            if verdict is None:
                verdict = self._classify_code(frame)
                self._codes[code] = verdict
            kind, found = verdict
            if kind == "skip":
                return
            caller = frame.f_back
            if caller is not None and caller.f_code in _CALLBACKS:
                return  # our own mode callbacks re-running an allowed call
            if kind == "tamper":
                if caller is not None and not is_library_file(
                    caller.f_code.co_filename
                ):
                    self.stop(found, "tamper")
                return
            if kind == "ops":
                packet = frame.f_locals.get("self")
                name = getattr(packet, "_qualified_op_name", None) or getattr(
                    packet, "_name", ""
                )
                family = self.family_of(str(name))
                if family is not None:
                    op = str(name).replace("::", ".")
                    self.stop(f"torch.ops.{op}", family)
                return
            family, call = found.split(":", 1)
            self.stop(call, family)
        elif event == "c_call":
            if frame.f_code in _CALLBACKS:
                return
            name = getattr(arg, "__name__", "") or ""
            family = self.family_of(name)
            if family is None:
                return
            if family != "tamper":
                self.stop(_builtin_name(arg, name), family)
            elif not is_library_file(frame.f_code.co_filename):
                self.stop(_builtin_name(arg, name), family)


def _builtin_name(func: object, name: str) -> str:
    """How the message names a builtin: torch.nn.functional.conv2d, Tensor.softmax."""
    if getattr(_FUNCTIONAL, name, None) is func:
        return f"torch.nn.functional.{name}"
    owner = getattr(func, "__self__", None)
    if isinstance(owner, torch.Tensor):
        return f"Tensor.{name}"
    module = getattr(func, "__module__", None)
    if module == "torch._C._nn":
        module = "torch.nn.functional"
    if module == "torch._C._special":
        return f"torch.special.{normalise(name)}"
    return f"{module}.{name}" if module else name


class _FunctionNet(TorchFunctionMode):
    """Net 2: torch functions and Tensor methods, however they are called."""

    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func, types, args=(), kwargs=None):
        watch = self.watch
        name = getattr(func, "__name__", "") or ""
        family = watch.family_of(name)
        if family not in (None, "tamper") and watch.active:
            watch.record(_builtin_name(func, name), family)
            raise ForbiddenCall(name)
        return func(*args, **(kwargs or {}))


class _DispatchNet(TorchDispatchMode):
    """Net 3: every aten kernel that runs; also counts them."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Without this torch wraps __torch_dispatch__ in a dynamo guard, whose
        # first use imports torch._dynamo (seconds) and slows every kernel.
        return False

    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        watch = self.watch
        watch.kernels += 1
        if watch.budget is not None and watch.kernels > watch.budget and watch.active:
            watch.record(f"more than {watch.budget} torch operations", "budget")
            raise ForbiddenCall("budget")
        name = func.overloadpacket.__name__
        family = watch.family_of(name)
        if family not in (None, "tamper") and watch.active:
            watch.record(f"the aten kernel {normalise(name)}", family)
            raise ForbiddenCall(name)
        return func(*args, **(kwargs or {}))


# The code of the mode callbacks: calls they make on the student's behalf were
# already judged by the net that called them.
_CALLBACKS = frozenset(
    {_FunctionNet.__torch_function__.__code__, _DispatchNet.__torch_dispatch__.__code__}
)


@dataclass(frozen=True)
class StudentRun:
    """What the student's function returned, and how many torch kernels it ran."""

    result: object
    kernels: int


def watched_call(
    watch: _Watch,
    fn: Callable,
    args: Sequence[object] = (),
    kwargs: dict[str, object] | None = None,
) -> tuple[object, BaseException | None]:
    """Run ``fn(*args, **kwargs)`` with the three nets of ``watch`` up.

    Returns ``(result, error)``: what ``fn`` returned, and what it raised (None if
    nothing). A forbidden call, or the profile hook switched off, is left in
    ``watch.violation`` for the caller to report.
    """
    previous = sys.getprofile()
    previous_threads = threading.getprofile()
    result = error = None
    with _DispatchNet(watch), _FunctionNet(watch):
        threading.setprofile(watch.profile)
        sys.setprofile(watch.profile)
        watch.active = True
        try:
            result = fn(*args, **(kwargs or {}))
        except (Exception, SystemExit, ForbiddenCall) as caught:  # graded by the caller
            error = caught
        finally:
            watch.active = False
            still_ours = sys.getprofile() == watch.profile
            sys.setprofile(previous)
            threading.setprofile(previous_threads)
    if watch.violation is None and not still_ours:
        watch.record("sys.setprofile", "tamper")
    return result, error


def run_student(
    fn: Callable,
    args: Sequence[object] = (),
    kwargs: dict[str, object] | None = None,
    *,
    forbid: Sequence[str] = (),
    what: str = "your function",
    budget: int | None = None,
) -> StudentRun:
    """Call ``fn(*args, **kwargs)`` under the guard.

    Args:
        fn: the student's function.
        forbid: keys of ``FAMILIES`` this check forbids; cnnlib and switching
            the guard off are always forbidden.
        what: how messages name the function, e.g. "your conv2d".
        budget: the most torch operations (aten kernels) the function may run;
            past it, it is stopped (a loop over every pixel of a large input).

    Raises:
        GradingError: a forbidden call was made, the guard was switched off, or
            ``fn`` raised (the message shows the student's frames only).
    """
    if not callable(fn):
        raise GradingError(f"{what} is not a function: got {type(fn).__name__}")
    watch = _Watch(forbid, budget)
    result, error = watched_call(watch, fn, args, kwargs)
    if watch.violation is not None:
        raise GradingError(_violation_message(watch.violation, what))
    if error is not None:
        raise GradingError(_error_message(error, what)) from None
    return StudentRun(result, watch.kernels)


def _violation_message(violation: Violation, what: str) -> str:
    if violation.family == "tamper":
        return (
            f"{what} called {violation.call}, which switches off the grader's "
            "check for forbidden calls; remove it."
        )
    if violation.family == "budget":
        return (
            f"{what} ran {violation.call} on this small case and was stopped: it "
            "probably loops over every element. Vectorise the inner loops (slices, "
            "unfold, matmul, einsum, broadcasting)."
        )
    if violation.family == "cnnlib":
        return (
            f"{what} called {violation.call} from cnnlib, the course's reference "
            "library; this assignment asks you to write it yourself, from "
            "ordinary tensor operations."
        )
    family = FAMILIES[violation.family]
    advice = ADVICE.get(family.name, DEFAULT_ADVICE)
    return (
        f"{what} called {violation.call}; this assignment asks you to {advice}, "
        f"so {family.what} are off limits here."
    )


def _error_message(error: BaseException, what: str) -> str:
    """'your conv2d raised ValueError: msg' and the student's frames only."""
    if isinstance(error, ForbiddenCall):  # raised without a recorded violation
        return f"{what} was stopped by the grader's guard."
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not is_library_file(frame.filename)
        and not is_cnnlib_file(frame.filename)
        and not os.path.abspath(frame.filename).startswith(_GRADING_DIR)
    ]
    lines = [f"{what} raised {type(error).__name__}: {error}"]
    for frame in frames[-3:]:
        source = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
        lines.append(f"  line {frame.lineno} in {frame.name}: {source}")
    return "\n".join(lines)
