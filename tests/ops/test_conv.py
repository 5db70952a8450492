"""cnnlib.ops.conv2d / conv1d against torch: values, gradients, dtypes, errors.

Reference values come from ``torch.nn.functional`` in float64, on the same inputs
and the same output gradient. The grids are drawn from all combinations of the
arguments with a fixed seed, so they cover the corners (N=0, unbatched, one
channel, depthwise, even kernels with 'same', dilation with stride) every run.
"""

from __future__ import annotations

import importlib
import itertools
import random

import pytest
import torch
import torch.nn.functional as F

from cnnlib.ops import _im2col, conv1d, conv2d
from cnnlib.ops._im2col import ConvGeometry

# torch warns that its 'same' padding for even kernels copies the input; so be it.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def forward_backward(fn, tensors, kwargs, grad_output=None):
    """Output and gradients of all ``tensors`` (None entries skipped)."""
    leaves = [
        t.detach().clone().requires_grad_() if t is not None else None for t in tensors
    ]
    output = fn(*leaves, **kwargs)
    if grad_output is None:
        grad_output = torch.randn_like(output)
    output.backward(grad_output)
    grads = [t.grad for t in leaves if t is not None]
    return output, grads, grad_output


def assert_matches_torch(ours, theirs, tensors, kwargs, **tolerance):
    """Same output and same gradients for input, weight and bias."""
    expected, expected_grads, grad_output = forward_backward(theirs, tensors, kwargs)
    output, grads, _ = forward_backward(ours, tensors, kwargs, grad_output)
    torch.testing.assert_close(output, expected, **tolerance)
    for name, grad, expected_grad in zip(
        ("input", "weight", "bias"), grads, expected_grads, strict=False
    ):
        torch.testing.assert_close(
            grad, expected_grad, msg=f"grad of {name}", **tolerance
        )


def non_empty(tensors):
    """The same arguments with a batch of one image in place of an empty batch.

    torch skips some checks when N = 0 (e.g. conv_transpose2d's output_padding);
    cnnlib checks every batch size the same way, so torch is asked with N = 1.
    """
    x, *rest = tensors
    if x.numel() == 0:
        x = x.new_zeros(1, *x.shape[1:])
    return (x, *rest)


def raises_like_torch(ours, theirs, tensors, kwargs):
    """When torch rejects a configuration, cnnlib must reject it too, clearly."""
    with pytest.raises(Exception):  # noqa: B017 (torch raises RuntimeError and others)
        theirs(*non_empty(tensors), **kwargs)
    with pytest.raises((ValueError, TypeError)):
        ours(*tensors, **kwargs)


# --- conv2d grid ------------------------------------------------------------------

# (C_in, C_out, groups): single channels, groups, depthwise (C_in = groups), and
# depthwise with a channel multiplier (C_out = 2 * C_in).
CHANNELS = [(1, 1, 1), (1, 3, 1), (3, 1, 1), (2, 5, 1), (4, 6, 2), (4, 4, 4), (3, 6, 3)]
CHANNELS += [(6, 3, 3), (5, 8, 1), (8, 2, 1)]
KERNELS = [(1, 1), (2, 2), (3, 3), (3, 3), (2, 3), (3, 1), (1, 4), (4, 4), (5, 3)]
SIZES = [(5, 5), (6, 9), (8, 7), (1, 6), (9, 4)]
STRIDES = [1, 1, 2, (1, 2), (2, 3), 3]
PADDINGS = [0, 1, (2, 1), (0, 3), "same", "same", "valid"]
DILATIONS = [1, 1, 2, (1, 2), (3, 1)]
BATCHES = [None, 0, 1, 2, 3]  # None: one unbatched image (C_in, H, W)


def conv2d_grid(count: int, seed: int = 0) -> list[tuple]:
    everything = list(
        itertools.product(
            BATCHES,
            CHANNELS,
            KERNELS,
            SIZES,
            STRIDES,
            PADDINGS,
            DILATIONS,
            (True, False),
        )
    )
    return random.Random(seed).sample(everything, count)


def case_id(case) -> str:
    batch, (c_in, c_out, groups), kernel, size, stride, padding, dilation, bias = case
    return (
        f"N{batch}-{c_in}to{c_out}g{groups}-k{kernel}-in{size}-s{stride}-p{padding}"
        f"-d{dilation}-{'bias' if bias else 'nobias'}"
    ).replace(" ", "")


