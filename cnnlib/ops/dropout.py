"""STUB: to be replaced by the from-scratch implementation."""


def dropout(input, p=0.5, training=True, inplace=False):
    raise NotImplementedError("cnnlib.ops.dropout is not written yet")

