"""STUB: to be replaced by the from-scratch implementation."""


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    raise NotImplementedError("cnnlib.ops.batch_norm is not written yet")


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    raise NotImplementedError("cnnlib.ops.local_response_norm is not written yet")

