"""The impl machinery: per-layer choice, use_impl, set_impl, callables, errors."""

import copy
import threading

import pytest
import torch
import torch.nn.functional as F

from cnnlib import nn


def small_cnn() -> torch.nn.Module:
    """conv-bn-relu-pool-linear, in float64 for exact comparisons."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    ).double()


def forward_backward(model, x):
    """Output, input gradient, parameter gradients and buffers after one step."""
    x = x.clone().requires_grad_(True)
    out = model(x)
    out.backward(torch.arange(out.numel(), dtype=out.dtype).reshape(out.shape).cos())
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    return out.detach(), x.grad, grads, buffers


def test_default_impl_is_scratch_and_repr_hides_it():
    layer = nn.Conv2d(1, 2, 3)
    assert layer.impl == "scratch"
    assert layer.active_impl == "scratch"
    assert "impl" not in repr(layer)
    assert "impl='native'" in repr(nn.Conv2d(1, 2, 3, impl="native"))


def test_layer_functions_are_the_ops_and_torch_kernels():
    from cnnlib import ops

    layer = nn.Conv2d(1, 2, 3)
    assert layer.function is ops.conv2d
    layer.impl = "native"
    assert layer.function is F.conv2d


def test_use_impl_small_cnn_matches_scratch(rng):
    x = torch.randn(5, 2, 8, 8, generator=rng, dtype=torch.float64)
    scratch_model, native_model = small_cnn(), small_cnn()
    expected = forward_backward(scratch_model, x)
    with nn.use_impl("native"):
        assert all(
            m.active_impl == "native"
            for m in native_model.modules()
            if isinstance(m, nn.SwitchableLayer)
        )
        got = forward_backward(native_model, x)
    for e, g in zip(expected[:2], got[:2], strict=True):
        torch.testing.assert_close(g, e)
    for e, g in zip(expected[2:], got[2:], strict=True):
        assert e.keys() == g.keys()
        for name in e:
            torch.testing.assert_close(g[name], e[name], msg=name)


def test_small_cnn_agrees_on_every_device(device, rng):
    # MPS has no float64; float32 needs a looser tolerance.
    dtype = torch.float32 if device.type == "mps" else torch.float64
    x = torch.randn(5, 2, 8, 8, generator=rng, dtype=torch.float64)
    x = x.to(device=device, dtype=dtype)
    model = small_cnn().to(device=device, dtype=dtype)
    expected = forward_backward(copy.deepcopy(model), x)
    with nn.use_impl("native"):
        got = forward_backward(model, x)
    tolerance = {"atol": 1e-4, "rtol": 1e-4} if dtype == torch.float32 else {}
    torch.testing.assert_close(got[0], expected[0], **tolerance)
    torch.testing.assert_close(got[1], expected[1], **tolerance)
    assert got[0].device.type == device.type


def test_use_impl_nests_and_restores():
    layer = nn.ReLU(impl="native")
    with nn.use_impl("scratch"):
        assert layer.active_impl == "scratch"
        with nn.use_impl("native"):
            assert layer.active_impl == "native"
            with nn.use_impl("scratch"):
                assert layer.active_impl == "scratch"
            assert layer.active_impl == "native"
        assert layer.active_impl == "scratch"
    assert layer.active_impl == "native"
    assert layer.impl == "native"  # the layer's own setting never changed


def test_use_impl_restores_after_an_exception():
    layer = nn.ReLU()
    with pytest.raises(RuntimeError), nn.use_impl("native"):
        raise RuntimeError("boom")
    assert layer.active_impl == "scratch"


def test_use_impl_works_as_a_decorator():
    layer = nn.Tanh()

    @nn.use_impl("native")
    def which():
        return layer.active_impl

    assert which() == "native"
    assert layer.active_impl == "scratch"


def test_use_impl_is_local_to_each_thread():
    layer = nn.ReLU()
    entered, release = threading.Barrier(3), threading.Barrier(3)
    seen = {}

    def worker(impl):
        with nn.use_impl(impl):
            entered.wait()  # all threads are inside their blocks at once
            seen[impl] = layer.active_impl
            release.wait()

    threads = [threading.Thread(target=worker, args=(i,)) for i in nn.IMPLS]
    for thread in threads:
        thread.start()
    entered.wait()
    seen["main"] = layer.active_impl
    release.wait()
    for thread in threads:
        thread.join()
    assert seen == {"scratch": "scratch", "native": "native", "main": "scratch"}


def _counting(fn):
    """Wrap ``fn`` so that the number of calls can be read."""

    def counted(*args):
        counted.calls += 1
        return fn(*args)

    counted.calls = 0
    return counted


def test_a_student_function_is_called(rng):
    my_conv2d = _counting(F.conv2d)
    torch.manual_seed(0)
    layer = nn.Conv2d(3, 4, 3, stride=2, padding=1, impl=my_conv2d)
    reference = copy.deepcopy(layer)
    reference.impl = "native"
    x = torch.randn(2, 3, 9, 9, generator=rng)
    out = layer(x)
    layer(x)
    assert my_conv2d.calls == 2
    torch.testing.assert_close(out, reference(x))
    assert "impl=counted" in repr(layer)


def test_use_impl_overrides_a_student_function():
    my_relu = _counting(F.relu)
    layer = nn.ReLU(impl=my_relu)
    with nn.use_impl("native"):
        layer(torch.randn(4))
    assert my_relu.calls == 0
    layer(torch.randn(4))
    assert my_relu.calls == 1


def test_set_impl_changes_every_switchable_layer():
    model = small_cnn()
    assert nn.set_impl(model, "native") is model
    impls = [m.impl for m in model.modules() if isinstance(m, nn.SwitchableLayer)]
    assert impls == ["native"] * 5
    nn.set_impl(model, "scratch")
    assert all(
        m.impl == "scratch"
        for m in model.modules()
        if isinstance(m, nn.SwitchableLayer)
    )


def test_set_impl_with_a_callable_needs_a_layer_type(rng):
    model = small_cnn()
    my_conv2d = _counting(F.conv2d)
    with pytest.raises(TypeError, match="set_impl: .*only="):
        nn.set_impl(model, my_conv2d)
    nn.set_impl(model, "native")
    nn.set_impl(model, my_conv2d, only=nn.Conv2d)
    assert model[0].impl is my_conv2d
    assert model[1].impl == "native"
    model(torch.randn(2, 2, 8, 8, generator=rng, dtype=torch.float64))
    assert my_conv2d.calls == 1


def test_unknown_impl_names_the_choices():
    with pytest.raises(ValueError, match=r"Conv2d: impl must be one of 'scratch', "):
        nn.Conv2d(1, 1, 1, impl="fast")
    layer = nn.ReLU()
    with pytest.raises(ValueError, match=r"ReLU: impl must be one of .*'native'"):
        layer.impl = "cuda"
    assert layer.impl == "scratch"
    with pytest.raises(ValueError, match=r"use_impl: impl must be one of"):
        with nn.use_impl("cudnn"):
            pass
    with pytest.raises(TypeError, match=r"use_impl: .*callable"):
        with nn.use_impl(F.relu):
            pass
    with pytest.raises(ValueError, match=r"set_impl: impl must be one of"):
        nn.set_impl(small_cnn(), "gpu")


def test_impl_survives_deepcopy_and_is_not_in_the_state_dict():
    layer = nn.Linear(3, 2, impl="native")
    assert copy.deepcopy(layer).impl == "native"
    assert set(layer.state_dict()) == {"weight", "bias"}


def test_reexports_behave_like_torch_nn():
    assert nn.Sequential is torch.nn.Sequential
    assert nn.Module is torch.nn.Module
    assert nn.ModuleList is torch.nn.ModuleList
    assert nn.Identity is torch.nn.Identity
