"""The reference-call guard: forbidden calls are caught under any name, honest
tensor code passes, and the profiler is restored afterwards."""

import functools
import sys
import threading
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.functional import conv2d as c

import cnnlib.grading as g
import cnnlib.nn
from cnnlib import ops
from cnnlib.grading.guard import run_student
from cnnlib.grading.runner import DEFAULT_BUDGET
from tests.grading import solutions as ok


def _conv(x, w):
    return F.conv2d(x, w)


with warnings.catch_warnings():  # torch.jit.script is deprecated, still works
    warnings.simplefilter("ignore", DeprecationWarning)
    scripted_conv = torch.jit.script(_conv)


def _convolve(call):
    """A student conv2d whose body is ``call(x, weight)`` (bias etc. ignored)."""

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return call(x, weight)

    return conv2d


CONV_CHEATS = {
    "F.conv2d": (lambda x, w: F.conv2d(x, w), "torch.nn.functional.conv2d"),
    "an alias": (lambda x, w: c(x, w), "torch.nn.functional.conv2d"),
    "torch.conv2d": (lambda x, w: torch.conv2d(x, w), "conv2d"),
    "torch._C._nn": (lambda x, w: torch._C._VariableFunctions.conv2d(x, w), "conv2d"),
    "torch.ops.aten": (
        lambda x, w: torch.ops.aten.convolution(
            x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1
        ),
        "torch.ops.aten.convolution",
    ),
    "an OpOverload": (
        lambda x, w: torch.ops.aten.convolution.default(
            x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1
        ),
        "torch.ops.aten.convolution",
    ),
    "nn.Conv2d": (
        lambda x, w: torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2:]).double()(x),
        "torch.nn.Conv2d",
    ),
    "torch.nn.grad": (
        lambda x, w: torch.nn.grad.conv2d_weight(x, w.shape, x[..., :1, :1]),
        "conv2d_weight",
    ),
    "cnnlib.ops": (lambda x, w: ops.conv2d(x, w), "cnnlib.ops.conv.conv2d"),
    "cnnlib.nn": (
        lambda x, w: cnnlib.nn.Conv2d(1, 1, 3, impl="native")(x),
        "cnnlib",
    ),
    "map()": (lambda x, w: list(map(F.conv2d, [x], [w]))[0], "conv2d"),
    "TorchScript": (lambda x, w: scripted_conv(x, w), "convolution"),
    "a thread": (lambda x, w: _in_thread(lambda: F.conv2d(x, w)), "conv2d"),
    "caught exception": (lambda x, w: _swallow(lambda: F.conv2d(x, w)), "conv2d"),
}


def _in_thread(work):
    out = []

    def target():
        try:
            out.append(work())
        except BaseException:  # the guard stops the thread's forbidden call
            pass

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return out[0] if out else None


def _swallow(work):
    try:
        return work()
    except BaseException:  # a student hiding the guard's stop signal
        return torch.zeros(1, 1, 4, 4, dtype=torch.float64)


@pytest.mark.parametrize("how", list(CONV_CHEATS))
def test_a_forbidden_conv_call_is_caught_whatever_its_name(how):
    call, name = CONV_CHEATS[how]
    with pytest.raises(g.GradingError) as failed:
        g.check_conv2d(_convolve(call), part="lecture")
    message = str(failed.value)
    assert "your conv2d called" in message
    assert name in message
    assert sys.getprofile() is None