def make_conv2d_tensors(case, device, dtype=torch.float64):
    batch, (c_in, c_out, groups), kernel, size, stride, padding, dilation, bias = case
    shape = (c_in, *size) if batch is None else (batch, c_in, *size)
    x = torch.randn(shape, dtype=dtype, device=device)
    w = torch.randn(c_out, c_in // groups, *kernel, dtype=dtype, device=device)
    b = torch.randn(c_out, dtype=dtype, device=device) if bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return (x, w, b), kwargs


def torch_accepts(fn, tensors, kwargs) -> bool:
    try:
        fn(*non_empty(tensors), **kwargs)
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("case", conv2d_grid(280), ids=case_id)
def test_conv2d_matches_torch(case, device):
    torch.manual_seed(0)
    tensors, kwargs = make_conv2d_tensors(case, device)
    if not torch_accepts(F.conv2d, tensors, kwargs):  # e.g. kernel larger than input
        raises_like_torch(conv2d, F.conv2d, tensors, kwargs)
        return
    assert_matches_torch(conv2d, F.conv2d, tensors, kwargs)


def test_conv2d_grid_is_mostly_valid_and_uses_both_strategies(monkeypatch):
    """The grid tests what it claims: real convolutions, by both code paths."""
    conv_module = importlib.import_module("cnnlib.ops.conv")
    chosen = []

    def spy(weight, geom):
        strategy = _im2col.products(weight, geom)
        chosen.append(type(strategy))
        return strategy

    monkeypatch.setattr(conv_module, "products", spy)
    valid = 0
    for case in conv2d_grid(280):
        tensors, kwargs = make_conv2d_tensors(case, "cpu")
        try:
            conv2d(*tensors, **kwargs)
            valid += 1
        except ValueError:  # torch rejects these too (test_conv2d_matches_torch)
            pass
    assert valid >= 180
    assert chosen.count(_im2col.ShiftedProducts) >= 30
    assert chosen.count(_im2col.ExplicitProducts) >= 30


# --- Both strategies, directly -----------------------------------------------------


def geometry(x, w, padding, dilation):
    """Stride-1, one-group geometry (the cases both strategies can do)."""
    (kh, kw), (dh, dw) = w.shape[2:], dilation
    h, wd = x.shape[2:]
    top, bottom, left, right = padding
    out = (h + top + bottom - dh * (kh - 1), wd + left + right - dw * (kw - 1))
    return ConvGeometry((h, wd), out, (kh, kw), (1, 1), padding, dilation, 1)


@pytest.mark.parametrize(
    "c_in, c_out, kernel, padding, dilation",
    [
        (3, 4, (3, 3), (1, 1, 1, 1), (1, 1)),
        (1, 2, (2, 3), (0, 1, 1, 1), (2, 1)),  # asymmetric ('same' for even kernels)
        (4, 3, (1, 1), (0, 0, 0, 0), (1, 1)),
        (2, 6, (3, 2), (2, 0, 0, 3), (1, 3)),
    ],
)
def test_shifted_and_explicit_strategies_agree_with_torch(
    c_in, c_out, kernel, padding, dilation, device
):
    torch.manual_seed(1)
    x = torch.randn(3, c_in, 7, 6, dtype=torch.float64, device=device)
    w = torch.randn(c_out, c_in, *kernel, dtype=torch.float64, device=device)
    geom = geometry(x, w, padding, dilation)
    top, bottom, left, right = padding
    b = torch.randn(c_out, dtype=torch.float64, device=device)
    leaf_x, leaf_w = x.clone().requires_grad_(), w.clone().requires_grad_()
    y = F.conv2d(F.pad(leaf_x, (left, right, top, bottom)), leaf_w, dilation=dilation)
    grad_y = torch.randn_like(y)
    y.backward(grad_y)
    y = y.detach()
    for strategy in (_im2col.ShiftedProducts(geom), _im2col.ExplicitProducts(geom)):
        x_operand = strategy.prepare_input(x)
        grad_operand = strategy.prepare_grad(grad_y)
        torch.testing.assert_close(strategy.output(x_operand, w), y)
        with_bias = strategy.output(x_operand, w, b)
        torch.testing.assert_close(with_bias, y + b.view(-1, 1, 1))
        torch.testing.assert_close(strategy.input_grad(grad_operand, w), leaf_x.grad)
        torch.testing.assert_close(
            strategy.weight_grad(x_operand, grad_operand), leaf_w.grad
        )


# --- Shapes and special inputs -----------------------------------------------------


def test_empty_batch_gives_empty_output_and_zero_weight_grad(device):
    x = torch.randn(0, 4, 6, 6, device=device, requires_grad=True)
    w = torch.randn(5, 4, 3, 3, device=device, requires_grad=True)
    b = torch.randn(5, device=device, requires_grad=True)
    y = conv2d(x, w, b, padding=1)
    assert y.shape == (0, 5, 6, 6)
    y.sum().backward()
    assert x.grad.shape == x.shape
    assert torch.equal(w.grad, torch.zeros_like(w))
    assert torch.equal(b.grad, torch.zeros_like(b))


def test_unbatched_input_gives_unbatched_output(device):
    torch.manual_seed(3)
    x = torch.randn(3, 6, 5, dtype=torch.float64, device=device)
    w = torch.randn(2, 3, 3, 3, dtype=torch.float64, device=device)
    y = conv2d(x, w, padding="same")
    assert y.shape == (2, 6, 5)
    torch.testing.assert_close(y, conv2d(x.unsqueeze(0), w, padding="same")[0])


@pytest.mark.parametrize("layout", ["channels_last", "transposed view", "sum backward"])
def test_non_contiguous_input_and_gradient(layout, device):
    """Strided inputs and a broadcast gradient (from ``y.sum()``) are handled."""
    torch.manual_seed(4)
    x = torch.randn(2, 8, 9, 7, dtype=torch.float64, device=device)
    w = torch.randn(6, 8, 3, 3, dtype=torch.float64, device=device)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "transposed view":
        x = x.transpose(2, 3).contiguous().transpose(2, 3)
    grads = []
    for fn in (conv2d, F.conv2d):
        leaf = x.detach().clone().requires_grad_()
        fn(leaf, w, padding=1).sum().backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_docstring_example():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    y = conv2d(x, torch.ones(1, 1, 2, 2), stride=2)
    expected = x.reshape(2, 2, 2, 2).sum((1, 3))  # sums of the 2x2 blocks
    torch.testing.assert_close(y[0, 0], expected)


# --- gradcheck, float32, bfloat16, autocast -----------------------------------------


def leaf(*shape, device="cpu"):
    """A float64 tensor that gradcheck differentiates."""
    return torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)


