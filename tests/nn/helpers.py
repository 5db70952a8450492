"""Shared checks for the layer tests: scratch vs native, and cnnlib vs torch.nn."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch


def run_layer(
    layer: torch.nn.Module, x: torch.Tensor, impl: object, seed: int = 1
) -> dict[str, object]:
    """Forward and backward a copy of ``layer`` with ``impl``; return what came out.

    The upstream gradient is random (seeded), so every output element matters.
    """
    layer = copy.deepcopy(layer)
    layer.impl = impl
    x = x.detach().clone().requires_grad_(x.is_floating_point())
    out = layer(x)
    indices = None
    if isinstance(out, tuple):  # pools with return_indices=True
        out, indices = out
    grad_out = torch.randn(
        out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype
    )
    out.backward(grad_out)
    return {
        "output": out.detach(),
        "indices": indices,
        "input.grad": x.grad,
        **{f"{n}.grad": p.grad for n, p in layer.named_parameters()},
        **{n: b.detach().clone() for n, b in layer.named_buffers()},
    }


def assert_impls_agree(
    layer: torch.nn.Module, x: torch.Tensor, atol: float = 1e-10, rtol: float = 1e-8
) -> None:
    """Outputs, gradients and updated buffers are equal under scratch and native."""
    native = run_layer(layer, x, "native")
    scratch = run_layer(layer, x, "scratch")
    assert native.keys() == scratch.keys()
    for key, expected in native.items():
        got = scratch[key]
        if expected is None:
            assert got is None, key
        else:
            torch.testing.assert_close(got, expected, atol=atol, rtol=rtol, msg=key)


def assert_twin_of_torch(
    make_ours: Callable[[], torch.nn.Module], make_torch: Callable[[], torch.nn.Module]
) -> None:
    """Same parameters/buffers (names, shapes, values under one seed) and repr."""
    torch.manual_seed(0)
    ours = make_ours()
    torch.manual_seed(0)
    theirs = make_torch()
    assert repr(ours) == repr(theirs)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for name, value in theirs_state.items():
        assert ours_state[name].shape == value.shape, name
        assert ours_state[name].dtype == value.dtype, name
        assert torch.equal(ours_state[name], value), name
    trainable = [(n, p.requires_grad) for n, p in theirs.named_parameters()]
    assert [(n, p.requires_grad) for n, p in ours.named_parameters()] == trainable


def assert_state_dict_round_trip(
    make_ours: Callable[[], torch.nn.Module], make_torch: Callable[[], torch.nn.Module]
) -> None:
    """A torch.nn state_dict loads into ours and back, and across impls."""
    torch.manual_seed(1)
    theirs = make_torch()
    # Make every entry distinctive, buffers included, so a silent skip shows.
    with torch.no_grad():
        for value in theirs.state_dict().values():
            if value.is_floating_point():
                value.uniform_(0.5, 1.5)
            else:
                value.fill_(7)
    torch.manual_seed(2)
    ours = make_ours()
    ours.load_state_dict(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    native = make_ours()
    native.impl = "native"
    native.load_state_dict(ours.state_dict())
    back = make_torch()
    back.load_state_dict(native.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[name], value), name
