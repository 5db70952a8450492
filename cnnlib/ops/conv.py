"""STUB: to be replaced by the from-scratch implementation."""


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    raise NotImplementedError("cnnlib.ops.conv1d is not written yet")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    raise NotImplementedError("cnnlib.ops.conv2d is not written yet")

