"""Shared fixtures: the devices to run on, float64 by default for exact comparisons."""

import pytest
import torch


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


@pytest.fixture(params=available_devices())
def device(request) -> torch.device:
    """Every device present: cpu always, cuda/mps when the machine has them."""
    return torch.device(request.param)


@pytest.fixture
def rng() -> torch.Generator:
    """A seeded generator, so each test draws the same numbers every run."""
    return torch.Generator().manual_seed(0)


def pytest_collection_modifyitems(config, items):
    """Run the fast unit tests first, the slow ones (book build, grading) last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)


def pytest_configure(config):
    """One torch thread per pytest-xdist worker: two workers share the two cores."""
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