@pytest.mark.parametrize(
    ("check", "student", "name"),
    [
        (g.check_softmax, lambda z: z.softmax(-1), "Tensor.softmax"),
        (g.check_softmax, lambda z: torch.log_softmax(z, -1).exp(), "log_softmax"),
        (g.check_sigmoid, lambda x: x.sigmoid(), "Tensor.sigmoid"),
        (g.check_sigmoid, lambda x: torch.special.expit(x), "torch.special.expit"),
        (g.check_sigmoid, lambda x: (torch.tanh(x / 2) + 1) / 2, "tanh"),
        (g.check_sigmoid, lambda x: torch.nn.Sigmoid()(x), "torch.nn.Sigmoid"),
        (g.check_relu, lambda x: F.relu(x), "relu"),
        (g.check_relu, lambda x: torch.nn.functional.threshold(x, 0, 0), "threshold"),
        (g.check_cross_entropy, lambda z, y: F.cross_entropy(z, y), "cross_entropy"),
        (g.check_cross_entropy, lambda z, y: F.nll_loss(ok.softmax(z).log(), y),
         "nll_loss"),
        (g.check_two_layer_forward, lambda X, W1, b1, W2, b2: F.linear(
            ok.relu(F.linear(X, W1.T, b1)), W2.T, b2), "torch.nn.functional.linear"),
        (g.check_max_pool2d, lambda x, k, stride=None: F.max_pool2d(x, k, stride),
         "max_pool2d"),
        (g.check_avg_pool2d, lambda x, k, stride=None: torch._C._nn.avg_pool2d(x, k),
         "avg_pool2d"),
        (g.check_max_pool2d, lambda x, k, stride=None: torch.nn.MaxPool2d(k, stride)(x),
         "torch.nn.MaxPool2d"),
        (g.check_max_pool2d_backward, lambda go, x, k, stride=None: torch.autograd.grad(
            ok.max_pool2d(x.requires_grad_(), k, stride), x, go)[0],
         "torch.autograd.grad"),
        (g.check_sigmoid_grad, lambda x: torch.func.grad(
            lambda v: ok.sigmoid(v).sum())(x), "grad"),
        (g.check_conv_output_size, lambda size, k, padding=0, stride=1, dilation=1:
         F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k)).shape[2],
         "conv2d"),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", "?"),
)  # fmt: skip
def test_each_check_forbids_its_family(check, student, name):
    with pytest.raises(g.GradingError) as failed:
        check(student)
    assert "called" in str(failed.value)
    assert name in str(failed.value)


def test_the_message_says_what_is_forbidden_and_why():
    with pytest.raises(g.GradingError) as failed:
        g.check_conv2d(_convolve(c), part="lecture")
    assert (
        "your conv2d called torch.nn.functional.conv2d; this assignment asks you to "
        "write it from ordinary tensor operations"
    ) in str(failed.value)


def test_honest_tensor_operations_pass():
    """as_strided, einsum, exp, max, logsumexp, clamp, indexing are all allowed."""

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        x = torch.nn.functional.pad(x, (padding,) * 4)
        n, c_in, h, w = x.shape
        c_out, _, kh, kw = weight.shape
        h_out = (h - dilation * (kh - 1) - 1) // stride + 1
        w_out = (w - dilation * (kw - 1) - 1) // stride + 1
        sn, sc, sh, sw = x.stride()
        windows = x.as_strided(
            (n, c_in, h_out, w_out, kh, kw),
            (sn, sc, sh * stride, sw * stride, sh * dilation, sw * dilation),
        )
        out = torch.einsum("nchwij,ocij->nohw", windows, weight)
        return out if bias is None else out + bias.view(1, -1, 1, 1)

    def softmax(z):
        return torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True))

    def relu(x):
        return x.clamp(min=0)

    def sigmoid(x):
        return torch.where(x >= 0, 1 / (1 + torch.exp(-x.abs())),
                           torch.exp(-x.abs()) / (1 + torch.exp(-x.abs())))  # fmt: skip

    g.check_conv2d(conv2d)
    g.check_softmax(softmax)
    g.check_relu(relu)
    g.check_sigmoid(sigmoid)
    # the MLP may use torch.relu: only the linear layer, losses and autograd are
    # forbidden there
    g.check_two_layer_forward(
        lambda X, W1, b1, W2, b2: torch.relu(X @ W1 + b1) @ W2 + b2
    )


def test_printing_and_no_grad_inside_the_student_function_are_fine(capsys):
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        with torch.no_grad():
            out = ok.conv2d(x, weight, bias, stride, padding, dilation)
        print("debug:", out.shape, out.flatten()[:2])
        return out

    g.check_conv2d(conv2d, part="lecture")
    assert "debug:" in capsys.readouterr().out


