"""STUB: to be replaced by the from-scratch implementation."""


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0):
    raise NotImplementedError("cnnlib.ops.cross_entropy is not written yet")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean'):
    raise NotImplementedError("cnnlib.ops.nll_loss is not written yet")


def binary_cross_entropy(input, target, weight=None, reduction='mean'):
    raise NotImplementedError("cnnlib.ops.binary_cross_entropy is not written yet")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction='mean', pos_weight=None):
    raise NotImplementedError("cnnlib.ops.binary_cross_entropy_with_logits is not written yet")


def mse_loss(input, target, reduction='mean'):
    raise NotImplementedError("cnnlib.ops.mse_loss is not written yet")

