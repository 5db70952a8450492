"""Fixtures of the training tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one intra-op thread, then restore the previous setting.

    The tests train models of a few hundred parameters: a second thread gains
    nothing, and on a busy 2-core machine the threads' synchronisation made such
    tests up to 30 times slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