def test_the_previous_profiler_is_restored():
    calls = []

    def outer(frame, event, arg):
        calls.append(event)

    sys.setprofile(outer)
    try:
        g.check_relu(ok.relu, part="values")
        with pytest.raises(g.GradingError):
            g.check_relu(lambda x: F.relu(x), part="values")
        assert sys.getprofile() is outer
        assert threading.getprofile() is None
    finally:
        sys.setprofile(None)
    assert calls  # ours ran again after each check


def test_the_guard_is_off_while_the_reference_runs():
    """cnnlib.ops computes the expected values: that must not trip the guard."""
    result = run_student(lambda: 1 + 1, forbid=("conv",))
    assert result.result == 2
    assert ops.conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3)).shape[-1] == 1


def test_switching_the_guard_off_is_caught():
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        sys.setprofile(None)
        return F.conv2d(x, weight)

    with pytest.raises(g.GradingError, match="switches off the grader's check"):
        g.check_conv2d(conv2d, part="lecture")

    def via_threading(x, weight, bias=None, stride=1, padding=0, dilation=1):
        threading.setprofile(None)
        return ok.conv2d(x, weight, bias, stride, padding, dilation)

    with pytest.raises(g.GradingError, match="switches off"):
        g.check_conv2d(via_threading, part="lecture")
    assert sys.getprofile() is None


def test_an_exception_shows_only_the_students_frames():
    def helper(x):
        return x.reshape(5, 7)  # wrong on purpose

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return helper(x)

    with pytest.raises(g.GradingError) as failed:
        g.check_conv2d(conv2d, part="lecture")
    message = str(failed.value)
    assert "your conv2d raised RuntimeError: shape '[5, 7]' is invalid" in message
    assert "in conv2d: return helper(x)" in message
    assert "in helper: return x.reshape(5, 7)  # wrong on purpose" in message
    assert "cnnlib/grading" not in message and "site-packages" not in message


def test_a_runaway_loop_is_stopped():
    def loop(x):
        total = x.sum()
        for _ in range(10**6):
            total = total + 1
        return total

    with pytest.raises(g.GradingError, match="probably loops over every element"):
        run_student(loop, (torch.ones(3),), budget=500, what="your conv2d")
    assert DEFAULT_BUDGET <= 100_000  # every check runs under a budget


def test_not_a_function():
    with pytest.raises(g.GradingError, match="is not a function"):
        g.check_relu(None)


def test_other_libraries_convolutions_are_forbidden_too():
    """numpy's and scipy's convolutions do the work just as much as torch's."""
    signal = pytest.importorskip("scipy.signal")

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        image, kernel = x[0, 0].numpy(), weight[0, 0].numpy()
        out = signal.correlate2d(image, kernel, mode="valid")
        return torch.from_numpy(out)[None, None]

    with pytest.raises(g.GradingError, match="called scipy.signal.*correlate2d"):
        g.check_conv2d(conv2d, part="lecture")

    def conv1d_rows(x, weight, bias=None, stride=1, padding=0, dilation=1):
        row = np.convolve(x[0, 0, 0].numpy(), weight[0, 0, 0].numpy())
        return torch.from_numpy(row)

    with pytest.raises(g.GradingError, match="convolve"):
        g.check_conv2d(conv1d_rows, part="lecture")


def test_numpy_arithmetic_is_honest():
    def relu(x):
        return torch.as_tensor(np.maximum(x.numpy(), 0.0))

    g.check_relu(relu)


@pytest.mark.parametrize(
    "answer",
    [F.conv2d, torch.conv2d, ops.conv2d, functools.partial(F.conv2d)],
    ids=["F.conv2d", "torch.conv2d", "cnnlib.ops.conv2d", "partial"],
)
def test_handing_in_the_library_function_itself_is_caught(answer):
    with pytest.raises(g.GradingError, match="your conv2d called"):
        g.check_conv2d(answer, part="lecture")
