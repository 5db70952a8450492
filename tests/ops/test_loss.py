"""Losses against torch.nn.functional in float64: values, gradients, every option."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck, gradgradcheck

from cnnlib import ops

F64 = torch.float64

# (input shape, class-index target shape): one sample, a batch, sequences, images.
SHAPES = [((5,), ()), ((6, 5), (6,)), ((3, 5, 4), (3, 4)), ((2, 5, 3, 4), (2, 3, 4))]


def outputs_and_grads(fn, tensors, rng):
    """Run ``fn`` on fresh leaves, backprop a random upstream gradient.

    The upstream gradient comes from ``rng``, so two calls with generators in the
    same state backprop the same gradient.
    """
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    out = fn(*leaves)
    upstream = torch.randn(out.shape, generator=rng, dtype=out.dtype)
    grads = torch.autograd.grad(out, leaves, upstream)
    return out.detach(), grads


def assert_same_as_torch(ours, ref, tensors, seed=0, **tol):
    expected, expected_grads = outputs_and_grads(
        ref, tensors, torch.Generator().manual_seed(seed)
    )
    got, got_grads = outputs_and_grads(
        ours, tensors, torch.Generator().manual_seed(seed)
    )
    # nan where torch gives nan: a 'mean' over targets that are all ignored is 0/0.
    torch.testing.assert_close(got, expected, equal_nan=True, **tol)
    for g, e in zip(got_grads, expected_grads, strict=True):
        torch.testing.assert_close(g, e, equal_nan=True, **tol)


REDUCTIONS = ["mean", "sum", "none"]


def assert_same_as_torch_for_each_reduction(ours, ref, tensors, **kwargs):
    """``ours(*tensors, **kwargs, reduction=r)`` equals torch's for every r."""
    for reduction in REDUCTIONS:
        assert_same_as_torch(
            lambda *t, r=reduction: ours(*t, **kwargs, reduction=r),
            lambda *t, r=reduction: ref(*t, **kwargs, reduction=r),
            tensors,
        )


def class_targets(shape, num_classes, rng, ignore_index=None):
    target = torch.randint(0, num_classes, shape, generator=rng)
    if ignore_index is not None and target.numel() > 1:
        target.view(-1)[::3] = ignore_index  # every third position is ignored
    return target


# --- cross_entropy with class indices ----------------------------------------------


@pytest.mark.parametrize(("input_shape", "target_shape"), SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100, 2])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_class_indices(
    input_shape, target_shape, weighted, ignore_index, label_smoothing, rng
):
    x = torch.randn(input_shape, generator=rng, dtype=F64) * 3
    target = class_targets(target_shape, 5, rng, ignore_index)
    kwargs = {"label_smoothing": label_smoothing}
    if weighted:
        kwargs["weight"] = torch.rand(5, generator=rng, dtype=F64) + 0.1
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    assert_same_as_torch_for_each_reduction(
        lambda t, **kw: ops.cross_entropy(t, target, **kw),
        lambda t, **kw: F.cross_entropy(t, target, **kw),
        [x],
        **kwargs,
    )


def test_cross_entropy_by_definition(rng):
    # loss = -log softmax(x)[t]; gradient = softmax(x) - one_hot(t), averaged.
    x = torch.randn(4, 3, generator=rng, dtype=F64, requires_grad=True)
    target = torch.tensor([0, 2, 1, 2])
    loss = ops.cross_entropy(x, target)
    probs = torch.exp(x.detach()) / torch.exp(x.detach()).sum(1, keepdim=True)
    torch.testing.assert_close(loss, -torch.log(probs[torch.arange(4), target]).mean())
    loss.backward()
    one_hot = torch.eye(3, dtype=F64)[target]
    torch.testing.assert_close(x.grad, (probs - one_hot) / 4)


