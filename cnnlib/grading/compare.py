"""Compare a student's result with the expected one, and say what is wrong.

The checks run in a fixed order, each with its own message: type, then dtype,
then shape (quoting the size formula the caller gives), then NaN/inf (where),
then values (the first wrong element, expected and got there, the largest
absolute and relative errors, and the tolerance).

What a message shows. For a public case (a worked example of the lectures) it may
show both tensors in full when they are small. For a hidden case it shows the
case's parameters (shapes, stride, ...), the index of the first wrong element,
the two numbers at that index, the error sizes and the tolerance; never a whole
tensor of the hidden data.

The student's object is never trusted: only exact ``torch.Tensor`` (or
``torch.nn.Parameter``) objects are accepted, read through functions captured
from torch's C core when this module is imported, and compared with our own
arithmetic, never with ``==`` on the student's object, ``torch.allclose``,
``torch.testing`` or ``numpy.testing`` (a notebook can replace any of those).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


class GradingError(AssertionError):
    """A check failed; the message is the feedback shown to the student.

    A subclass of ``AssertionError``, so nbgrader marks the test cell failed.
    """


# Captured at import time from torch's C core, so that a notebook replacing
# torch.allclose, torch.abs or Tensor methods does not change how we compare.
_VF = torch._C._VariableFunctions
_abs = _VF.abs
_sub = _VF.sub
_add = _VF.add
_mul = _VF.mul
_div = _VF.div
_gt = _VF.gt
_isfinite = _VF.isfinite
_logical_not = _VF.logical_not
_logical_and = _VF.logical_and
_nonzero = _VF.nonzero
_maximum = _VF.maximum
_max = _VF.max
_any = _VF.any
_sum = _VF.sum
_full_like = _VF.full_like
_select = _VF.select
_Base = torch._C.TensorBase
_item = _Base.item
_tolist = _Base.tolist
_detach = _Base.detach
_to = _Base.to
_numel = _Base.numel
_dim = _Base.dim
_dtype_of = _Base.dtype.__get__
_shape_of = _Base.shape.__get__
_device_of = _Base.device.__get__
_layout_of = _Base.layout.__get__
_TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)
_SMALL = 64  # public tensors up to this many elements are shown in full


@dataclass(frozen=True)
class Mismatch:
    """Why a result is wrong: the stage that failed and the message.

    ``got`` is the student's tensor as a plain float64 CPU copy when it got that
    far (from the shape stage on), for diagnosing canonical mistakes.
    """

    stage: str  # "type", "dtype", "shape", "finite" or "values"
    message: str
    got: torch.Tensor | None = None


def type_name(obj: object) -> str:
    """The name of an object's type for messages: 'numpy.ndarray', 'float'."""
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    module = "torch" if cls is torch.Tensor else cls.__module__
    return f"{module}.{cls.__qualname__}"


def check_tensor_type(got: object, name: str) -> Mismatch | None:
    """A Mismatch unless ``got`` is an exact torch.Tensor (or Parameter)."""
    if type(got) in _TENSOR_TYPES:
        if _layout_of(got) != torch.strided:
            return Mismatch(
                "type",
                f"{name} is a {_layout_of(got)} tensor; return a "
                "dense (strided) tensor",
            )
        if _device_of(got).type == "meta":
            return Mismatch("type", f"{name} is a meta tensor, which holds no values")
        return None
    if got is None:
        return Mismatch("type", f"{name} is None: did you forget the `return`?")
    if isinstance(got, torch.Tensor):
        return Mismatch(
            "type",
            f"expected a plain torch.Tensor for {name}, got {type_name(got)} (a "
            "torch.Tensor subclass); return an ordinary tensor",
        )
    hint = ""
    if type(got).__module__ == "numpy":
        hint = " (use torch.from_numpy)"
    elif isinstance(got, (int, float)):
        hint = " (return the tensor, not a Python number from .item())"
    elif isinstance(got, (list, tuple)):
        hint = " (use torch.stack or torch.tensor to build one tensor)"
    return Mismatch(
        "type", f"expected a torch.Tensor for {name}, got {type_name(got)}{hint}"
    )


def plain_float64(got: torch.Tensor) -> torch.Tensor:
    """A detached float64 CPU copy that is a plain torch.Tensor."""
    return _to(_detach(got), device="cpu", dtype=torch.float64, copy=True)


def _index(t: torch.Tensor, index: list[int]) -> float:
    for i in index:
        t = _select(t, 0, i)
    return _item(t)


def _first(mask: torch.Tensor) -> list[int]:
    """Index (as a list) of the first True element of a boolean tensor."""
    return _tolist(_select(_nonzero(mask), 0, 0))


def _fmt_index(index: list[int]) -> str:
    return (
        "(" + ", ".join(str(i) for i in index) + ("," if len(index) == 1 else "") + ")"
    )


def fmt_shape(shape: torch.Size | tuple[int, ...]) -> str:
    return _fmt_index(list(shape))


def _fmt_number(x: float) -> str:
    return f"{x:.6g}"


def _fmt_tensor(t: torch.Tensor) -> str:
    """A small tensor as nested lists of 4-significant-digit numbers."""

    def fmt(values) -> str:
        if isinstance(values, list):
            return "[" + ", ".join(fmt(v) for v in values) + "]"
        return f"{values:.4g}"

    return fmt(_tolist(t))


