"""Activations and softmax against torch.nn.functional, values and gradients."""

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck, gradgradcheck

from cnnlib import ops

# (cnnlib op, torch reference) for the elementwise activations, with their options.
ELEMENTWISE = {
    "relu": (ops.relu, F.relu),
    "leaky_relu": (ops.leaky_relu, F.leaky_relu),
    "leaky_relu_0.2": (
        lambda x: ops.leaky_relu(x, 0.2),
        lambda x: F.leaky_relu(x, 0.2),
    ),
    "leaky_relu_negative_slope": (
        lambda x: ops.leaky_relu(x, -0.5),
        lambda x: F.leaky_relu(x, -0.5),
    ),
    "sigmoid": (ops.sigmoid, torch.sigmoid),
    "tanh": (ops.tanh, torch.tanh),
}


def outputs_and_grads(fn, x, upstream):
    leaf = x.detach().clone().requires_grad_()
    out = fn(leaf)
    (grad,) = torch.autograd.grad(out, leaf, upstream)
    return out.detach(), grad


def awkward_inputs(rng, dtype=torch.float64):
    """Random values plus the awkward ones: exact zeros and huge magnitudes."""
    x = torch.randn(4, 5, generator=rng, dtype=dtype) * 3
    x[0, :5] = torch.tensor([0.0, -0.0, 50.0, -50.0, 1000.0], dtype=dtype)
    x[1, 0] = -1000.0
    return x


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_torch(name, rng):
    ours, ref = ELEMENTWISE[name]
    x = awkward_inputs(rng)
    upstream = torch.randn(x.shape, generator=rng, dtype=x.dtype)
    expected, expected_grad = outputs_and_grads(ref, x, upstream)
    got, got_grad = outputs_and_grads(ours, x, upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-300)
    torch.testing.assert_close(got_grad, expected_grad, rtol=1e-12, atol=1e-300)


def test_derivatives_by_definition(rng):
    x = torch.randn(50, generator=rng, dtype=torch.float64, requires_grad=True)
    for fn, derivative in [
        (ops.relu, lambda x: (x > 0).double()),
        (ops.sigmoid, lambda x: torch.exp(-x) / (1 + torch.exp(-x)) ** 2),
        (ops.tanh, lambda x: 1 / torch.cosh(x) ** 2),
    ]:
        (grad,) = torch.autograd.grad(fn(x).sum(), x)
        torch.testing.assert_close(grad, derivative(x.detach()))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_gradcheck_and_second_derivatives(name, rng):
    ours, _ = ELEMENTWISE[name]
    # Away from 0, where relu's derivative jumps and finite differences fail.
    x = torch.randn(3, 4, generator=rng, dtype=torch.float64)
    x = (x + 0.1 * x.sign()).requires_grad_()
    assert gradcheck(ours, (x,))
    assert gradgradcheck(ours, (x,))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "leaky_relu_negative_slope"])
def test_inplace_overwrites_input_and_backprops(name, rng):
    ours, ref = ELEMENTWISE[name]
    x = torch.randn(3, 4, generator=rng, dtype=torch.float64)
    upstream = torch.randn(3, 4, generator=rng, dtype=torch.float64)
    expected, expected_grad = outputs_and_grads(ref, x, upstream)

    leaf = x.clone().requires_grad_()
    hidden = leaf * 1  # a non-leaf, which may be modified in place
    if name == "relu":
        out = ops.relu(hidden, inplace=True)
    else:
        # torch refuses the backward of an in-place call with a negative slope;
        # cnnlib keeps the sign mask, so it can.
        slope = -0.5 if "negative" in name else 0.01
        out = ops.leaky_relu(hidden, slope, inplace=True)
    assert out is hidden
    out.backward(upstream)
    torch.testing.assert_close(hidden.detach(), expected)
    torch.testing.assert_close(leaf.grad, expected_grad)


def test_inplace_on_leaf_requiring_grad_is_refused():
    leaf = torch.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        F.relu(leaf, inplace=True)
    with pytest.raises(RuntimeError):
        ops.relu(leaf, inplace=True)


def test_inplace_without_autograd_modifies_tensor():
    x = torch.tensor([-1.0, 2.0])
    assert ops.leaky_relu(x, 0.5, inplace=True) is x
    torch.testing.assert_close(x, torch.tensor([-0.5, 2.0]))


