"""Assignment 8's checks: the transposed convolution and its output size,
crop-and-concatenate, IoU, the student's U-Net and its trained mean IoU.

Every check passes a correct solution and fails each canonical mistake with the
message that names it, in the part that grades that property.
"""

import pytest
import torch
import torch.nn.functional as F

import cnnlib.grading as g
from cnnlib import nn
from cnnlib.data import segmentation_splits
from cnnlib.grading import conv_transpose as ct
from cnnlib.grading import crop_concat as cc
from cnnlib.grading import iou
from cnnlib.grading.families import FAMILIES
from cnnlib.models import unet
from cnnlib.train import iou_per_class as cnnlib_iou_per_class


# -- the transposed convolution -----------------------------------------------------
def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0,
    *, rotate=False, crop="centre", op_side="bottom",
):  # fmt: skip
    """Pasting, one kernel offset at a time; the switches make it a mistake."""
    if rotate:
        weight = weight.flip(2, 3)
    n, _, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    s, p, op = stride, padding, output_padding
    full = x.new_zeros(n, c_out, (h - 1) * s + kh, (w - 1) * s + kw)
    for i in range(kh):
        for j in range(kw):
            rows, cols = (
                slice(i, i + s * (h - 1) + 1, s),
                slice(j, j + s * (w - 1) + 1, s),
            )
            full[:, :, rows, cols] += torch.einsum(
                "nchw,co->nohw", x, weight[:, :, i, j]
            )
    pads = (0, op, 0, op) if op_side == "bottom" else (op, 0, op, 0)
    full = F.pad(full, pads)
    h_out, w_out = full.shape[2] - 2 * p, full.shape[3] - 2 * p
    top = {"centre": p, "start": 0, "added": 0}[crop]
    if crop == "added":  # padding added around the full grid instead of removed
        out = F.pad(full, (p, p, p, p))
    else:
        out = full[:, :, top : top + h_out, top : top + w_out]
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def ct_mistake(**switches):
    def fn(x, weight, bias=None, stride=1, padding=0, output_padding=0):
        return conv_transpose2d(
            x, weight, bias, stride, padding, output_padding, **switches
        )

    fn.__name__ = "_".join(f"{k}={v}" for k, v in switches.items())
    return fn


