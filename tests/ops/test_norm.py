"""Batch norm and local response norm against torch, values, gradients, statistics."""

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from cnnlib import ops

F64 = torch.float64
SHAPES = [(8, 3), (4, 3, 5), (4, 3, 4, 5)]


def outputs_and_grads(fn, tensors, upstream):
    """Run ``fn`` on fresh leaves (None passes through); return output and grads."""
    leaves = [
        None if t is None else t.detach().clone().requires_grad_() for t in tensors
    ]
    out = fn(*leaves)
    wanted = [leaf for leaf in leaves if leaf is not None]
    return out.detach(), torch.autograd.grad(out, wanted, upstream)


# --- batch_norm ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
@pytest.mark.parametrize(
    ("training", "track"), [(True, True), (True, False), (False, True)]
)
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_matches_torch(shape, affine, training, track, momentum, rng):
    channels = shape[1]
    weight = torch.rand(channels, generator=rng, dtype=F64) + 0.5
    bias = torch.randn(channels, generator=rng, dtype=F64)
    weight = None if affine == "none" else weight
    bias = bias if affine == "both" else None
    stats = {}
    for name in ("ours", "torch"):
        # Each implementation updates its own copy of the running statistics.
        gen = torch.Generator().manual_seed(7)
        mean = torch.randn(channels, generator=gen, dtype=F64) if track else None
        var = torch.rand(channels, generator=gen, dtype=F64) + 0.5 if track else None
        stats[name] = (mean, var)

    # Three steps with fresh batches: the running statistics accumulate.
    for step in range(3):
        x = torch.randn(shape, generator=rng, dtype=F64) * (step + 1) + step
        upstream = torch.randn(shape, generator=rng, dtype=F64)
        results = {}
        for name, fn in (("ours", ops.batch_norm), ("torch", F.batch_norm)):
            mean, var = stats[name]

            def call(x_, w_, b_, fn=fn, mean=mean, var=var):
                return fn(x_, mean, var, w_, b_, training, momentum, 1e-5)

            results[name] = outputs_and_grads(call, [x, weight, bias], upstream)
        torch.testing.assert_close(results["ours"][0], results["torch"][0])
        for g, e in zip(results["ours"][1], results["torch"][1], strict=True):
            torch.testing.assert_close(g, e)
        if track:
            for ours_stat, torch_stat in zip(
                stats["ours"], stats["torch"], strict=True
            ):
                torch.testing.assert_close(ours_stat, torch_stat)


def test_batch_norm_by_definition(rng):
    # Paper, Algorithm 1: normalise with the batch mean and biased variance.
    x = torch.randn(6, 2, 3, generator=rng, dtype=F64) * 3 + 1
    gamma, beta = (
        torch.tensor([2.0, 0.5], dtype=F64),
        torch.tensor([1.0, -1.0], dtype=F64),
    )
    running_mean, running_var = torch.zeros(2, dtype=F64), torch.ones(2, dtype=F64)
    y = ops.batch_norm(x, running_mean, running_var, gamma, beta, True, 0.25, 1e-5)
    for c in range(2):
        values = x[:, c].flatten()
        mean, var = values.mean(), ((values - values.mean()) ** 2).mean()
        expected = gamma[c] * (x[:, c] - mean) / torch.sqrt(var + 1e-5) + beta[c]
        torch.testing.assert_close(y[:, c], expected)
        # The running variance stores the unbiased estimate (n - 1 in the division).
        n = values.numel()
        torch.testing.assert_close(running_mean[c], 0.25 * mean)
        torch.testing.assert_close(running_var[c], 0.75 + 0.25 * var * n / (n - 1))


