"""Assignment 8: the student's small U-Net, and its trained mean IoU.

``SmallUNet(in_channels, num_classes, base_channels)`` (two poolings, "same"
convolutions with batch norm) is checked for its output shape, its parameter
count (that of ``cnnlib.models.unet(..., depth=2, padding=1, batch_norm=True)``)
and its use of crop_and_concat (an input whose size is not a multiple of 4);
``check_segmentation_iou`` measures the trained network's mean IoU itself, on the
validation split or on new scenes the grader draws. Both forbid cnnlib.models.
"""

from __future__ import annotations

import importlib

import torch

from cnnlib import nn
from cnnlib.data.segmentation import make_segmentation
from cnnlib.grading import module_checks as mod
from cnnlib.grading.cases import generator, randn
from cnnlib.grading.compare import GradingError, check_tensor_type, fmt_shape
from cnnlib.grading.iou import reference_iou
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts
from cnnlib.models.unet import UNet, unet

_SEED_FRESH = 8_713  # the grader's own scenes: never seen in training
# (cnnlib.models.unet, the module: the package's attribute of that name is the builder)
_unet_module = importlib.import_module("cnnlib.models.unet")
_UNET_CODE = mod.capture(unet, UNet.__init__, UNet.forward, _unet_module.double_conv)


def _unet_functions() -> tuple:
    return (unet, UNet.__init__, UNet.forward, _unet_module.double_conv)


UNET_NAMING = (
    "two poolings; each level two 3x3 convolutions (padding 1, bias=False) each "
    "followed by batch norm and ReLU; 2x2 up-convolutions (ConvTranspose2d, "
    "stride 2, with bias) that halve the channels; a 1x1 convolution (with bias) "
    "at the end"
)


def _unet_case(label, in_channels, num_classes, base, x_shape, hidden=False):
    gen = generator(931)
    x = randn(gen, *x_shape)
    extra = {"in_channels": in_channels, "num_classes": num_classes, "base": base}
    name = f"SmallUNet(in_channels={in_channels}, num_classes={num_classes}, "
    name += f"base_channels={base}), {label}"
    return Case(name, {"x": x}, hidden=hidden, extra=extra)


def _build_unet(grader: Grader, case: Case, cls) -> torch.nn.Module:
    e = case.extra
    return mod.build(
        grader,
        case,
        cls,
        in_channels=e["in_channels"],
        num_classes=e["num_classes"],
        base_channels=e["base"],
    )


def _reference_unet(case: Case) -> torch.nn.Module:
    e = case.extra
    mod.ensure_unchanged("UNet", _unet_functions(), _UNET_CODE)
    return unet(
        e["num_classes"], e["in_channels"], e["base"], 2, padding=1, batch_norm=True
    )


def _unet_error_hint(message: str) -> str | None:
    if "Sizes of tensors must match" in message:
        return (
            "the upsampled maps are smaller than the encoder's here (the input's "
            "size is not a multiple of 4): join them with crop_and_concat, which "
            "crops the encoder's maps first"
        )
    return None


def _grade_unet_shape(cls, grader: Grader, case: Case) -> None:
    model = _build_unet(grader, case, cls).double()
    x = case.tensors["x"]
    with torch.no_grad():
        got = mod.forward(grader, case, model, x, "your SmallUNet", _unet_error_hint)
        want = _reference_unet(case).double()(x)
    wrong_type = check_tensor_type(got, "the output")
    if wrong_type is not None:
        grader.fail(case, wrong_type.message)
    if tuple(got.shape) != tuple(want.shape):
        n, _, h, w = x.shape
        hint = None
        if tuple(got.shape[2:]) == (h, w) and tuple(want.shape[2:]) != (h, w):
            hint = (
                "this input's size is not a multiple of 4: the upsampled maps are "
                "smaller than the encoder's, which crop_and_concat crops"
            )
        elif got.shape[1] != want.shape[1]:
            hint = "the last layer (a 1x1 convolution) outputs num_classes maps"
        grader.fail(
            case,
            f"the output has shape {fmt_shape(tuple(got.shape))} but expected "
            f"{fmt_shape(tuple(want.shape))}: one score map per class",
            hint,
        )


def _grade_unet_params(cls, grader: Grader, case: Case) -> None:
    model = _build_unet(grader, case, cls)
    got = mod.count_parameters(model)
    ref = _reference_unet(case)
    want = mod.count_parameters(ref)
    if got == want:
        return
    e = case.extra
    b, c_in = e["base"], e["in_channels"]
    convs = [(c_in, b), (b, b), (b, 2 * b), (2 * b, 2 * b), (2 * b, 4 * b)]
    convs += [(4 * b, 4 * b), (4 * b, 2 * b), (2 * b, 2 * b), (2 * b, b), (b, b)]
    n_convs = len(convs)
    wrong = [
        (
            "a convolution followed by batch norm takes bias=False",
            want + sum(o for _, o in convs),
        ),
        (
            "each 3x3 convolution is followed by batch norm (2 parameters per channel)",
            want - sum(2 * o for _, o in convs),
        ),
        ("the up-convolutions have a bias", want - 2 * b - b),
        (
            "after the concatenation the decoder's first convolution takes "
            "twice the channels (skip + upsampled)",
            want - 9 * (2 * b) * (2 * b) - 9 * b * b,
        ),
    ]
    hint = next((h for h, v in wrong if v == got), None)
    grader.fail(
        case,
        f"your SmallUNet has {got} parameters but expected {want} ({n_convs} 3x3 "
        f"convolutions, 2 up-convolutions, the 1x1 head): {UNET_NAMING}",
        hint,
    )