def test_cross_entropy_uint8_targets(rng):
    x = torch.randn(6, 4, generator=rng, dtype=F64)
    target = torch.randint(0, 4, (6,), generator=rng, dtype=torch.uint8)
    torch.testing.assert_close(
        ops.cross_entropy(x, target), F.cross_entropy(x, target.long())
    )


def test_cross_entropy_masked_class_scores_stay_finite():
    # A class masked out with -inf must not turn the loss into nan.
    x = torch.tensor([[2.0, -float("inf"), 0.5], [0.1, 0.2, -float("inf")]], dtype=F64)
    target = torch.tensor([0, 1])
    assert_same_as_torch(
        lambda t: ops.cross_entropy(t, target),
        lambda t: F.cross_entropy(t, target),
        [x],
    )


def test_cross_entropy_all_ignored_mean_is_nan_like_torch(rng):
    x = torch.randn(3, 4, generator=rng, dtype=F64)
    target = torch.full((3,), -100)
    assert torch.isnan(ops.cross_entropy(x, target))
    # ... and, as in torch, the ignored positions still get a zero gradient.
    for loss in ("cross_entropy", "nll_loss"):
        assert_same_as_torch(
            lambda t, name=loss: getattr(ops, name)(t, target),
            lambda t, name=loss: getattr(F, name)(t, target),
            [x],
        )


def test_cross_entropy_huge_scores_are_stable():
    x = torch.tensor([[1000.0, -1000.0, 0.0]], dtype=F64)
    target = torch.tensor([1])
    assert_same_as_torch(
        lambda t: ops.cross_entropy(t, target),
        lambda t: F.cross_entropy(t, target),
        [x],
    )


# --- cross_entropy with class probabilities ----------------------------------------


@pytest.mark.parametrize("input_shape", [shape for shape, _ in SHAPES])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_probabilities(input_shape, weighted, label_smoothing, rng):
    x = torch.randn(input_shape, generator=rng, dtype=F64)
    class_dim = 0 if len(input_shape) == 1 else 1
    probs = torch.rand(input_shape, generator=rng, dtype=F64).softmax(class_dim)
    kwargs = {"label_smoothing": label_smoothing}
    if weighted:
        kwargs["weight"] = torch.rand(5, generator=rng, dtype=F64) + 0.1
    # The gradient with respect to soft targets is checked too.
    assert_same_as_torch_for_each_reduction(
        ops.cross_entropy, F.cross_entropy, [x, probs], **kwargs
    )


def test_cross_entropy_gradcheck(rng):
    x = torch.randn(3, 4, 2, generator=rng, dtype=F64, requires_grad=True)
    target = torch.tensor([[0, 3], [1, -100], [2, 2]])
    weight = torch.rand(4, generator=rng, dtype=F64) + 0.5
    assert gradcheck(
        lambda t: ops.cross_entropy(t, target, weight, label_smoothing=0.1), (x,)
    )
    probs = torch.rand(3, 4, 2, generator=rng, dtype=F64).requires_grad_()
    assert gradcheck(lambda t, q: ops.cross_entropy(t, q, weight), (x, probs))


def test_cross_entropy_second_derivative_raises(rng):
    # Its backward reuses forward results without a graph: refuse, not lie.
    x = torch.randn(3, 4, generator=rng, dtype=F64, requires_grad=True)
    loss = ops.cross_entropy(x, torch.tensor([0, 1, 2]))
    (grad,) = torch.autograd.grad(loss, x, create_graph=True)
    with pytest.raises(RuntimeError):
        grad.sum().backward()


# --- nll_loss -----------------------------------------------------------------------