def test_batch_norm_cumulative_average_like_momentum_none(rng):
    # nn.BatchNorm1d(momentum=None) keeps a plain average of the batch statistics;
    # the functional op gets there with momentum = 1 / number of batches seen.
    layer = torch.nn.BatchNorm1d(4, momentum=None, dtype=F64)
    mean, var = torch.zeros(4, dtype=F64), torch.ones(4, dtype=F64)
    for step in range(1, 5):
        x = torch.randn(10, 4, generator=rng, dtype=F64) * step
        layer(x)
        ops.batch_norm(x, mean, var, training=True, momentum=1 / step)
    torch.testing.assert_close(mean, layer.running_mean)
    torch.testing.assert_close(var, layer.running_var)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training, rng):
    x = torch.randn(4, 3, 2, generator=rng, dtype=F64, requires_grad=True)
    weight = (torch.rand(3, generator=rng, dtype=F64) + 0.5).requires_grad_()
    bias = torch.randn(3, generator=rng, dtype=F64, requires_grad=True)
    mean = torch.randn(3, generator=rng, dtype=F64)
    var = torch.rand(3, generator=rng, dtype=F64) + 0.5

    def fn(x_, w_, b_):
        # Copies, so the repeated calls of gradcheck see the same statistics.
        return ops.batch_norm(x_, mean.clone(), var.clone(), w_, b_, training)

    assert gradcheck(fn, (x, weight, bias))


def test_batch_norm_second_derivative_raises(rng):
    x = torch.randn(4, 3, generator=rng, dtype=F64, requires_grad=True)
    y = ops.batch_norm(x, None, None, training=True)
    (grad,) = torch.autograd.grad((y**3).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        grad.sum().backward()


def test_batch_norm_channels_last(rng):
    x = torch.randn(4, 3, 5, 5, generator=rng, dtype=F64)
    weight, bias = torch.rand(3, dtype=F64), torch.rand(3, dtype=F64)
    upstream = torch.randn(4, 3, 5, 5, generator=rng, dtype=F64)
    x_cl = x.to(memory_format=torch.channels_last)
    upstream_cl = upstream.to(memory_format=torch.channels_last)

    def call(x_, w_, b_):
        return ops.batch_norm(x_, None, None, w_, b_, training=True)

    expected = outputs_and_grads(call, [x, weight, bias], upstream)
    got = outputs_and_grads(call, [x_cl, weight, bias], upstream_cl)
    for g, e in zip([got[0], *got[1]], [expected[0], *expected[1]], strict=True):
        torch.testing.assert_close(g, e)


@pytest.mark.parametrize(
    ("dtype", "param_dtype", "tol"),
    [
        (torch.float32, torch.float32, 1e-4),
        (torch.bfloat16, torch.bfloat16, 5e-2),
        (torch.bfloat16, torch.float32, 5e-2),  # what a float32 layer sees
    ],
)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_lower_precision(dtype, param_dtype, tol, training, device, rng):
    x = torch.randn(8, 4, 3, 3, generator=rng) * 2 + 1
    weight, bias = torch.rand(4, generator=rng) + 0.5, torch.randn(4, generator=rng)
    mean, var = torch.randn(4, generator=rng), torch.rand(4, generator=rng) + 0.5

    def run(fn, x_, w_, b_, mean_, var_):
        leaves = [t.requires_grad_() for t in (x_, w_, b_)]
        out = fn(x_, mean_, var_, w_, b_, training, 0.1, 1e-5)
        out.backward(torch.ones_like(out).cumsum(-1))
        return out, [leaf.grad for leaf in leaves]

    low = [x.to(device, dtype)] + [
        t.to(device, param_dtype) for t in (weight, bias, mean, var)
    ]
    # The float64 reference starts from the same rounded values.
    ref = [t.detach().cpu().double() for t in low]
    out, grads = run(ops.batch_norm, *low)
    expected, expected_grads = run(F.batch_norm, *ref)
    assert out.dtype == dtype and grads[0].dtype == dtype
    for got, want in zip([out, *grads], [expected, *expected_grads], strict=True):
        scale = want.abs().max().item() + 1
        torch.testing.assert_close(
            got.detach().cpu().double(), want, rtol=tol, atol=tol * scale
        )
    # The running statistics were updated in their own dtype.
    torch.testing.assert_close(low[3].cpu().double(), ref[3], rtol=tol, atol=tol)


def both_raise(call, match):
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        call(F)
    with pytest.raises((ValueError, TypeError), match=match):
        call(ops)


@pytest.mark.parametrize("name", ["running_mean", "running_var", "weight", "bias"])
def test_batch_norm_channel_mismatch(name):
    x = torch.randn(4, 3)
    args = {"running_mean": torch.zeros(3), "running_var": torch.ones(3)}
    args[name] = torch.ones(2)
    both_raise(
        lambda m: m.batch_norm(x, **args, training=False),
        rf"batch_norm: {name} must have one entry per channel, shape \(3,\)",
    )


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1, 1)])
def test_batch_norm_one_value_per_channel_when_training(shape):
    both_raise(
        lambda m: m.batch_norm(torch.randn(shape), None, None, training=True),
        "batch_norm: expected more than 1 value per channel when training",
    )


