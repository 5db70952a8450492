"""Hostile submissions: objects that claim equality, patched comparison helpers,
a replaced reference, a peek at the grader's frames; and hidden data stays hidden.
"""

import inspect

import numpy as np
import numpy.testing
import pytest
import torch
import torch.testing

import cnnlib.grading as g
import cnnlib.ops
from cnnlib.grading import cases
from cnnlib.grading.compare import find_mismatch
from cnnlib.grading.conv2d import _cases as conv2d_cases
from tests.grading import mistakes as m
from tests.grading import solutions as ok


class AlwaysEqualTensor(torch.Tensor):
    """A tensor subclass that says it equals anything."""

    def __eq__(self, other):
        return True

    __ne__ = lambda self, other: False  # noqa: E731

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return torch.tensor(True)  # every torch function "agrees"


class Agreeable:
    """Not a tensor at all, but equal to everything and array-like."""

    shape = (1, 1, 4, 4)
    dtype = torch.float64

    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        return np.zeros(self.shape)

    def __float__(self):
        return 0.0


def test_a_tensor_subclass_claiming_equality_is_rejected():
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return torch.zeros(1, 1, 4, 4, dtype=x.dtype).as_subclass(AlwaysEqualTensor)

    with pytest.raises(g.GradingError, match="a torch.Tensor subclass"):
        g.check_conv2d(conv2d, part="lecture")


def test_an_object_equal_to_everything_is_rejected():
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return Agreeable()

    with pytest.raises(g.GradingError, match="expected a torch.Tensor for output"):
        g.check_conv2d(conv2d, part="lecture")


def test_an_int_subclass_equal_to_everything_is_rejected():
    class Equal(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    with pytest.raises(g.GradingError, match="expected a Python int"):
        g.check_conv_output_size(lambda *a, **k: Equal(0), part="lecture")


def test_patched_comparison_helpers_change_nothing(monkeypatch):
    """A notebook can replace torch/numpy comparison functions: the grader does
    its own arithmetic with functions captured at import."""
    monkeypatch.setattr(torch, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(torch, "equal", lambda *a, **k: True)
    monkeypatch.setattr(torch, "isclose", lambda a, b, *x, **k: torch.ones_like(a) > 0)
    monkeypatch.setattr(torch.testing, "assert_close", lambda *a, **k: None)
    monkeypatch.setattr(numpy.testing, "assert_allclose", lambda *a, **k: None)
    monkeypatch.setattr(torch, "abs", lambda x: torch.zeros_like(x))
    monkeypatch.setattr(torch, "isfinite", lambda x: torch.ones_like(x) > 0)
    monkeypatch.setattr(torch.Tensor, "__sub__", lambda a, b: torch.zeros_like(a))
    monkeypatch.setattr(torch.Tensor, "__gt__", lambda a, b: torch.zeros_like(a) > 1)
    monkeypatch.setattr(torch.Tensor, "__eq__", lambda a, b: torch.ones_like(a) > 0)
    with pytest.raises(g.GradingError, match="you flipped the kernel"):
        g.check_conv2d(m.conv_flipped, part="lecture")
    with pytest.raises(g.GradingError, match="has nan"):
        g.check_softmax(m.softmax_unstable, part="stability")


def test_replacing_the_reference_op_does_not_change_the_expected_values(monkeypatch):
    """``cnnlib.ops.conv2d = my_conv2d`` after the grader was imported: the grader
    kept the real one."""
    monkeypatch.setattr(cnnlib.ops, "conv2d", m.conv_flipped)
    with pytest.raises(g.GradingError, match="you flipped the kernel"):
        g.check_conv2d(m.conv_flipped, part="lecture")


def test_a_reference_replaced_before_import_is_refused(monkeypatch):
    monkeypatch.setitem(cases._CAPTURED, "conv2d", m.conv_flipped)
    with pytest.raises(g.GradingError, match="cnnlib.ops.conv2d has been replaced"):
        g.check_conv2d(m.conv_flipped, part="lecture")


def test_no_expected_value_exists_while_the_student_runs():
    """A student who searches the grader's frames finds nothing to copy."""
    found = []

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        for frame_info in inspect.stack():
            for name, value in frame_info.frame.f_locals.items():
                if isinstance(value, torch.Tensor) and name not in ("x", "weight"):
                    if value.dim() == 4 and value.shape[-1] == 4:
                        found.append(value)  # an output-shaped tensor
        return found[0] if found else torch.zeros(1, 1, 4, 4, dtype=x.dtype)

    with pytest.raises(g.GradingError, match="wrong at"):
        g.check_conv2d(conv2d, part="lecture")
    assert not found


def _off_by(amount):
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return ok.conv2d(x, weight, bias, stride, padding, dilation) + amount

    return conv2d


def test_hidden_case_data_do_not_appear_in_messages():
    with pytest.raises(g.GradingError) as failed:
        g.check_conv2d(_off_by(0.5), part="random")
    message = str(failed.value)
    assert 'hidden case "everything at once"' in message
    assert "x (2, 3, 9, 8), weight (4, 3, 3, 2), bias (4,)" in message  # not secret
    assert "expected:" not in message and "got:" not in message
    # Rebuild the hidden case: none of its inputs, and only one of its expected
    # values (the one at the first wrong index), may appear in the message.
    case = conv2d_cases(loops=False)["random"][0]
    t = case.tensors
    expected = cnnlib.ops.conv2d(t["x"], t["weight"], t["bias"], **case.options)
    inputs = torch.cat([t["x"].flatten(), t["weight"].flatten(), t["bias"]])
    shown = [v for v in inputs.tolist() if f"{v:.6g}" in message]
    assert shown == []
    outputs = [v for v in expected.flatten().tolist() if f"{v:.6g}" in message]
    assert len(outputs) == 1


def test_public_lecture_cases_show_the_tensors():
    with pytest.raises(g.GradingError) as failed:
        g.check_conv2d(_off_by(1.0), part="lecture")
    message = str(failed.value)
    assert 'case "6x6 image * vertical-edge filter"' in message
    assert "expected: [[[[-5, -4, 0, 8]" in message


def test_the_expected_value_never_leaks_for_hidden_inputs():
    """Exact check: none of the hidden input values appear in the message."""
    x = torch.randn(2, 3, dtype=torch.float64)
    got = x + 1
    message = find_mismatch(got, x, hidden=True).message
    for value in x.flatten().tolist()[1:]:
        assert f"{value:.6g}" not in message