def close(got: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> bool:
    """True when two plain tensors of one shape agree: |g - e| <= atol + rtol|e|."""
    if tuple(_shape_of(got)) != tuple(_shape_of(expected)):
        return False
    got, expected = plain_float64(got), plain_float64(expected)
    if bool(_item(_any(_logical_not(_isfinite(got))))):
        return False
    tolerance = _add(_mul(_abs(expected), rtol), atol)
    return not bool(_item(_any(_gt(_abs(_sub(got, expected)), tolerance))))


def find_mismatch(
    got: object,
    expected: torch.Tensor,
    *,
    name: str = "output",
    formula: str | None = None,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    hidden: bool = True,
) -> Mismatch | None:
    """The first way ``got`` differs from ``expected``, or None if it matches.

    Args:
        got: what the student's function returned (any object).
        expected: the reference result, a plain tensor.
        name: how messages name the result, e.g. "output", "grad_x".
        formula: how the expected shape comes about, quoted in shape messages.
        atol, rtol: element i passes when |got_i - exp_i| <= atol + rtol |exp_i|.
        hidden: True for hidden cases: never show a whole tensor.
    """
    wrong_type = check_tensor_type(got, name)
    if wrong_type is not None:
        return wrong_type
    got_dtype, want_dtype = _dtype_of(got), _dtype_of(expected)
    if got_dtype != want_dtype:
        hint = ""
        if want_dtype.is_floating_point and got_dtype == torch.bool:
            hint = "; convert the boolean mask with .to(x.dtype)"
        elif want_dtype.is_floating_point:
            hint = (
                f"; the inputs are {want_dtype}: create new tensors with "
                "dtype=x.dtype (e.g. torch.zeros(..., dtype=x.dtype)) or "
                "torch.zeros_like(x), and convert with .to(x.dtype)"
            )
        return Mismatch(
            "dtype", f"{name} has dtype {got_dtype} but expected {want_dtype}{hint}"
        )
    got_shape, want_shape = tuple(_shape_of(got)), tuple(_shape_of(expected))
    plain = plain_float64(got)
    if got_shape != want_shape:
        got_text, want_text = fmt_shape(got_shape), fmt_shape(want_shape)
        message = f"{name} has shape {got_text} but expected {want_text}"
        if formula:
            message += f": {formula}"
        return Mismatch("shape", message, plain)
    want = plain_float64(expected)
    not_finite = _logical_and(_logical_not(_isfinite(plain)), _isfinite(want))
    if bool(_item(_any(not_finite))):
        index = _first(not_finite)
        return Mismatch(
            "finite",
            f"{name} has {_fmt_number(_index(plain, index))} at index "
            f"{_fmt_index(index)} where {_fmt_number(_index(want, index))} was "
            "expected",
            plain,
        )
    error = _abs(_sub(plain, want))
    tolerance = _add(_mul(_abs(want), rtol), atol)
    bad = _gt(error, tolerance)
    if not bool(_item(_any(bad))):
        return None
    index = _first(bad)
    tolerance_text = f"tolerance: |got - expected| <= {atol:g} + {rtol:g} * |expected|"
    got_at, want_at = (
        _fmt_number(_index(plain, index)),
        _fmt_number(_index(want, index)),
    )
    if _dim(want) == 0:
        return Mismatch(
            "values",
            f"{name} is {got_at} but expected {want_at} ({tolerance_text})",
            plain,
        )
    max_abs = _item(_max(error))
    # Relative errors where the expected value is not (nearly) zero.
    nonzero = _gt(_abs(want), _full_like(want, 1e-8))
    relative = _div(error, _maximum(_abs(want), _full_like(want, 1e-8)))
    relative = _mul(relative, nonzero)
    max_rel = _item(_max(relative))
    n_bad = int(_item(_sum(bad)))
    lines = [
        f"{name} is wrong at {n_bad} of {_numel(bad)} elements; the first is at index "
        f"{_fmt_index(index)}: expected {want_at}, got {got_at}",
        f"largest absolute error {max_abs:.3g}, largest relative error {max_rel:.3g} "
        f"({tolerance_text})",
    ]
    if not hidden and _numel(want) <= _SMALL:
        lines.append(f"expected: {_fmt_tensor(want)}")
        lines.append(f"got:      {_fmt_tensor(plain)}")
    return Mismatch("values", "\n".join(lines), plain)


def compare(
    got: object,
    expected: torch.Tensor,
    *,
    name: str = "output",
    formula: str | None = None,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    hidden: bool = True,
) -> None:
    """Raise ``GradingError`` unless ``got`` matches ``expected`` (see find_mismatch).

    Example:
        >>> compare(torch.zeros(2), torch.zeros(2))  # passes silently
    """
    mismatch = find_mismatch(
        got, expected, name=name, formula=formula, atol=atol, rtol=rtol, hidden=hidden
    )
    if mismatch is not None:
        raise GradingError(mismatch.message)


def compare_int(got: object, expected: int, *, name: str = "result") -> Mismatch | None:
    """A Mismatch unless ``got`` is a Python int (not bool) equal to ``expected``."""
    if type(got) is not int:
        hint = ""
        if isinstance(got, float):
            hint = f" ({got!r}): use floor division // so the result is an int"
        elif isinstance(got, torch.Tensor):
            hint = ": use int(...) or .item() to return a Python int"
        elif type(got).__module__ == "numpy":
            hint = ": use int(...) to return a Python int"
        elif got is None:
            hint = ": did you forget the `return`?"
        return Mismatch(
            "type", f"expected a Python int for {name}, got {type_name(got)}{hint}"
        )
    if int.__ne__(got, expected):
        return Mismatch(
            "values", f"{name} is {int.__repr__(got)} but expected {expected}"
        )
    return None