def test_batch_norm_eval_needs_running_statistics():
    both_raise(
        lambda m: m.batch_norm(torch.randn(4, 3), None, None, training=False),
        "batch_norm: running_mean and running_var are required",
    )


def test_batch_norm_momentum_none():
    args = (torch.randn(4, 3), torch.zeros(3), torch.ones(3))
    both_raise(
        lambda m: m.batch_norm(*args, training=True, momentum=None),
        "batch_norm: momentum must be a float in",
    )


# --- local_response_norm ------------------------------------------------------------

LRN_PARAMS = [(1e-4, 0.75, 1.0), (0.5, 0.5, 2.0), (2.0, 1.0, 0.5)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("shape", [(2, 6, 5), (2, 6, 3, 4), (1, 6, 2, 3, 2)])
def test_local_response_norm_matches_torch(size, shape, rng):
    for alpha, beta, k in LRN_PARAMS:
        x = torch.randn(shape, generator=rng, dtype=F64) * 2
        upstream = torch.randn(shape, generator=rng, dtype=F64)
        expected, (expected_grad,) = outputs_and_grads(
            lambda t, a=alpha, b=beta, kk=k: F.local_response_norm(t, size, a, b, kk),
            [x],
            upstream,
        )
        got, (got_grad,) = outputs_and_grads(
            lambda t, a=alpha, b=beta, kk=k: ops.local_response_norm(t, size, a, b, kk),
            [x],
            upstream,
        )
        torch.testing.assert_close(got, expected)
        torch.testing.assert_close(got_grad, expected_grad)


def test_local_response_norm_alexnet_formula(rng):
    # AlexNet, section 3.3: b_c = a_c / (k + alpha * sum_{|j - c| <= n/2} a_j^2)^beta
    # with k=2, n=5, alpha=1e-4, beta=0.75; torch's alpha is divided by size.
    x = torch.randn(2, 7, 3, 3, generator=rng, dtype=F64) * 10
    k, n, alpha, beta = 2.0, 5, 1e-4, 0.75
    expected = torch.empty_like(x)
    for c in range(7):
        low, high = max(0, c - n // 2), min(6, c + n // 2)
        energy = (x[:, low : high + 1] ** 2).sum(dim=1)
        expected[:, c] = x[:, c] / (k + alpha * energy) ** beta
    got = ops.local_response_norm(x, size=n, alpha=alpha * n, beta=beta, k=k)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("size", [2, 3])
def test_local_response_norm_gradcheck(size, rng):
    x = torch.randn(2, 4, 3, generator=rng, dtype=F64, requires_grad=True)
    assert gradcheck(lambda t: ops.local_response_norm(t, size, 0.5, 0.75, 1.0), (x,))


@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float32, 1e-5), (torch.bfloat16, 3e-2)]
)
def test_local_response_norm_lower_precision(dtype, tol, device, rng):
    x = (torch.randn(2, 6, 4, 4, generator=rng) * 2).to(device, dtype)
    x_ref = x.cpu().double().requires_grad_()
    x = x.requires_grad_()
    out = ops.local_response_norm(x, 5, 0.1, 0.75, 1.0)
    out.sum().backward()
    expected = F.local_response_norm(x_ref, 5, 0.1, 0.75, 1.0)
    expected.sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    for got, want in [(out, expected), (x.grad, x_ref.grad)]:
        torch.testing.assert_close(
            got.detach().cpu().double(), want.detach(), rtol=tol, atol=tol
        )


def test_local_response_norm_needs_three_dims():
    both_raise(
        lambda m: m.local_response_norm(torch.randn(3, 4), 2),
        "local_response_norm: input must have at least 3 dimensions",
    )


def test_local_response_norm_size_must_be_positive():
    for size in (0, 2.5):
        with pytest.raises(ValueError, match="local_response_norm: size must be"):
            ops.local_response_norm(torch.randn(1, 3, 4), size)
