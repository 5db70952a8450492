"""STUB: to be replaced by the from-scratch implementation."""


def relu(input, inplace=False):
    raise NotImplementedError("cnnlib.ops.relu is not written yet")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    raise NotImplementedError("cnnlib.ops.leaky_relu is not written yet")


def sigmoid(input):
    raise NotImplementedError("cnnlib.ops.sigmoid is not written yet")


def tanh(input):
    raise NotImplementedError("cnnlib.ops.tanh is not written yet")


def softmax(input, dim=None, dtype=None):
    raise NotImplementedError("cnnlib.ops.softmax is not written yet")


def log_softmax(input, dim=None, dtype=None):
    raise NotImplementedError("cnnlib.ops.log_softmax is not written yet")