@pytest.mark.parametrize(("input_shape", "target_shape"), SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, 1])
def test_nll_loss(input_shape, target_shape, weighted, ignore_index, rng):
    class_dim = 0 if len(input_shape) == 1 else 1
    log_probs = torch.randn(input_shape, generator=rng, dtype=F64).log_softmax(
        class_dim
    )
    target = class_targets(target_shape, 5, rng, ignore_index)
    kwargs = {}
    if weighted:
        kwargs["weight"] = torch.rand(5, generator=rng, dtype=F64) + 0.1
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    assert_same_as_torch_for_each_reduction(
        lambda t, **kw: ops.nll_loss(t, target, **kw),
        lambda t, **kw: F.nll_loss(t, target, **kw),
        [log_probs],
        **kwargs,
    )


def test_nll_of_log_softmax_is_cross_entropy(rng):
    x = torch.randn(2, 4, 3, 3, generator=rng, dtype=F64)
    target = torch.randint(0, 4, (2, 3, 3), generator=rng)
    torch.testing.assert_close(
        ops.nll_loss(ops.log_softmax(x, dim=1), target), ops.cross_entropy(x, target)
    )


def test_nll_gradcheck_and_second_derivatives(rng):
    x = torch.randn(4, 3, generator=rng, dtype=F64, requires_grad=True)
    target = torch.tensor([0, 2, -100, 1])
    weight = torch.rand(3, generator=rng, dtype=F64) + 0.5
    assert gradcheck(lambda t: ops.nll_loss(t, target, weight), (x,))
    assert gradgradcheck(lambda t: ops.nll_loss(t, target, weight), (x,))


# --- binary cross-entropy -----------------------------------------------------------


@pytest.mark.parametrize("weight_shape", [None, (4,), (3, 4)])
def test_binary_cross_entropy(weight_shape, rng):
    p = torch.rand(3, 4, generator=rng, dtype=F64) * 0.98 + 0.01
    target = torch.rand(3, 4, generator=rng, dtype=F64)
    kwargs = {}
    if weight_shape is not None:
        kwargs["weight"] = torch.rand(weight_shape, generator=rng, dtype=F64)
    assert_same_as_torch_for_each_reduction(
        ops.binary_cross_entropy, F.binary_cross_entropy, [p, target], **kwargs
    )


def test_binary_cross_entropy_saturated_probabilities():
    # p = 0 or 1 against the wrong label: the log is capped at -100, the loss 100.
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=F64)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=F64)
    got = ops.binary_cross_entropy(p, target, reduction="none")
    torch.testing.assert_close(got, torch.tensor([100.0, 100.0, 0.0, 0.0], dtype=F64))
    torch.testing.assert_close(got, F.binary_cross_entropy(p, target, reduction="none"))
    # Gradients with respect to p stay finite at the edges, as in torch.
    leaf = p.clone().requires_grad_()
    ops.binary_cross_entropy(leaf, target).backward()
    reference = p.clone().requires_grad_()
    F.binary_cross_entropy(reference, target).backward()
    torch.testing.assert_close(leaf.grad, reference.grad)


def test_binary_cross_entropy_gradcheck(rng):
    p = (torch.rand(5, generator=rng, dtype=F64) * 0.8 + 0.1).requires_grad_()
    target = torch.rand(5, generator=rng, dtype=F64).requires_grad_()
    assert gradcheck(ops.binary_cross_entropy, (p, target))
    assert gradgradcheck(ops.binary_cross_entropy, (p, target))


@pytest.mark.parametrize("weight_shape", [None, (4,), (3, 4)])
@pytest.mark.parametrize("pos_weight_shape", [None, (4,), (3, 4)])
def test_binary_cross_entropy_with_logits(weight_shape, pos_weight_shape, rng):
    x = torch.randn(3, 4, generator=rng, dtype=F64) * 4
    x[0, :2] = torch.tensor([200.0, -200.0])  # saturated logits
    target = torch.rand(3, 4, generator=rng, dtype=F64)
    kwargs = {}
    if weight_shape is not None:
        kwargs["weight"] = torch.rand(weight_shape, generator=rng, dtype=F64)
    if pos_weight_shape is not None:
        kwargs["pos_weight"] = (
            torch.rand(pos_weight_shape, generator=rng, dtype=F64) * 3
        )
    assert_same_as_torch_for_each_reduction(
        ops.binary_cross_entropy_with_logits,
        F.binary_cross_entropy_with_logits,
        [x, target],
        **kwargs,
    )