def check_unet(cls: object, part: str | None = None) -> CheckResult:
    """Grade ``cls(in_channels, num_classes, base_channels)``, a small U-Net.

    Two levels down (base and 2*base channels), a bottom of 4*base channels, two
    up-convolutions, "same" 3x3 convolutions with batch norm, a 1x1 head: the
    architecture of ``cnnlib.models.unet(num_classes, in_channels,
    base_channels, depth=2, padding=1, batch_norm=True)``.

    Parts: "shape" (one score map per class, the input's size), "params" (the
    reference's parameter count), "crop" (an input whose size is not a multiple
    of 4 gives the reference's smaller output: the skip connections go through
    crop_and_concat), or None. Forbids cnnlib.models.
    """
    cases = {
        "shape": [
            (_unet_case("24x24 RGB images", 3, 4, 8, (2, 3, 24, 24)), "shape"),
            (_unet_case("non-square grey images", 1, 2, 4, (1, 1, 16, 20)),
             "shape"),
        ],
        "params": [
            (_unet_case("the assignment's U-Net", 3, 4, 8, (1, 3, 8, 8)), "params"),
            (_unet_case("another width", 1, 2, 6, (1, 1, 8, 8)), "params"),
        ],
        "crop": [
            (_unet_case("26x26 image: crop needed", 3, 4, 8, (1, 3, 26, 26)),
             "shape"),
            (_unet_case("18x22 image", 1, 3, 4, (2, 1, 18, 22)), "shape"),
        ],
    }  # fmt: skip
    graders = {"shape": _grade_unet_shape, "params": _grade_unet_params}

    def part_of(group):
        def run(cls, grader: Grader) -> int:
            for case, kind in group:
                graders[kind](cls, grader, case)
            return len(group)

        return run

    parts = {name: part_of(group) for name, group in cases.items()}
    return run_parts("unet", parts, part, cls, forbid=(), what="your SmallUNet")


# -- the trained U-Net: mean IoU measured by the grader ---------------------------


def _held_out(splits: object, split: str) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(images, masks, description) of the split, or of new scenes."""
    if split in ("val", "test"):
        images, masks = getattr(splits, split).tensors
        return images, masks, f"the {len(masks)} {split} images"
    if split != "fresh":
        raise ValueError(f"split must be 'val', 'test' or 'fresh', got {split!r}")
    _, h, w = splits.input_shape
    images, masks, _ = make_segmentation(300, size=h, seed=_SEED_FRESH)
    if splits.normalized:
        mean = torch.as_tensor(splits.mean).view(1, -1, 1, 1)
        std = torch.as_tensor(splits.std).view(1, -1, 1, 1)
        images = (images - mean) / std
    return images, masks, f"{len(masks)} new scenes drawn by the grader"


def check_segmentation_iou(
    model: object, splits: object, threshold: float, *, split: str = "val"
) -> CheckResult:
    """Pass when the trained ``model`` reaches a mean IoU of at least ``threshold``
    on held-out images, measured by the grader (not the student's number).

    Args:
        model: the trained network, images (N, C, H, W) -> scores (N, K, H, W).
        splits: the ``DatasetSplits`` it was trained on (segmentation_splits):
            its size, normalisation and classes.
        threshold: the least mean IoU accepted.
        split: "val" or "test" (that split of ``splits``), or "fresh" (300 new
            scenes drawn with the grader's own seed, normalised like the data).
    """
    if not isinstance(model, torch.nn.Module):
        raise GradingError(
            f"expected the trained network (a torch.nn.Module), got "
            f"{type(model).__qualname__}"
        )
    mod.no_reference_modules(model, "your network")
    images, masks, where = _held_out(splits, split)
    classes = list(splits.classes)
    k = len(classes)
    was_training = model.training
    model.eval()
    scores = []
    try:
        with torch.no_grad(), nn.use_impl("native"):
            for start in range(0, len(images), 100):
                batch = images[start : start + 100]
                out = mod.run_module(model, (batch,), what="your network")
                wrong_type = check_tensor_type(out, "the network's output")
                if wrong_type is not None:
                    raise GradingError(wrong_type.message)
                want = (len(batch), k, *batch.shape[2:])
                if tuple(out.shape) != want:
                    raise GradingError(
                        f"the network's output has shape {fmt_shape(tuple(out.shape))}"
                        f" but expected {fmt_shape(want)}: one score map per class, "
                        "the size of the image"
                    )
                scores.append(out.float())
    finally:
        model.train(was_training)
    pred = torch.cat(scores).argmax(dim=1)
    iou = reference_iou(pred, masks, k)
    value = float(iou.nanmean())
    per_class = ", ".join(
        f"{name} {float(v):.3f}" for name, v in zip(classes, iou, strict=True)
    )
    if not value >= threshold:
        hint = ""
        if bool((pred == 0).all()):
            hint = (
                "\nHint: your network predicts the background everywhere: weight "
                "the classes in the loss (class_weights), or train longer"
            )
        raise GradingError(
            f"the mean IoU of your network on {where} is {value:.4f}, below the "
            f"required {threshold:.2f} (per class: {per_class}); train longer, "
            "tune the learning rate, or look for a bug in crop_and_concat" + hint
        )
    return CheckResult(
        "segmentation_iou", (f"mean IoU {value:.3f} >= {threshold:g}",), 1
    )
