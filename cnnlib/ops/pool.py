"""STUB: to be replaced by the from-scratch implementation."""


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    raise NotImplementedError("cnnlib.ops.max_pool2d is not written yet")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    raise NotImplementedError("cnnlib.ops.avg_pool2d is not written yet")


def adaptive_avg_pool2d(input, output_size):
    raise NotImplementedError("cnnlib.ops.adaptive_avg_pool2d is not written yet")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    raise NotImplementedError("cnnlib.ops.adaptive_max_pool2d is not written yet")


def stochastic_pool2d(input, kernel_size, stride=None, training=True, generator=None):
    raise NotImplementedError("cnnlib.ops.stochastic_pool2d is not written yet")