def test_logits_version_equals_sigmoid_then_bce(rng):
    x = torch.randn(10, generator=rng, dtype=F64)
    target = (torch.rand(10, generator=rng) > 0.5).double()
    torch.testing.assert_close(
        ops.binary_cross_entropy_with_logits(x, target),
        ops.binary_cross_entropy(ops.sigmoid(x), target),
    )


def test_binary_cross_entropy_with_logits_gradcheck(rng):
    x = torch.randn(3, 2, generator=rng, dtype=F64, requires_grad=True)
    target = torch.rand(3, 2, generator=rng, dtype=F64, requires_grad=True)
    pos_weight = torch.tensor([0.5, 3.0], dtype=F64)

    def fn(s, t):
        return ops.binary_cross_entropy_with_logits(s, t, pos_weight=pos_weight)

    assert gradcheck(fn, (x, target))
    assert gradgradcheck(fn, (x, target))


# --- mse_loss -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4, 4)])
def test_mse_loss(shape, rng):
    x = torch.randn(shape, generator=rng, dtype=F64)
    y = torch.randn(shape, generator=rng, dtype=F64)
    assert_same_as_torch_for_each_reduction(ops.mse_loss, F.mse_loss, [x, y])


def test_mse_gradcheck_and_second_derivatives(rng):
    x = torch.randn(4, generator=rng, dtype=F64, requires_grad=True)
    y = torch.randn(4, generator=rng, dtype=F64, requires_grad=True)
    assert gradcheck(ops.mse_loss, (x, y))
    assert gradgradcheck(ops.mse_loss, (x, y))


# --- precision and devices ----------------------------------------------------------

LOW_PRECISION_CASES = {
    "cross_entropy": (
        lambda x, t: ops.cross_entropy(x, t.argmax(1)),
        lambda x, t: F.cross_entropy(x, t.argmax(1)),
    ),
    "cross_entropy_probs": (ops.cross_entropy, F.cross_entropy),
    "bce": (
        lambda x, t: ops.binary_cross_entropy(torch.sigmoid(x), t),
        lambda x, t: F.binary_cross_entropy(torch.sigmoid(x), t),
    ),
    "bce_logits": (
        ops.binary_cross_entropy_with_logits,
        F.binary_cross_entropy_with_logits,
    ),
    "mse": (ops.mse_loss, F.mse_loss),
}


@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float32, 1e-5), (torch.bfloat16, 3e-2)]
)
@pytest.mark.parametrize("name", LOW_PRECISION_CASES)
def test_lower_precision_close_to_float64(name, dtype, tol, device, rng):
    ours, ref = LOW_PRECISION_CASES[name]
    x = torch.randn(8, 5, 3, generator=rng).to(device, dtype).requires_grad_()
    t = torch.rand(8, 5, 3, generator=rng).softmax(1).to(device, dtype)
    loss = ours(x, t)
    loss.backward()
    # The float64 reference sees the same rounded inputs.
    x64 = x.detach().cpu().double().requires_grad_()
    expected = ref(x64, t.cpu().double())
    expected.backward()
    assert loss.dtype == dtype and x.grad.dtype == dtype
    torch.testing.assert_close(loss.cpu().double(), expected, rtol=tol, atol=tol)
    scale = x64.grad.abs().max().item()
    torch.testing.assert_close(
        x.grad.cpu().double(), x64.grad, rtol=tol, atol=tol * scale
    )


# --- errors: where torch raises, cnnlib raises and names the argument ---------------


def both_raise(call, match):
    """``call(module)`` raises with torch's F and with cnnlib.ops, ours matching."""
    with pytest.raises((RuntimeError, ValueError, IndexError, TypeError)):
        call(F)
    with pytest.raises((ValueError, IndexError, TypeError), match=match):
        call(ops)


