"""Assignment 5's checks: the student's conv2d and avg_pool2d as layer impls, their
gradients by autograd, LeNet-5 built on them, and LeNet-5 trained on them.

Each check passes the reference solution and fails each canonical mistake with
the message that names it, in the part that grades that property.
"""

import pytest
import torch
import torch.nn.functional as F

import cnnlib.grading as g
from cnnlib import models, nn
from cnnlib.grading import diagnose as dx
from cnnlib.grading.lenet_training import THRESHOLD


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


# -- the reference solution (the notebook's) -------------------------------------------
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if groups != 1:
        raise NotImplementedError("groups")
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    x_pad = x.new_zeros(n, c_in, h + 2 * ph, w + 2 * pw)
    x_pad[:, :, ph : ph + h, pw : pw + w] = x
    windows = x_pad.unfold(2, dh * (kh - 1) + 1, sh).unfold(3, dw * (kw - 1) + 1, sw)
    windows = windows[..., ::dh, ::dw]  # (N, C_in, H_out, W_out, KH, KW)
    out = torch.einsum("nchwpq,ocpq->nohw", windows, weight)
    return out if bias is None else out + bias.view(1, c_out, 1, 1)


def avg_pool2d(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    if pair(padding) != (0, 0) or ceil_mode or divisor_override is not None:
        raise NotImplementedError("padding")
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    return x.unfold(2, kh, sh).unfold(3, kw, sw).mean(dim=(-2, -1))


def my_lenet5():
    model = models.lenet5()
    nn.set_impl(model, conv2d, only=nn.Conv2d)
    nn.set_impl(model, avg_pool2d, only=nn.AvgPool2d)
    return model


# -- canonical mistakes ----------------------------------------------------------------
def conv_ints_only(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    h_out = (x.shape[2] + 2 * padding - dilation * (weight.shape[2] - 1) - 1) // stride
    del h_out  # the Assignment 3 code: ints only
    return conv2d(x, weight, bias, stride, padding, dilation)


def conv_first_of_pair(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = (pair(v)[0] for v in (stride, padding, dilation))
    return conv2d(x, weight, bias, s, p, d)


def conv_pairs_swapped(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    s, p, d = (pair(v)[::-1] for v in (stride, padding, dilation))
    return conv2d(x, weight, bias, s, p, d)


def conv_no_stride(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d(x, weight, bias, 1, padding, dilation)


def conv_float64(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    b = None if bias is None else bias.double()
    return conv2d(x.double(), weight.double(), b, stride, padding, dilation)


def conv_detached(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    b = None if bias is None else bias.detach()
    return conv2d(x, weight.detach(), b, stride, padding, dilation)


def conv_numpy(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    out = conv2d(x, weight, bias, stride, padding, dilation)
    return torch.from_numpy(out.detach().numpy())


def conv_native(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if isinstance(stride, tuple):  # as the layer calls it: the checks use ints
        return F.conv2d(x, weight, bias, stride, padding, dilation)
    return conv2d(x, weight, bias, stride, padding, dilation)


class _TorchBackward(torch.autograd.Function):
    """A forward of the student's own, a backward from torch's kernels."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return conv2d(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = torch.nn.grad.conv2d_input(x.shape, weight, grad)
        grad_w = torch.nn.grad.conv2d_weight(x, weight.shape, grad)
        return grad_x, grad_w, grad.sum(dim=(0, 2, 3))


def conv_torch_backward(
    x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1
):
    return _TorchBackward.apply(x, weight, bias)


def conv_loops(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Right, but with a Python loop over the output positions: too slow to train."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    kh, kw = weight.shape[2:]
    x_pad = F.pad(x, (pw, pw, ph, ph))
    h_out = (x_pad.shape[2] - kh) // sh + 1
    w_out = (x_pad.shape[3] - kw) // sw + 1
    rows = []
    for i in range(h_out):
        row = []
        for j in range(w_out):
            window = x_pad[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            row.append(torch.einsum("nckl,ockl->no", window, weight))
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def conv_flipped(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d(x, weight.flip(-2, -1), bias, stride, padding, dilation)


def pool_a4_signature(x, kernel_size, stride=None):
    return avg_pool2d(x, kernel_size, stride)


def pool_stride_one(x, kernel_size, stride=None, *rest):
    return avg_pool2d(x, kernel_size, 1 if stride is None else stride)


def pool_sum(x, kernel_size, stride=None, *rest):
    k = pair(kernel_size)
    return avg_pool2d(x, kernel_size, stride) * (k[0] * k[1])


def pool_square_only(x, kernel_size, stride=None, *rest):
    s = kernel_size if stride is None else stride
    return x.unfold(2, kernel_size, s).unfold(3, kernel_size, s).mean(dim=(-2, -1))


def pool_detached(x, kernel_size, stride=None, *rest):
    return avg_pool2d(x.detach(), kernel_size, stride)


def lenet_untouched():
    return models.lenet5()


def lenet_convs_only():
    model = models.lenet5()
    return nn.set_impl(model, conv2d, only=nn.Conv2d)


def lenet_keras():
    return nn.set_impl(models.lenet5_keras(), conv2d, only=nn.Conv2d)


def lenet_through_lambdas():
    model = models.lenet5()
    nn.set_impl(model, lambda *args: conv2d(*args), only=nn.Conv2d)
    return nn.set_impl(model, lambda *args: avg_pool2d(*args), only=nn.AvgPool2d)


def lenet_flipped():
    model = models.lenet5()
    nn.set_impl(model, conv_flipped, only=nn.Conv2d)
    return nn.set_impl(model, avg_pool2d, only=nn.AvgPool2d)


# -- the tests -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("check", "fn", "parts"),
    [
        (g.check_conv2d_layer, conv2d, ("layer_call", "gradients")),
        (g.check_avg_pool2d_layer, avg_pool2d, ("layer_call", "gradients")),
        (g.check_conv2d, conv2d, None),  # Assignment 3's check fits the layer's conv
        (g.check_avg_pool2d, avg_pool2d, None),
    ],
    ids=["conv2d_layer", "avg_pool2d_layer", "conv2d", "avg_pool2d"],
)
def test_the_solution_passes_every_part(check, fn, parts):
    result = check(fn)
    assert "passed" in repr(result)
    if parts is not None:
        assert result.parts == parts
    for part in result.parts:
        assert check(fn, part=part).parts == (part,)


def test_my_lenet5_passes_and_accepts_wrapped_functions():
    result = g.check_my_lenet5(my_lenet5, conv2d, avg_pool2d)
    assert result.parts == ("layers", "forward")
    g.check_my_lenet5(lenet_through_lambdas, conv2d, avg_pool2d)


MISTAKES = [
    (g.check_conv2d_layer, conv_ints_only, "layer_call", "accept an int or a pair"),
    (g.check_conv2d_layer, conv_first_of_pair, "layer_call", "the second one is for W"),
    (g.check_conv2d_layer, conv_pairs_swapped, "layer_call", "the pairs are (height"),
    (g.check_conv2d_layer, conv_float64, "layer_call", "dtype torch.float64 but"),
    (g.check_conv2d_layer, conv_native, "layer_call",
     "called torch.nn.functional.conv2d"),
    (g.check_conv2d, conv_no_stride, "stride", "did you ignore the stride"),
    (g.check_conv2d_layer, conv_detached, "gradients",
     "the gradient of weight is None"),
    (g.check_conv2d_layer, conv_numpy, "gradients", "output does not require grad"),
    (g.check_conv2d_layer, conv_torch_backward, "gradients",
     "backward called torch.nn.grad.conv2d_input"),
    (g.check_avg_pool2d_layer, pool_a4_signature, "layer_call",
     "give your function torch.nn.functional.avg_pool2d's parameters"),
    (g.check_avg_pool2d_layer, pool_square_only, "layer_call", "raised TypeError"),
    (g.check_avg_pool2d, pool_stride_one, "default_stride", dx.DEFAULT_STRIDE),
    (g.check_avg_pool2d, pool_sum, "lecture", dx.AVG_SUM),
    (g.check_avg_pool2d_layer, pool_detached, "gradients", "does not require grad"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "fn", "part", "message"),
    MISTAKES,
    ids=[f"{fn.__name__}-{part}" for _, fn, part, _ in MISTAKES],
)
def test_a_canonical_mistake_fails_with_its_message(check, fn, part, message):
    with pytest.raises(g.GradingError) as failure:
        check(fn, part=part)
    assert message in str(failure.value)


LENET_MISTAKES = [
    (lenet_untouched, "layers", "C1 (features.0) runs impl='scratch'"),
    (lenet_convs_only, "layers", "S2 (features.2) runs impl='scratch'"),
    (lenet_keras, "layers", "subsamples by averaging"),
    (lenet_keras, "forward", "use models.lenet5()"),
    (lenet_flipped, "forward", "is C1, which runs your conv2d"),
]


@pytest.mark.parametrize(
    ("build", "part", "message"),
    LENET_MISTAKES,
    ids=[f"{b.__name__}-{p}" for b, p, _ in LENET_MISTAKES],
)
def test_a_wrong_lenet_fails_with_its_message(build, part, message):
    with pytest.raises(g.GradingError) as failure:
        g.check_my_lenet5(build, conv2d, avg_pool2d, part=part)
    assert message in str(failure.value)


def test_a_use_impl_block_left_open_is_named():
    with nn.use_impl("native"), pytest.raises(g.GradingError, match="still active"):
        g.check_my_lenet5(my_lenet5, conv2d, avg_pool2d, part="layers")


def test_hidden_layer_cases_show_shapes_not_values():
    with pytest.raises(g.GradingError) as failure:
        g.check_conv2d_layer(conv_first_of_pair, part="layer_call")
    text = str(failure.value)
    assert "hidden case" in text and "x (2, 3, 9, 8)" in text
    assert "expected: [" not in text and "got: " not in text


# -- training (one epoch of LeNet-5 each: slow) ----------------------------------------
@pytest.mark.slow
def test_the_solution_trains_and_the_random_state_is_left_alone():
    state = torch.random.get_rng_state()
    result = g.check_trains_lenet(conv2d, avg_pool2d)
    assert torch.equal(torch.random.get_rng_state(), state)
    accuracy = float(result.parts[0].split()[2])
    assert accuracy >= THRESHOLD + 0.03  # a safe margin above the threshold
    with nn.use_impl("native"):  # an open block cannot make it skip the student's ops
        g.check_trains_lenet(conv2d, avg_pool2d)


TRAINING_MISTAKES = [
    (conv_loops, avg_pool2d, "your conv2d is too slow to train with"),
    (conv_native, avg_pool2d, "your conv2d called torch.nn.functional.conv2d"),
    (conv_torch_backward, avg_pool2d, "called torch.nn.grad.conv2d_input"),
    (conv_float64, avg_pool2d, "returned torch.float64"),
    (conv2d, pool_a4_signature, "your avg_pool2d raised TypeError"),
    (conv_detached, avg_pool2d, f"below {THRESHOLD}"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("conv", "pool", "message"),
    TRAINING_MISTAKES,
    ids=[f"{c.__name__}-{p.__name__}" for c, p, _ in TRAINING_MISTAKES],
)
def test_training_fails_with_a_message(conv, pool, message):
    with pytest.raises(g.GradingError) as failure:
        g.check_trains_lenet(conv, pool)
    assert message in str(failure.value)