def ct_stride_ignored(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    return conv_transpose2d(x, weight, bias, 1, padding, output_padding)


def ct_stride_as_conv(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Pad, rotate the kernel, convolve with the stride: no zeros inserted."""
    kh, kw = weight.shape[2:]
    xp = F.pad(
        x, (kw - 1 - padding, kw - 1 - padding, kh - 1 - padding, kh - 1 - padding)
    )
    windows = xp.unfold(2, kh, stride).unfold(3, kw, stride)
    w = weight.flip(2, 3)  # (C_in, C_out, KH, KW)
    out = torch.einsum("nchwpq,copq->nohw", windows, w)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def ct_no_output_padding(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    return conv_transpose2d(x, weight, bias, stride, padding, 0)


def ct_no_bias(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    return conv_transpose2d(x, weight, None, stride, padding, output_padding)


def ct_weight_as_conv(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Reads weight as (C_out, C_in, KH, KW), like a convolution's."""
    return conv_transpose2d(
        x, weight.transpose(0, 1), bias, stride, padding, output_padding
    )


def ct_torch(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    return F.conv_transpose2d(x, weight, bias, stride, padding, output_padding)


CT_PARTS = ("lecture", "shape", "channels", "bias", "stride", "padding",
            "output_padding", "random")  # fmt: skip


def test_conv_transpose2d_passes_a_correct_solution_part_by_part():
    assert g.check_conv_transpose2d(conv_transpose2d).parts == CT_PARTS
    for part in CT_PARTS:
        assert g.check_conv_transpose2d(conv_transpose2d, part=part).parts == (part,)


CT_MISTAKES = [
    (ct_mistake(rotate=True), "lecture", ct.ROTATED_KERNEL),
    (ct_stride_ignored, "stride", ct.STRIDE_IGNORED),
    (ct_stride_as_conv, "lecture", ct.STRIDE_AS_CONV),
    (ct_mistake(crop="added"), "padding", ct.PADDING_ADDED),
    (ct_mistake(crop="start"), "padding", ct.PADDING_ONE_SIDE),
    (ct_no_output_padding, "output_padding", ct.OUTPUT_PADDING_IGNORED),
    (ct_mistake(op_side="top"), "output_padding", ct.OUTPUT_PADDING_SIDE),
    (ct_no_bias, "bias", "you forgot the bias"),
    (ct_weight_as_conv, "channels", ct.WEIGHT_IN_OUT),
    (ct_torch, "lecture", "called torch.nn.functional.conv_transpose2d"),
]


@pytest.mark.parametrize(
    ("fn", "part", "hint"),
    CT_MISTAKES,
    ids=[f"{fn.__name__}-{part}" for fn, part, _ in CT_MISTAKES],
)
def test_conv_transpose2d_fails_each_canonical_mistake_with_its_hint(fn, part, hint):
    with pytest.raises(g.GradingError) as failed:
        g.check_conv_transpose2d(fn, part=part)
    message = str(failed.value)
    assert hint in message
    assert f'part "{part}"' in message


def test_conv_transpose2d_lecture_cases_show_both_grids():
    with pytest.raises(g.GradingError) as failed:
        g.check_conv_transpose2d(ct_mistake(rotate=True), part="lecture")
    message = str(failed.value)
    assert "expected: [[[[2, 9, 6, 1], [6, 29, 30, 7]" in message  # the slide's answer


def test_conv_transpose2d_shape_messages_quote_the_formula():
    with pytest.raises(g.GradingError) as failed:
        g.check_conv_transpose2d(ct_stride_ignored, part="stride")
    assert "H_out = (H - 1)S - 2P + K + OP = (3 - 1)*2 - 2*0 + 3 + 0 = 7" in str(
        failed.value
    )


def test_conv_transpose2d_mistake_costs_only_its_part():
    for part in ("lecture", "shape", "channels", "bias", "stride", "padding"):
        g.check_conv_transpose2d(ct_mistake(op_side="top"), part=part)


# -- its output size ------------------------------------------------------------------
def size(size, kernel_size, stride=1, padding=0, output_padding=0):
    return (size - 1) * stride - 2 * padding + kernel_size + output_padding


def size_conv(size, kernel_size, stride=1, padding=0, output_padding=0):
    return (size + 2 * padding - kernel_size) // stride + 1


def size_padding_added(size, kernel_size, stride=1, padding=0, output_padding=0):
    return (size - 1) * stride + 2 * padding + kernel_size + output_padding


def size_no_output_padding(size, kernel_size, stride=1, padding=0, output_padding=0):
    return (size - 1) * stride - 2 * padding + kernel_size


def size_h_times_s(size, kernel_size, stride=1, padding=0, output_padding=0):
    return size * stride - 2 * padding + kernel_size + output_padding


def size_float(size, kernel_size, stride=1, padding=0, output_padding=0):
    return float((size - 1) * stride - 2 * padding + kernel_size + output_padding)


def test_output_size_passes_a_correct_solution():
    result = g.check_conv_transpose_output_size(size)
    assert result.parts == ("lecture", "options", "random")


@pytest.mark.parametrize(
    ("fn", "part", "hint"),
    [
        (size_conv, "lecture", ct.CONV_SIZE),
        (size_padding_added, "options", ct.PADDING_ADDED),
        (size_no_output_padding, "options", ct.OUTPUT_PADDING_IGNORED),
        (size_h_times_s, "lecture", "not H S"),
        (size_float, "lecture", "expected a Python int"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v))[:20],
)
def test_output_size_fails_each_canonical_mistake_with_its_hint(fn, part, hint):
    with pytest.raises(g.GradingError) as failed:
        g.check_conv_transpose_output_size(fn, part=part)
    assert hint in str(failed.value)


# -- crop and concatenate ------------------------------------------------------------
def crop_and_concat(encoder, decoder, *, rounding="floor", first="encoder"):
    h, w = decoder.shape[-2:]
    dh, dw = encoder.shape[-2] - h, encoder.shape[-1] - w
    top, left = {
        "floor": (dh // 2, dw // 2),
        "ceil": (-(-dh // 2), -(-dw // 2)),
        "corner": (0, 0),
        "swapped": (dw // 2, dh // 2),
    }[rounding]
    cropped = encoder[:, :, top : top + h, left : left + w]
    pair = [cropped, decoder] if first == "encoder" else [decoder, cropped]
    return torch.cat(pair, dim=1)


def cc_mistake(**switches):
    def fn(encoder, decoder):
        return crop_and_concat(encoder, decoder, **switches)

    fn.__name__ = "_".join(f"{k}={v}" for k, v in switches.items())
    return fn


def cc_uses_cnnlib(encoder, decoder):
    from cnnlib.models.unet import center_crop

    return torch.cat([center_crop(encoder, *decoder.shape[-2:]), decoder], dim=1)


def test_crop_and_concat_passes_a_correct_solution():
    result = g.check_crop_and_concat(crop_and_concat)
    assert result.parts == ("shape", "center", "odd", "random")


CROP_MISTAKES = [
    (cc_mistake(rounding="corner"), "center", cc.CORNER_CROP),
    (cc_mistake(rounding="ceil"), "odd", cc.ROUNDED_UP),
    (cc_mistake(first="decoder"), "shape", cc.ORDER),
    (cc_mistake(rounding="swapped"), "random", cc.OFFSETS_SWAPPED),
    (cc_uses_cnnlib, "shape", "called cnnlib.models.unet.center_crop"),
]


@pytest.mark.parametrize(
    ("fn", "part", "hint"),
    CROP_MISTAKES,
    ids=[f"{fn.__name__}-{part}" for fn, part, _ in CROP_MISTAKES],
)
def test_crop_and_concat_fails_each_canonical_mistake_with_its_hint(fn, part, hint):
    with pytest.raises(g.GradingError) as failed:
        g.check_crop_and_concat(fn, part=part)
    assert hint in str(failed.value)


def test_rounding_up_costs_only_the_odd_differences():
    for part in ("shape", "center"):
        g.check_crop_and_concat(cc_mistake(rounding="ceil"), part=part)


# -- IoU ----------------------------------------------------------------------------
def iou_per_class(pred, target, num_classes, *, kind="iou", absent=float("nan")):
    out = torch.empty(num_classes, dtype=torch.float64)
    for c in range(num_classes):
        a, b = pred == c, target == c
        inter, pa, tb = (a & b).sum(), a.sum(), b.sum()
        union = (a | b).sum()
        if union == 0:
            out[c] = absent
        elif kind == "iou":
            out[c] = inter / union
        elif kind == "dice":
            out[c] = 2 * inter / (pa + tb)
        elif kind == "double_union":
            out[c] = inter / (pa + tb)
        elif kind == "nan_when_empty":
            out[c] = inter / union if inter > 0 else float("nan")
    return out


def iou_mistake(**switches):
    def fn(pred, target, num_classes):
        return iou_per_class(pred, target, num_classes, **switches)

    fn.__name__ = "_".join(f"{k}={v}" for k, v in switches.items())
    return fn


def iou_per_image(pred, target, num_classes):
    each = [
        iou_per_class(p[None], t[None], num_classes)
        for p, t in zip(pred, target, strict=True)
    ]
    return torch.stack(each).nanmean(dim=0)


def iou_float32(pred, target, num_classes):
    return iou_per_class(pred, target, num_classes).float()


def iou_sklearn(pred, target, num_classes):
    from sklearn.metrics import jaccard_score

    scores = jaccard_score(
        target.flatten(), pred.flatten(), labels=list(range(num_classes)), average=None
    )
    return torch.tensor(scores, dtype=torch.float64)


def iou_cnnlib(pred, target, num_classes):
    return cnnlib_iou_per_class(pred, target, num_classes)


def mean_iou(pred, target, num_classes):
    return iou_per_class(pred, target, num_classes).nanmean().item()


def mean_iou_absent_zero(pred, target, num_classes):
    return iou_per_class(pred, target, num_classes, absent=0.0).mean().item()


def mean_iou_plain_mean(pred, target, num_classes):
    return iou_per_class(pred, target, num_classes).mean().item()


def mean_iou_per_class(pred, target, num_classes):
    return iou_per_class(pred, target, num_classes)


def test_iou_checks_pass_a_correct_solution():
    result = g.check_iou_per_class(iou_per_class)
    assert result.parts == ("example", "absent", "batch", "random")
    assert g.check_mean_iou(mean_iou).parts == ("absent", "random")
    # a 0-d tensor is a number too
    g.check_mean_iou(lambda p, t, c: iou_per_class(p, t, c).nanmean())


IOU_MISTAKES = [
    (g.check_iou_per_class, iou_mistake(absent=0.0), "absent", iou.ABSENT_NOT_NAN),
    (g.check_iou_per_class, iou_mistake(kind="nan_when_empty"), "absent",
     iou.PRESENT_NOT_NAN),
    (g.check_iou_per_class, iou_mistake(kind="dice"), "example", iou.DICE),
    (g.check_iou_per_class, iou_mistake(kind="double_union"), "example",
     iou.UNION_DOUBLE_COUNTS),
    (g.check_iou_per_class, iou_per_image, "batch", iou.PER_IMAGE),
    (g.check_iou_per_class, iou_float32, "example", "dtype torch.float32"),
    (g.check_iou_per_class, iou_sklearn, "example",
     "ready-made IoU (Jaccard) metrics are off limits"),
    (g.check_iou_per_class, iou_cnnlib, "example", "from cnnlib"),
    (g.check_mean_iou, mean_iou_absent_zero, "absent", iou.MEAN_ABSENT_ZERO),
    (g.check_mean_iou, mean_iou_plain_mean, "absent", iou.MEAN_NAN),
    (g.check_mean_iou, mean_iou_per_class, "absent", "return one number"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "fn", "part", "hint"),
    IOU_MISTAKES,
    ids=[f"{fn.__name__}-{part}" for _, fn, part, _ in IOU_MISTAKES],
)
def test_iou_checks_fail_each_canonical_mistake_with_its_hint(check, fn, part, hint):
    with pytest.raises(g.GradingError) as failed:
        check(fn, part=part)
    message = str(failed.value)
    assert hint in message
    assert f'part "{part}"' in message


def test_iou_messages_name_the_class_and_show_public_values():
    with pytest.raises(g.GradingError) as failed:
        g.check_iou_per_class(iou_mistake(kind="dice"), part="absent")
    message = str(failed.value)
    assert "the first is class 0" in message
    assert "expected: [0.5455, 0, 0, nan]" in message
    assert "largest absolute error nan" not in message


def test_the_graders_iou_is_cnnlibs():
    gen = torch.Generator().manual_seed(3)
    for classes in (2, 4, 6):
        pred = torch.randint(classes - 1, (3, 7, 5), generator=gen)
        target = torch.randint(classes - 1, (3, 7, 5), generator=gen)
        ours = iou.reference_iou(pred, target, classes)
        theirs = cnnlib_iou_per_class(pred, target, classes)
        torch.testing.assert_close(ours, theirs, equal_nan=True)
        assert torch.isnan(ours[-1])  # the last class appears nowhere


def test_the_iou_family_is_guarded():
    assert "iou" in FAMILIES
    assert FAMILIES["iou"].pattern
    import re

    pattern = re.compile(FAMILIES["iou"].pattern)
    for name in ("jaccard_score", "mean_iou", "box_iou", "iou", "binary_jaccard_index"):
        assert pattern.search(name), name
    for name in ("previous", "curious", "iou2d_free_name_x"):
        assert not pattern.search(name) or name.startswith("iou"), name


# -- the student's U-Net ---------------------------------------------------------------
def double_conv(c_in, c_out, bias=False):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias), nn.BatchNorm2d(c_out),
        nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1, bias=bias),
        nn.BatchNorm2d(c_out), nn.ReLU(),
    )  # fmt: skip


class SmallUNet(nn.Module):
    def __init__(self, in_channels=3, num_classes=4, base_channels=8, bias=False):
        super().__init__()
        b = base_channels
        self.down1 = double_conv(in_channels, b, bias)
        self.down2 = double_conv(b, 2 * b, bias)
        self.pool = nn.MaxPool2d(2)
        self.bottom = double_conv(2 * b, 4 * b, bias)
        self.upconv2 = nn.ConvTranspose2d(4 * b, 2 * b, 2, stride=2)
        self.up2 = double_conv(4 * b, 2 * b, bias)
        self.upconv1 = nn.ConvTranspose2d(2 * b, b, 2, stride=2)
        self.up1 = double_conv(2 * b, b, bias)
        self.head = nn.Conv2d(b, num_classes, 1)

    def join(self, skip, x):
        return crop_and_concat(skip, x)

    def forward(self, x):
        skip1 = self.down1(x)
        skip2 = self.down2(self.pool(skip1))
        x = self.bottom(self.pool(skip2))
        x = self.up2(self.join(skip2, self.upconv2(x)))
        x = self.up1(self.join(skip1, self.upconv1(x)))
        return self.head(x)


class NoCrop(SmallUNet):
    def join(self, skip, x):
        return torch.cat([skip, x], dim=1)


class BiasedConvs(SmallUNet):
    def __init__(self, in_channels=3, num_classes=4, base_channels=8):
        super().__init__(in_channels, num_classes, base_channels, bias=True)


class OneMapOut(SmallUNet):
    def __init__(self, in_channels=3, num_classes=4, base_channels=8):
        super().__init__(in_channels, num_classes, base_channels)
        self.head = nn.Conv2d(base_channels, 1, 1)


class ReferenceUNet(nn.Module):
    def __init__(self, in_channels=3, num_classes=4, base_channels=8):
        super().__init__()
        self.net = unet(num_classes, in_channels, base_channels, 2, 1, True)

    def forward(self, x):
        return self.net(x)


def test_unet_passes_a_correct_solution():
    assert g.check_unet(SmallUNet).parts == ("shape", "params", "crop")


UNET_MISTAKES = [
    (NoCrop, "crop", "join them with crop_and_concat"),
    (BiasedConvs, "params", "takes bias=False"),
    (OneMapOut, "shape", "outputs num_classes maps"),
    (ReferenceUNet, "shape", "called cnnlib.models.unet.unet"),
]


@pytest.mark.parametrize(
    ("cls", "part", "hint"),
    UNET_MISTAKES,
    ids=[f"{cls.__name__}-{part}" for cls, part, _ in UNET_MISTAKES],
)
def test_unet_fails_each_canonical_mistake_with_its_hint(cls, part, hint):
    with pytest.raises(g.GradingError) as failed:
        g.check_unet(cls, part=part)
    assert hint in str(failed.value)


def test_unet_without_crop_keeps_the_other_parts():
    for part in ("shape", "params"):
        g.check_unet(NoCrop, part=part)


# -- the trained U-Net's mean IoU, measured by the grader ---------------------------
@pytest.fixture(scope="module")
def scenes():
    return segmentation_splits(n=200, size=24, seed=0)


class Background(nn.Module):
    """Predicts background everywhere."""

    def forward(self, x):
        scores = torch.zeros(x.shape[0], 4, *x.shape[2:])
        scores[:, 0] = 1
        return scores


def test_segmentation_iou_is_measured_by_the_grader(scenes):
    model = Background()
    with pytest.raises(g.GradingError) as failed:
        g.check_segmentation_iou(model, scenes, 0.4)
    message = str(failed.value)
    assert "predicts the background everywhere" in message
    assert "per class: background 0.8" in message  # mostly background pixels
    result = g.check_segmentation_iou(model, scenes, 0.2, split="fresh")
    assert "mean IoU 0.2" in repr(result)


def test_segmentation_iou_checks_the_output_and_the_model(scenes):
    class Flat(nn.Module):
        def forward(self, x):
            return torch.zeros(x.shape[0], 4)

    with pytest.raises(g.GradingError, match=r"expected \(30, 4, 24, 24\)"):
        g.check_segmentation_iou(Flat(), scenes, 0.4)
    with pytest.raises(g.GradingError, match="torch.nn.Module"):
        g.check_segmentation_iou(lambda x: x, scenes, 0.4)
    with pytest.raises(g.GradingError, match="cnnlib.models.unet.UNet"):
        g.check_segmentation_iou(unet(4, 3, 4, 2, 1, True), scenes, 0.4)


@pytest.mark.slow
def test_the_assignments_training_recipe_passes_the_thresholds():
    """The notebook's recipe (about 20 s): mean IoU >= 0.40 on validation, >= 0.38
    on the grader's new scenes, with one thread as in the grading kernel."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        splits = segmentation_splits(n=2000, size=24, seed=0)
        loader = torch.utils.data.DataLoader(splits.train, batch_size=16, shuffle=True)
        counts = torch.bincount(splits.train.tensors[1].flatten(), minlength=4).float()
        weights = counts.sum() / (4 * counts)
        torch.manual_seed(0)
        model = SmallUNet(3, 4, 8)
        nn.set_impl(model, "native")
        epochs = 6
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.01, total_steps=epochs * len(loader)
        )
        model.train()
        for _ in range(epochs):
            for images, masks in loader:
                loss = F.cross_entropy(model(images), masks, weight=weights)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
    finally:
        torch.set_num_threads(threads)
    g.check_segmentation_iou(model, splits, 0.40, split="val")
    g.check_segmentation_iou(model, splits, 0.38, split="fresh")