X = torch.randn(4, 3)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_target_out_of_range(loss):
    target = torch.tensor([0, 1, 3, 2])
    both_raise(
        lambda m: getattr(m, loss)(X, target), f"{loss}: target contains class 3"
    )
    both_raise(
        lambda m: getattr(m, loss)(X, torch.tensor([0, -1, 1, 2])), "target contains"
    )


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_target_wrong_shape(loss):
    both_raise(lambda m: getattr(m, loss)(X, torch.tensor([0, 1])), "target must have")
    images = torch.randn(2, 3, 4, 4)
    both_raise(
        lambda m: getattr(m, loss)(images, torch.zeros(2, 4, 5, dtype=torch.long)),
        r"target must have shape \(2, 4, 4\)",
    )


def test_target_wrong_dtype():
    both_raise(
        lambda m: m.cross_entropy(X, torch.tensor([0, 1, 2, 1], dtype=torch.int32)),
        "cross_entropy: target must hold class indices as int64",
    )
    both_raise(
        lambda m: m.cross_entropy(X, torch.rand(4, 2)),
        "cross_entropy: a floating target holds class probabilities",
    )
    both_raise(
        lambda m: m.nll_loss(X, torch.rand(4)), "nll_loss: target must hold class"
    )


def test_probability_targets_with_ignore_index():
    both_raise(
        lambda m: m.cross_entropy(X, torch.rand(4, 3), ignore_index=1), "ignore_index"
    )


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_weight_wrong_size(loss):
    both_raise(
        lambda m: getattr(m, loss)(X, torch.tensor([0, 1, 2, 1]), torch.ones(2)),
        rf"{loss}: weight must have one entry per class, shape \(3,\)",
    )


def test_label_smoothing_out_of_range():
    both_raise(
        lambda m: m.cross_entropy(X, torch.tensor([0, 1, 2, 1]), label_smoothing=1.5),
        "cross_entropy: label_smoothing must be in",
    )


@pytest.mark.parametrize(
    "loss", ["cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy"]
)
def test_unknown_reduction(loss):
    p = X.sigmoid()
    target = torch.tensor([0, 1, 2, 1]) if loss in ("cross_entropy", "nll_loss") else p

    def call(m):
        return getattr(m, loss)(p, target, reduction="avg")

    both_raise(call, f"{loss}: reduction must be 'none', 'mean' or 'sum'")


def test_binary_cross_entropy_input_outside_unit_interval():
    both_raise(
        lambda m: m.binary_cross_entropy(X, torch.rand(4, 3)),
        r"binary_cross_entropy: input must hold probabilities in \[0, 1\]",
    )


@pytest.mark.parametrize(
    "loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits"]
)
def test_binary_shape_mismatch(loss):
    both_raise(
        lambda m: getattr(m, loss)(X.sigmoid(), torch.rand(4, 1)),
        f"{loss}: target must have the same shape as input",
    )


def test_mse_shape_mismatch_is_an_error_not_a_warning():
    # torch broadcasts (4, 1) against (4,) to (4, 4) and only warns; cnnlib refuses.
    x, y = torch.randn(4, 1), torch.randn(4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.mse_loss(x, y)
    assert any("broadcast" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="mse_loss: target must have the same shape"):
        ops.mse_loss(x, y)


def test_weight_that_does_not_broadcast():
    p, t = torch.rand(4, 3), torch.rand(4, 3)
    both_raise(
        lambda m: m.binary_cross_entropy(p, t, torch.rand(2)),
        "binary_cross_entropy: weight of shape",
    )
    both_raise(
        lambda m: m.binary_cross_entropy_with_logits(p, t, pos_weight=torch.rand(2)),
        "binary_cross_entropy_with_logits: pos_weight of shape",
    )
