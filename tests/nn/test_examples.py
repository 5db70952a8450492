"""The examples in the cnnlib.nn docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "cnnlib.nn",
    "cnnlib.nn._impl",
    "cnnlib.nn.activation",
    "cnnlib.nn.conv",
    "cnnlib.nn.conv_transpose",
    "cnnlib.nn.dropout",
    "cnnlib.nn.flatten",
    "cnnlib.nn.linear",
    "cnnlib.nn.norm",
    "cnnlib.nn.pool",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
