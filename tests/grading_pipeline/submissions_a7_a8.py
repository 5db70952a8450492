"""Submissions of assignments 7 (batch norm, residual blocks) and 8 (U-Net) for the
pipeline test: canonical mistakes (small edits of the reference solution, each in a
different function or cell, so each costs its own test cells) and calls to the
reference. ``submissions.py`` adds the solution and the handed-out release of every
assignment itself; ``catalogue()`` returns the others.
"""

from __future__ import annotations

from tests.grading_pipeline.course import edited
from tests.grading_pipeline.submissions import Submission, _cells, _filled

A7, A8 = "07_batchnorm_residual", "08_unet_segmentation"

# ---------------------------------------------------------------- assignment 7
A7_MISTAKES = {
    # the batch's statistics in evaluation mode too
    "batch_norm": edited(
        A7, "batch_norm", ("    if training:\n", "    if True:  # batch statistics\n")
    ),
    # ReLU on F(x) before the addition, none after it
    "residual_block": edited(
        A7,
        "residual_block",
        (
            "out = self.bn2(self.conv2(out))",
            "out = self.relu(self.bn2(self.conv2(out)))",
        ),
        ("return self.relu(out)", "return out"),
    ),
    # accuracies reported in percent
    "train_network": edited(
        A7,
        "train_network",
        (
            'history.val_metrics["accuracy"][-1]',
            '100 * history.val_metrics["accuracy"][-1]',
        ),
    ),
}
A7_CALLS_REFERENCE = {
    "batch_norm": """
import torch.nn.functional as F


def batch_norm(
    x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5
):
    mean, var = running_mean.clone(), running_var.clone()
    out = F.batch_norm(x, mean, var, gamma, beta, training, momentum, eps)
    return out, mean, var
""",
    "residual_block": """
from cnnlib.models.resnet_blocks import BasicBlock


class ResidualBlock(BasicBlock):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        kind = "projection" if shortcut else "none"
        super().__init__(in_channels, out_channels, stride, kind)
""",
}

# ---------------------------------------------------------------- assignment 8
A8_MISTAKES = {
    # padding added to the size instead of removed
    "conv_transpose_output_size": edited(
        A8, "conv_transpose_output_size", ("- 2 * padding", "+ 2 * padding")
    ),
    # 2P cropped from the bottom and right
    "conv_transpose2d": edited(
        A8,
        "conv_transpose2d",
        (
            "out = full[:, :, P : full.shape[2] - P, P : full.shape[3] - P]",
            "out = full[:, :, : full.shape[2] - 2 * P, : full.shape[3] - 2 * P]",
        ),
    ),
    # the offset of an odd difference rounded up
    "crop_and_concat": edited(
        A8,
        "crop_and_concat",
        (
            "top = (encoder.shape[-2] - H_dec) // 2",
            "top = (encoder.shape[-2] - H_dec + 1) // 2",
        ),
        (
            "left = (encoder.shape[-1] - W_dec) // 2",
            "left = (encoder.shape[-1] - W_dec + 1) // 2",
        ),
    ),
    # a class absent from both gets IoU 0 instead of NaN (and so counts in the mean)
    "iou": edited(
        A8,
        "iou",
        (
            'ious = torch.full((num_classes,), float("nan"), dtype=torch.float64)',
            "ious = torch.zeros(num_classes, dtype=torch.float64)",
        ),
    ),
    # skip connections joined with torch.cat: no crop when the sizes differ
    "small_unet": edited(
        A8,
        "small_unet",
        (
            "crop_and_concat(skip2, self.upconv2(x))",
            "torch.cat([skip2, self.upconv2(x)], dim=1)",
        ),
        (
            "crop_and_concat(skip1, self.upconv1(x))",
            "torch.cat([skip1, self.upconv1(x)], dim=1)",
        ),
    ),
}


def catalogue() -> list[Submission]:
    return [
        Submission(
            "mistakes",
            A7,
            "batch statistics in evaluation mode; ReLU before the residual "
            "addition; accuracies reported in percent",
            _filled(A7, **A7_MISTAKES),
            # training mode is right: normalise, affine and running pass; the
            # plain block (no addition) is right too
            fails=_cells("bn", "eval", "channels_4d", "random")
            | _cells("res", "projection", "identity", "random")
            | _cells("exp", "plain", "residual"),
            feedback=[
                "Hint: in evaluation mode you used the statistics of the batch",
                "Hint: the ReLU comes after the addition, not before it",
                "(divide a percentage by 100)",
            ],
        ),
        Submission(
            "calls_reference",
            A7,
            "batch_norm calling F.batch_norm; ResidualBlock subclassing cnnlib's "
            "BasicBlock (so the experiment's networks hold reference blocks)",
            _filled(A7, **A7_CALLS_REFERENCE),
            fails=_cells(
                "bn", "normalise", "affine", "running", "eval", "channels_4d", "random"
            )
            | _cells(
                "res", "shape", "params", "projection", "identity", "plain", "random"
            )
            | _cells("exp", "plain", "residual"),
            feedback=[
                "your batch_norm called torch.nn.functional.batch_norm",
                "called cnnlib.models.resnet_blocks.BasicBlock.__init__",
                "contains a cnnlib.models.resnet_blocks.BasicBlock",
            ],
        ),
        Submission(
            "mistakes",
            A8,
            "output size with padding added; conv_transpose2d crops 2P from one "
            "side; crop offsets rounded up; IoU 0 for absent classes; U-Net joining "
            "skips with torch.cat",
            _filled(A8, **A8_MISTAKES),
            # the lecture examples have no padding; even differences crop the same;
            # the U-Net still trains (24x24 maps need no crop)
            fails=_cells("size", "options", "random")
            | _cells("ct", "padding", "output_padding", "random")
            | _cells("crop", "odd", "random")
            | _cells("iou", "absent", "random")
            | _cells("mean_iou", "absent", "random")
            | {"unet_crop"},
            feedback=[
                "you added them",
                "not 2P from one side",
                "Hint: for an odd difference, round the offset down",
                "return NaN for it",
                "you counted the classes absent from both prediction and target as 0",
                "join them with crop_and_concat",
            ],
        ),
    ]
