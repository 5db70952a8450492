"""Autograding checks for the course assignments: feedback that teaches, and a
guard that cannot be fooled by calling the library being reimplemented.

An assignment test cell is one call::

    check_conv2d(conv2d, part="stride")

A check returns a small ``CheckResult`` (shown under the cell) when the student's
function passes, and raises ``GradingError``, a subclass of ``AssertionError``
(so nbgrader marks the cell failed), with a message that says what is wrong and
where: type, dtype, shape (with the size formula), NaN/inf, values (first wrong
element, errors, tolerance), and, when it recognises one, the canonical mistake
("you flipped the kernel", "sum instead of mean over the batch", ...).
``part=None`` grades every part; each named part grades one property, for
partial credit.

Cases: the lectures' worked examples first (public), then seeded random cases
(hidden: messages show their shapes and options, never their values). Expected
values come from ``cnnlib.ops`` in float64, computed after the student's
function has returned. Student functions receive float64 tensors and must
return the same dtype; tolerance |got - expected| <= 1e-6 + 1e-5 |expected|.

While the student's function runs, a guard forbids cnnlib and torch's own
kernels of the family being graded, whatever name they are called by (see
``cnnlib.grading.guard``).

Import the checks in the notebook's first cell, before any student code: the
grader captures the torch functions and the reference ops it relies on when it
is imported.
"""

from cnnlib.grading.activations import (
    check_relu,
    check_relu_grad,
    check_sigmoid,
    check_sigmoid_grad,
    check_tanh,
    check_tanh_grad,
)
from cnnlib.grading.batchnorm import check_batch_norm
from cnnlib.grading.blocks_inception import check_inception
from cnnlib.grading.blocks_vgg_nin import check_mlpconv, check_vgg_block
from cnnlib.grading.compare import GradingError, compare
from cnnlib.grading.conv2d import check_conv2d
from cnnlib.grading.conv_backward import check_conv2d_backward
from cnnlib.grading.conv_sizes import check_conv_output_size, check_conv_param_count
from cnnlib.grading.conv_transpose import (
    check_conv_transpose2d,
    check_conv_transpose_output_size,
)
from cnnlib.grading.costs import check_conv_mult_adds, check_inception_mult_adds
from cnnlib.grading.crop_concat import check_crop_and_concat
from cnnlib.grading.experiment import check_reported_accuracy
from cnnlib.grading.families import FAMILIES
from cnnlib.grading.guard import run_student
from cnnlib.grading.iou import check_iou_per_class, check_mean_iou
from cnnlib.grading.layer_ops import check_avg_pool2d_layer, check_conv2d_layer
from cnnlib.grading.lenet import check_my_lenet5
from cnnlib.grading.lenet_training import check_trains_lenet
from cnnlib.grading.mlp import (
    check_training_accuracy,
    check_two_layer_backward,
    check_two_layer_forward,
)
from cnnlib.grading.pool import check_avg_pool2d, check_max_pool2d
from cnnlib.grading.pool_backward import (
    check_avg_pool2d_backward,
    check_max_pool2d_backward,
)
from cnnlib.grading.receptive_field import check_receptive_field
from cnnlib.grading.residual import check_residual_block
from cnnlib.grading.runner import CheckResult
from cnnlib.grading.softmax import check_cross_entropy, check_softmax
from cnnlib.grading.unet import check_segmentation_iou, check_unet

__all__ = [
    "FAMILIES",
    "CheckResult",
    "GradingError",
    "check_avg_pool2d",
    "check_avg_pool2d_backward",
    "check_avg_pool2d_layer",
    "check_batch_norm",
    "check_conv2d",
    "check_conv2d_backward",
    "check_conv2d_layer",
    "check_conv_mult_adds",
    "check_conv_output_size",
    "check_conv_param_count",
    "check_conv_transpose2d",
    "check_conv_transpose_output_size",
    "check_crop_and_concat",
    "check_cross_entropy",
    "check_inception",
    "check_inception_mult_adds",
    "check_iou_per_class",
    "check_max_pool2d",
    "check_max_pool2d_backward",
    "check_mean_iou",
    "check_mlpconv",
    "check_my_lenet5",
    "check_receptive_field",
    "check_relu",
    "check_relu_grad",
    "check_reported_accuracy",
    "check_residual_block",
    "check_segmentation_iou",
    "check_sigmoid",
    "check_sigmoid_grad",
    "check_softmax",
    "check_tanh",
    "check_tanh_grad",
    "check_training_accuracy",
    "check_trains_lenet",
    "check_two_layer_backward",
    "check_two_layer_forward",
    "check_unet",
    "check_vgg_block",
    "compare",
    "run_student",
]
