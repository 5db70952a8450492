"""Assignment 7: the reported numbers of an experiment are those of the trained
networks.

A student trains networks (the plain and the residual one) and reports their
validation accuracies, which a written answer then discusses. The grader measures
each network's accuracy itself, in evaluation mode, on the same images, and
compares: a number that was not measured on that network (or was measured in
training mode, or in percent) fails. The networks run under the guard of the
module checks (cnnlib.models forbidden).
"""

from __future__ import annotations

import math

import torch

from cnnlib import nn
from cnnlib.grading import module_checks as mod
from cnnlib.grading.compare import GradingError, check_tensor_type, fmt_shape
from cnnlib.grading.mlp import _as_float
from cnnlib.grading.runner import CheckResult


def _dataset(data: object) -> tuple[torch.Tensor, torch.Tensor]:
    tensors = getattr(data, "tensors", data)
    if not isinstance(tensors, (tuple, list)) or len(tensors) != 2:
        raise GradingError(
            "pass the evaluation data as a TensorDataset (e.g. splits.val) or a "
            "tuple (images, labels)"
        )
    return tensors[0], tensors[1]


def model_accuracy(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    training: bool = False,
    what: str = "your network",
) -> float:
    """Accuracy of ``model`` on (images, labels), computed by the grader
    (native kernels, batches of 500, no gradients); the model's mode is restored."""
    was_training = model.training
    model.train(training)
    correct = 0
    try:
        with torch.no_grad(), nn.use_impl("native"):
            for start in range(0, len(images), 500):
                batch = images[start : start + 500]
                scores = mod.run_module(model, (batch,), what=what)
                wrong_type = check_tensor_type(scores, "the scores")
                if wrong_type is not None:
                    raise GradingError(f"{what}: {wrong_type.message}")
                if tuple(scores.shape[:1]) != (len(batch),) or scores.dim() != 2:
                    raise GradingError(
                        f"{what} returned scores of shape "
                        f"{fmt_shape(tuple(scores.shape))}; expected (N, "
                        "num_classes)"
                    )
                pred = scores.argmax(dim=1)
                correct += int((pred == labels[start : start + 500]).sum())
    finally:
        model.train(was_training)
    return correct / len(labels)


def check_reported_accuracy(
    reported: object,
    model: object,
    data: object,
    *,
    min_accuracy: float,
    what: str = "validation accuracy",
    tolerance: float = 0.005,
) -> CheckResult:
    """Pass when ``reported`` is the accuracy the grader measures for ``model``
    on ``data`` (within ``tolerance``), and at least ``min_accuracy``.

    For experiment cells: the numbers a student reports (and discusses in a
    written answer) must be those of the networks they trained. The grader
    computes the accuracy itself, in evaluation mode, under the same guard as
    the other module checks (cnnlib.models forbidden).

    Args:
        reported: the student's number (a float in [0, 1]).
        model: the trained ``nn.Module``, mapping images to class scores (N, C).
        data: a ``TensorDataset`` (e.g. ``splits.val``) or (images, labels).
        min_accuracy: the least accepted accuracy (chance is 1 / classes).
        what: how messages name the number.
    """
    value = _as_float(reported)
    if value is None:
        raise GradingError(
            f"the reported {what} should be a number (float), got "
            f"{type(reported).__qualname__}"
        )
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        hint = " (divide a percentage by 100)" if 1.0 < value <= 100.0 else ""
        raise GradingError(
            f"the reported {what} is {value:g}; it must be a fraction in [0, 1]{hint}"
        )
    if not isinstance(model, torch.nn.Module):
        raise GradingError(
            f"expected the trained network (a torch.nn.Module), got "
            f"{type(model).__qualname__}"
        )
    mod.no_reference_modules(model, "your network")
    images, labels = _dataset(data)
    measured = model_accuracy(model, images, labels)
    if abs(measured - value) > tolerance + 1e-9:  # rounding to 2 decimals is fine
        message = (
            f"the reported {what} is {value:.4f}, but your network's accuracy on "
            f"these {len(labels)} images is {measured:.4f} (measured by the "
            "grader in evaluation mode)"
        )
        in_training = model_accuracy(model, images, labels, training=True)
        if abs(in_training - value) <= tolerance:
            message += (
                "\nHint: you measured it in training mode, where batch norm "
                "uses the statistics of each batch: call model.eval() before "
                "evaluating (and model.train() before training)"
            )
        else:
            message += (
                "\nHint: report the accuracy of the network as it is now, on "
                "the same images, after training"
            )
        raise GradingError(message)
    if measured < min_accuracy:
        raise GradingError(
            f"your network's {what} is {measured:.4f}, below the required "
            f"{min_accuracy:.2f}: it has not learned (check the learning rate, "
            "the number of epochs, and that you train this network)"
        )
    return CheckResult("reported_accuracy", (f"{what} {measured:.4f}",), 1)