SOFTMAX_CASES = [
    ((5,), 0),
    ((3, 4), 1),
    ((3, 4), 0),
    ((2, 3, 4, 5), 1),
    ((2, 3, 4), -1),
]


@pytest.mark.parametrize(("shape", "dim"), SOFTMAX_CASES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_matches_torch(name, shape, dim, rng):
    x = torch.randn(shape, generator=rng, dtype=torch.float64) * 5
    upstream = torch.randn(shape, generator=rng, dtype=torch.float64)
    expected, expected_grad = outputs_and_grads(
        lambda t: getattr(F, name)(t, dim=dim), x, upstream
    )
    got, got_grad = outputs_and_grads(
        lambda t: getattr(ops, name)(t, dim=dim), x, upstream
    )
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(got_grad, expected_grad)


def test_softmax_definition_and_sums_to_one(rng):
    x = torch.randn(4, 6, generator=rng, dtype=torch.float64)
    y = ops.softmax(x, dim=1)
    torch.testing.assert_close(y, torch.exp(x) / torch.exp(x).sum(1, keepdim=True))
    torch.testing.assert_close(y.sum(1), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(ops.log_softmax(x, dim=1), torch.log(y))


def test_softmax_is_stable_for_huge_scores():
    x = torch.tensor([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]])
    for name in ("softmax", "log_softmax"):
        got = getattr(ops, name)(x, dim=1)
        expected = getattr(F, name)(x, dim=1)
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck_and_second_derivatives(name, rng):
    x = torch.randn(3, 4, generator=rng, dtype=torch.float64, requires_grad=True)
    fn = getattr(ops, name)
    assert gradcheck(lambda t: fn(t, dim=1), (x,))
    assert gradgradcheck(lambda t: fn(t, dim=1), (x,))


def test_softmax_dtype_argument_casts_first(rng):
    x = torch.randn(3, 4, generator=rng)
    y = ops.softmax(x, dim=1, dtype=torch.float64)
    assert y.dtype == torch.float64
    torch.testing.assert_close(y, F.softmax(x, dim=1, dtype=torch.float64))


def test_softmax_of_a_scalar():
    x = torch.tensor(3.0, dtype=torch.float64)
    torch.testing.assert_close(ops.softmax(x, dim=0), F.softmax(x, dim=0))
    torch.testing.assert_close(ops.log_softmax(x, dim=-1), F.log_softmax(x, dim=-1))


@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float32, 1e-5), (torch.bfloat16, 2e-2)]
)
@pytest.mark.parametrize(
    "name", ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax"]
)
def test_lower_precision_close_to_float64(name, dtype, tol, device, rng):
    x = torch.randn(6, 10, generator=rng, dtype=torch.float64) * 2
    fn = getattr(ops, name)
    ref = getattr(F, name) if name not in ("sigmoid", "tanh") else getattr(torch, name)
    kwargs = {"dim": 1} if "softmax" in name else {}
    x_low = x.to(device, dtype).requires_grad_()
    out = fn(x_low, **kwargs)
    out.backward(torch.ones_like(out))
    # The reference sees the same rounded input, so only the op's own error counts.
    x_ref = x_low.detach().cpu().double().requires_grad_()
    expected = ref(x_ref, **kwargs)
    expected.backward(torch.ones_like(expected))
    assert out.dtype == dtype and x_low.grad.dtype == dtype
    scale = expected.abs().max().item()
    torch.testing.assert_close(out.cpu().double(), expected, rtol=tol, atol=tol * scale)
    grad_scale = x_ref.grad.abs().max().item() + 1
    torch.testing.assert_close(
        x_low.grad.cpu().double(), x_ref.grad, rtol=tol, atol=tol * grad_scale
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_requires_dim(name):
    with pytest.raises(TypeError, match=f"{name}: dim must be given"):
        getattr(ops, name)(torch.randn(2, 3))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dim_out_of_range(name):
    x = torch.randn(2, 3)
    with pytest.raises(IndexError):
        getattr(F, name)(x, dim=2)
    with pytest.raises(IndexError, match=f"{name}: dim must be in"):
        getattr(ops, name)(x, dim=2)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_integer_input_is_refused(name):
    with pytest.raises(TypeError, match=f"{name}: input must have a floating dtype"):
        getattr(ops, name)(torch.tensor([1, 2]))
