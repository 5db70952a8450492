"""best_device, seed_everything, make_generator, device_info."""

import random

import numpy as np
import pytest
import torch

from cnnlib import device as device_module
from cnnlib.device import best_device, device_info, make_generator, seed_everything


def fake_machine(monkeypatch, *, cuda: bool, mps: bool, count: int = 1) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count if cuda else 0)
    monkeypatch.setattr(device_module, "_mps_available", lambda: mps)


@pytest.mark.skipif(
    torch.cuda.is_available() or device_module._mps_available(),
    reason="this machine has an accelerator",
)
def test_best_device_is_the_cpu_here():
    assert best_device() == torch.device("cpu")


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [
        (True, True, "cuda"),
        (True, False, "cuda"),
        (False, True, "mps"),
        (False, False, "cpu"),
    ],
)
def test_preference_order(monkeypatch, cuda, mps, expected):
    fake_machine(monkeypatch, cuda=cuda, mps=mps)
    assert best_device() == torch.device(expected)


def test_a_requested_device_is_returned_when_present(monkeypatch):
    fake_machine(monkeypatch, cuda=True, mps=True, count=2)
    assert best_device("cpu") == torch.device("cpu")
    assert best_device("mps") == torch.device("mps")
    assert best_device(torch.device("cuda", 1)) == torch.device("cuda", 1)


def test_an_unavailable_device_is_a_clear_error(monkeypatch):
    fake_machine(monkeypatch, cuda=False, mps=False)
    with pytest.raises(RuntimeError, match=r"best_device: 'cuda' was requested"):
        best_device("cuda")
    with pytest.raises(RuntimeError, match=r"best_device: 'mps' was requested"):
        best_device("mps")
    fake_machine(monkeypatch, cuda=True, mps=False, count=1)
    with pytest.raises(RuntimeError, match=r"'cuda:3' was requested .* 1 CUDA"):
        best_device("cuda:3")


@pytest.mark.parametrize("prefer", ["gpu", "xla", 3])
def test_an_unknown_device_is_a_clear_error(prefer):
    with pytest.raises(ValueError, match="best_device: prefer must be one of"):
        best_device(prefer)


def test_seed_everything_makes_every_generator_repeatable():
    def draw():
        return (
            random.random(),
            np.random.rand(3).tolist(),
            torch.rand(3),
            torch.randn(2, 2),
        )

    assert seed_everything(123) == 123
    first = draw()
    seed_everything(123)
    second = draw()
    assert first[:2] == second[:2]
    assert torch.equal(first[2], second[2]) and torch.equal(first[3], second[3])
    seed_everything(124)
    assert not torch.equal(torch.rand(3), first[2])


def test_seed_everything_rejects_bad_seeds():
    for seed in (-1, 1.5, "0", True):
        with pytest.raises(ValueError, match="seed_everything: seed must be"):
            seed_everything(seed)


def test_make_generator_is_independent_of_the_global_state():
    g = make_generator(7)
    a = torch.rand(4, generator=g)
    torch.manual_seed(0)  # must not matter
    assert torch.equal(a, torch.rand(4, generator=make_generator(7)))
    assert g.device == torch.device("cpu")
    assert not torch.equal(a, torch.rand(4, generator=make_generator(8)))


def test_device_info():
    info = device_info()
    assert info["torch"] == torch.__version__
    assert info["best_device"] == best_device().type
    assert info["cpu_threads"] == torch.get_num_threads()
    assert info["cuda_available"] == torch.cuda.is_available()
    assert isinstance(info["cuda_devices"], list)


def test_deterministic_mode_is_switched_on_and_restorable():
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    try:
        seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic
        assert not torch.backends.cudnn.benchmark
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.deterministic = saved[2]
        torch.backends.cudnn.benchmark = saved[3]


def test_docstring_examples():
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module("cnnlib.device"))
    assert result.attempted > 0
    assert result.failed == 0
