"""cnnlib.ops.linear against torch.nn.functional.linear, values and gradients."""

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck, gradgradcheck

from cnnlib.ops import linear


def outputs_and_grads(fn, tensors, upstream):
    """Run ``fn`` on fresh leaves, backprop ``upstream``; return output and grads."""
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    out = fn(*leaves)
    grads = torch.autograd.grad(out, leaves, upstream)
    return out.detach(), grads


@pytest.mark.parametrize("input_shape", [(4,), (3, 4), (2, 3, 4), (2, 1, 3, 4)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_matches_torch_float64(input_shape, with_bias, rng):
    x = torch.randn(input_shape, generator=rng, dtype=torch.float64)
    w = torch.randn(5, 4, generator=rng, dtype=torch.float64)
    tensors = [x, w]
    if with_bias:
        tensors.append(torch.randn(5, generator=rng, dtype=torch.float64))
    upstream = torch.randn(*input_shape[:-1], 5, generator=rng, dtype=torch.float64)

    expected, expected_grads = outputs_and_grads(F.linear, tensors, upstream)
    got, got_grads = outputs_and_grads(linear, tensors, upstream)
    torch.testing.assert_close(got, expected)
    for g, e in zip(got_grads, expected_grads, strict=True):
        torch.testing.assert_close(g, e)


def test_definition_on_a_hand_sized_case():
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    w = torch.tensor([[3.0, 4.0], [-1.0, 0.5]], dtype=torch.float64)
    b = torch.tensor([0.5, -0.5], dtype=torch.float64)
    # y_j = sum_i x_i w_ji + b_j, written out
    expected = torch.stack([(x[0] * w[j]).sum() + b[j] for j in range(2)])[None]
    torch.testing.assert_close(linear(x, w, b), expected)


def test_gradcheck_and_second_derivatives():
    gen = torch.Generator().manual_seed(1)
    args = [
        torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True),
        torch.randn(2, 4, generator=gen, dtype=torch.float64, requires_grad=True),
        torch.randn(2, generator=gen, dtype=torch.float64, requires_grad=True),
    ]
    assert gradcheck(linear, args)
    assert gradgradcheck(linear, args)


@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float32, 1e-5), (torch.bfloat16, 3e-2)]
)
def test_lower_precision_close_to_float64(dtype, tol, device, rng):
    x = torch.randn(8, 16, generator=rng, dtype=torch.float64)
    w = torch.randn(4, 16, generator=rng, dtype=torch.float64) / 4
    b = torch.randn(4, generator=rng, dtype=torch.float64)
    expected = F.linear(x, w, b)
    leaves = [t.to(device, dtype).requires_grad_() for t in (x, w, b)]
    out = linear(*leaves)
    out.sum().backward()
    assert out.dtype == dtype and out.device.type == device.type
    torch.testing.assert_close(
        out.double().cpu(), expected, rtol=tol, atol=tol * expected.abs().max()
    )
    assert all(leaf.grad is not None and leaf.grad.dtype == dtype for leaf in leaves)


def test_no_grad_requested_for_constants(rng):
    # Only x needs a gradient: the weight path must not break when skipped.
    x = torch.randn(3, 4, generator=rng, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 4, generator=rng, dtype=torch.float64)
    linear(x, w).sum().backward()
    torch.testing.assert_close(x.grad, w.sum(0).expand(3, 4))


def test_feature_mismatch_is_named():
    x, w = torch.randn(2, 5), torch.randn(3, 4)
    with pytest.raises(RuntimeError):
        F.linear(x, w)
    with pytest.raises(ValueError, match="linear: input has 5 features but weight "):
        linear(x, w)


def test_bias_shape_is_checked():
    x, w = torch.randn(2, 4), torch.randn(3, 4)
    with pytest.raises(RuntimeError):
        F.linear(x, w, torch.randn(4))
    with pytest.raises(ValueError, match="linear: bias must have shape"):
        linear(x, w, torch.randn(4))


def test_weight_must_be_a_matrix():
    # torch accepts a 1-D weight; cnnlib asks for the (C_out, C_in) matrix.
    with pytest.raises(ValueError, match="linear: weight must be 2D"):
        linear(torch.randn(2, 4), torch.randn(4))


def test_dtype_mismatch_is_named():
    with pytest.raises(TypeError, match="linear: input and weight"):
        linear(torch.randn(2, 4), torch.randn(3, 4, dtype=torch.float64))