@pytest.mark.parametrize(
    "kwargs, c_in, c_out",
    [
        (dict(padding=1), 3, 2),  # shifted products
        (dict(stride=2, padding=(1, 0), dilation=(1, 2)), 2, 3),
        (dict(padding="same", groups=2), 4, 2),
        (dict(padding="same"), 1, 4),  # explicit products, even kernel below
    ],
)
def test_conv2d_gradcheck(kwargs, c_in, c_out, device):
    torch.manual_seed(5)
    groups = kwargs.get("groups", 1)
    x = leaf(1, c_in, 4, 5, device=device)
    w, b = leaf(c_out, c_in // groups, 3, 2, device=device), leaf(c_out, device=device)
    assert torch.autograd.gradcheck(lambda *t: conv2d(*t, **kwargs), (x, w, b))


def test_conv1d_gradcheck(device):
    torch.manual_seed(6)
    x, w = leaf(2, 4, 9, device=device), leaf(6, 2, 3, device=device)
    b = leaf(6, device=device)
    fn = lambda *t: conv1d(*t, stride=2, padding=2, dilation=2, groups=2)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))


@pytest.mark.parametrize(
    "c_in, c_out, kwargs",
    [
        (16, 16, dict(padding=1)),
        (3, 16, dict(padding=1)),
        (8, 8, dict(stride=2, groups=2)),
    ],
)
def test_float32_close_to_float64(c_in, c_out, kwargs, device):
    torch.manual_seed(7)
    groups = kwargs.get("groups", 1)
    x = torch.randn(4, c_in, 20, 20, dtype=torch.float64, device=device)
    w = torch.randn(c_out, c_in // groups, 3, 3, dtype=torch.float64, device=device)
    b = torch.randn(c_out, dtype=torch.float64, device=device)
    exact, exact_grads, grad_y = forward_backward(F.conv2d, (x, w, b), kwargs)
    single = [t.float() for t in (x, w, b)]
    output, grads, _ = forward_backward(conv2d, single, kwargs, grad_y.float())
    # Sums of ~C_in*9 (and N*H*W for dW) products: float32 is good to about 1e-5.
    torch.testing.assert_close(output.double(), exact, rtol=1e-4, atol=1e-4)
    for grad, exact_grad in zip(grads, exact_grads, strict=True):
        scale = exact_grad.abs().max().item()
        torch.testing.assert_close(
            grad.double(), exact_grad, rtol=1e-4, atol=1e-5 * scale
        )


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_close_to_float32(dtype, device):
    """16-bit floats run (float16 mostly matters on GPUs) and stay near float32."""
    torch.manual_seed(8)
    x = torch.randn(2, 8, 10, 10, device=device)
    w = torch.randn(16, 8, 3, 3, device=device) / 8
    b = torch.randn(16, device=device)
    kwargs = dict(padding=1)
    reference, ref_grads, grad_y = forward_backward(F.conv2d, (x, w, b), kwargs)
    half = [t.to(dtype) for t in (x, w, b)]
    output, grads, _ = forward_backward(conv2d, half, kwargs, grad_y.to(dtype))
    assert output.dtype == dtype and all(g.dtype == dtype for g in grads)
    # bfloat16 keeps 8 significant bits: relative errors of a few 1e-3 per value,
    # so compare against the scale of each tensor.
    for got, want in zip([output, *grads], [reference, *ref_grads], strict=True):
        error = (got.float() - want).abs().max() / want.abs().max()
        assert error < 3e-2


def test_autocast_computes_in_bfloat16_like_torch():
    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours, theirs = conv2d(x, w, padding=1), F.conv2d(x, w, padding=1)
    assert ours.dtype == theirs.dtype == torch.bfloat16
    torch.testing.assert_close(ours, theirs, rtol=2e-2, atol=2e-2)


# --- conv1d ---------------------------------------------------------------------------


def conv1d_grid(count: int, seed: int = 1) -> list[tuple]:
    channels = [(1, 1, 1), (2, 5, 1), (4, 6, 2), (4, 4, 4), (6, 3, 3), (8, 2, 1)]
    everything = itertools.product(
        BATCHES,
        channels,
        [1, 2, 3, 5],
        [4, 9, 12],
        [1, 2, 3],
        [0, 2, "same", "valid"],
        [1, 2],
        (True, False),
    )
    return random.Random(seed).sample(list(everything), count)


@pytest.mark.parametrize("case", conv1d_grid(90), ids=lambda c: str(c).replace(" ", ""))
def test_conv1d_matches_torch(case, device):
    batch, (c_in, c_out, groups), kernel, length, stride, padding, dilation, bias = case
    torch.manual_seed(9)
    shape = (c_in, length) if batch is None else (batch, c_in, length)
    x = torch.randn(shape, dtype=torch.float64, device=device)
    w = torch.randn(c_out, c_in // groups, kernel, dtype=torch.float64, device=device)
    b = torch.randn(c_out, dtype=torch.float64, device=device) if bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if not torch_accepts(F.conv1d, (x, w, b), kwargs):
        raises_like_torch(conv1d, F.conv1d, (x, w, b), kwargs)
        return
    assert_matches_torch(conv1d, F.conv1d, (x, w, b), kwargs)


# --- Errors ---------------------------------------------------------------------------


def r(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


# (name, args, kwargs, words the message must contain)
CONV2D_ERRORS = [
    ("input rank 2", (r(3, 5), r(4, 3, 3, 3)), {}, ["input", "4D"]),
    ("input rank 5", (r(1, 1, 3, 5, 5), r(4, 3, 3, 3)), {}, ["input", "4D"]),
    ("weight rank 3", (r(1, 3, 5, 5), r(4, 3, 3)), {}, ["weight", "4D"]),
    ("channels", (r(1, 3, 5, 5), r(4, 4, 3, 3)), {}, ["3 channels", "expects 4"]),
    ("groups vs C_in", (r(1, 3, 5, 5), r(4, 1, 3, 3)), dict(groups=2), ["channels"]),
    ("groups vs C_out", (r(1, 4, 5, 5), r(3, 2, 3, 3)), dict(groups=2), ["groups"]),
    ("groups zero", (r(1, 4, 5, 5), r(3, 4, 3, 3)), dict(groups=0), ["groups"]),
    (
        "kernel too large",
        (r(1, 1, 2, 2), r(1, 1, 3, 3)),
        {},
        ["kernel", "padded input"],
    ),
    ("dilated kernel", (r(1, 1, 4, 4), r(1, 1, 3, 3)), dict(dilation=2), ["kernel"]),
    ("negative padding", (r(1, 1, 4, 4), r(1, 1, 3, 3)), dict(padding=-1), ["padding"]),
    ("stride zero", (r(1, 1, 4, 4), r(1, 1, 3, 3)), dict(stride=(0, 1)), ["stride"]),
    ("dilation zero", (r(1, 1, 4, 4), r(1, 1, 3, 3)), dict(dilation=0), ["dilation"]),
    (
        "same strided",
        (r(1, 1, 4, 4), r(1, 1, 3, 3)),
        dict(stride=2, padding="same"),
        ["same", "stride"],
    ),
    (
        "padding string",
        (r(1, 1, 4, 4), r(1, 1, 3, 3)),
        dict(padding="full"),
        ["padding", "'full'"],
    ),
    (
        "stride length",
        (r(1, 1, 4, 4), r(2, 1, 3, 3)),
        dict(stride=(1, 1, 1)),
        ["stride"],
    ),
    ("bias length", (r(1, 1, 4, 4), r(2, 1, 3, 3), r(3)), {}, ["bias", "(2,)"]),
    ("bias rank", (r(1, 1, 4, 4), r(2, 1, 3, 3), r(2, 1)), {}, ["bias"]),
    (
        "weight dtype",
        (r(1, 1, 4, 4, dtype=torch.float64), r(2, 1, 3, 3)),
        {},
        ["input and weight", "dtype"],
    ),
    (
        "bias dtype",
        (r(1, 1, 4, 4), r(2, 1, 3, 3), r(2, dtype=torch.float64)),
        {},
        ["input and bias", "dtype"],
    ),
]


@pytest.mark.parametrize(
    "args, kwargs, words",
    [c[1:] for c in CONV2D_ERRORS],
    ids=[c[0] for c in CONV2D_ERRORS],
)
def test_conv2d_errors_like_torch(args, kwargs, words):
    with pytest.raises(Exception):  # noqa: B017
        F.conv2d(*args, **kwargs)
    with pytest.raises((ValueError, TypeError)) as error:
        conv2d(*args, **kwargs)
    message = str(error.value)
    assert message.startswith("conv2d: ")
    for word in words:
        assert word in message


def test_channel_error_message_explains_the_rule():
    with pytest.raises(ValueError) as error:
        conv2d(r(1, 3, 5, 5), r(6, 2, 3, 3), groups=2)
    assert str(error.value) == (
        "conv2d: input has 3 channels but weight expects 4 (weight.shape[1] * groups)"
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")
def test_devices_must_match():
    with pytest.raises(ValueError, match="conv2d: input and weight are on different"):
        conv2d(r(1, 1, 4, 4), r(1, 1, 3, 3).cuda())


def test_integer_input_is_rejected():
    """Unlike torch (which convolves integers forward-only), gradients need floats."""
    with pytest.raises(TypeError, match="conv2d: input must have a floating dtype"):
        conv2d(torch.ones(1, 1, 4, 4, dtype=torch.long), torch.ones(1, 1, 3, 3).long())


def test_non_tensor_input_is_rejected():
    with pytest.raises(TypeError, match="conv2d: input must be a torch.Tensor"):
        conv2d([[1.0]], r(1, 1, 1, 1))


@pytest.mark.parametrize(
    "args, kwargs, words",
    [
        ((r(3, 4, 5), r(2, 4, 3, 3)), {}, ["weight", "3D"]),
        ((r(2, 3, 4, 5), r(2, 3, 3)), {}, ["input", "3D"]),
        ((r(1, 3, 8), r(2, 4, 3)), {}, ["3 channels", "expects 4"]),
        ((r(1, 3, 8), r(3, 3, 3)), dict(stride=2, padding="same"), ["same"]),
        ((r(1, 3, 2), r(3, 3, 3)), {}, ["kernel"]),
    ],
)
def test_conv1d_errors_like_torch(args, kwargs, words):
    with pytest.raises(Exception):  # noqa: B017
        F.conv1d(*args, **kwargs)
    with pytest.raises((ValueError, TypeError)) as error:
        conv1d(*args, **kwargs)
    assert str(error.value).startswith("conv1d: ")
    for word in words:
        assert word in str(error.value)
