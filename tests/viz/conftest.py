"""Fixtures of the visualisation tests."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # no window, whatever the machine


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one intra-op thread, then restore the previous setting.

    The tests run models of a few hundred parameters: a second thread gains
    nothing, and on a busy 2-core machine the threads' synchronisation made such
    tests up to 30 times slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
