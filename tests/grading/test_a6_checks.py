"""Assignment 6's checks: VGG, mlpconv and Inception blocks built from cnnlib.nn,
the multiply-adds of a convolution and of an Inception module, and receptive fields.

Each check passes the reference solution and fails each canonical mistake with
the message that names it, in the part that grades that property. The checks'
own expected values are cross-checked against cnnlib.models here.
"""

import itertools

import pytest
import torch

import cnnlib.grading as g
from cnnlib import models, nn
from cnnlib.grading.costs import inception_mult_adds as expected_inception
from cnnlib.grading.costs import mult_adds
from cnnlib.grading.receptive_field import span


# -- the reference solution (the notebook's) -------------------------------------------
def vgg_block(in_channels, out_channels, num_convs):
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU()]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.MaxPool2d(kernel_size=2, stride=2))


def mlpconv(in_channels, channels, kernel_size):
    c1, c2, c3 = channels
    return nn.Sequential(
        nn.Conv2d(in_channels, c1, kernel_size, padding=kernel_size // 2),
        nn.ReLU(),
        nn.Conv2d(c1, c2, 1),
        nn.ReLU(),
        nn.Conv2d(c2, c3, 1),
        nn.ReLU(),
    )


def _conv_relu(c_in, c_out, k):
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.ReLU()]


class InceptionModule(nn.Module):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = nn.Sequential(*_conv_relu(in_channels, ch1x1, 1))
        self.branch2 = nn.Sequential(
            *_conv_relu(in_channels, ch3x3red, 1), *_conv_relu(ch3x3red, ch3x3, 3)
        )
        self.branch3 = nn.Sequential(
            *_conv_relu(in_channels, ch5x5red, 1), *_conv_relu(ch5x5red, ch5x5, 5)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), *_conv_relu(in_channels, pool_proj, 1)
        )

    def branches(self):
        return [self.branch1, self.branch2, self.branch3, self.branch4]

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches()], dim=1)


def conv_mult_adds(in_channels, out_channels, kernel_size, height_out, width_out):
    kh, kw = (kernel_size,) * 2 if isinstance(kernel_size, int) else kernel_size
    return height_out * width_out * out_channels * in_channels * kh * kw


def inception_mult_adds(c_in, ch1, red3, ch3, red5, ch5, proj, height, width):
    total = conv_mult_adds(c_in, ch1, 1, height, width)
    for red, out, k in ((red3, ch3, 3), (red5, ch5, 5)):
        if red is None:
            total += conv_mult_adds(c_in, out, k, height, width)
        else:
            total += conv_mult_adds(c_in, red, 1, height, width)
            total += conv_mult_adds(red, out, k, height, width)
    if proj is not None:
        total += conv_mult_adds(c_in, proj, 1, height, width)
    return total


def receptive_field(layers):
    field, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        field += (kernel_size - 1) * dilation * jump
        jump *= stride
    return field


# -- canonical mistakes: blocks --------------------------------------------------------
def vgg_no_pool(in_channels, out_channels, num_convs):
    return vgg_block(in_channels, out_channels, num_convs)[:-1]


def vgg_5x5(in_channels, out_channels, num_convs):
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, 5, padding=2), nn.ReLU()]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def vgg_no_relu(in_channels, out_channels, num_convs):
    block = vgg_block(in_channels, out_channels, num_convs)
    return nn.Sequential(*(m for m in block if not isinstance(m, nn.ReLU)))


def vgg_avg_pool(in_channels, out_channels, num_convs):
    block = vgg_block(in_channels, out_channels, num_convs)
    block[-1] = nn.AvgPool2d(2)
    return block


def vgg_no_padding(in_channels, out_channels, num_convs):
    block = vgg_block(in_channels, out_channels, num_convs)
    for layer in block:
        if isinstance(layer, nn.Conv2d):
            layer.padding = (0, 0)
    return block


def vgg_pool_stride_one(in_channels, out_channels, num_convs):
    block = vgg_block(in_channels, out_channels, num_convs)
    block[-1] = nn.MaxPool2d(2, stride=1)
    return block


def vgg_no_bias(in_channels, out_channels, num_convs):
    layers = []
    for _ in range(num_convs):
        conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        layers += [conv, nn.ReLU()]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def vgg_batch_norm(in_channels, out_channels, num_convs):
    block = vgg_block(in_channels, out_channels, num_convs)
    return nn.Sequential(*block, nn.BatchNorm2d(out_channels))


def vgg_reference(in_channels, out_channels, num_convs):
    from cnnlib.models.vgg import make_features as helper

    return helper([out_channels] * num_convs + ["M"], in_channels)


def vgg_list(in_channels, out_channels, num_convs):
    return list(vgg_block(in_channels, out_channels, num_convs))


def mlpconv_all_kxk(in_channels, channels, kernel_size):
    c1, c2, c3 = channels
    k, p = kernel_size, kernel_size // 2
    return nn.Sequential(
        *[nn.Conv2d(in_channels, c1, k, padding=p), nn.ReLU()],
        *[nn.Conv2d(c1, c2, k, padding=p), nn.ReLU()],
        *[nn.Conv2d(c2, c3, k, padding=p), nn.ReLU()],
    )


def mlpconv_no_last_relu(in_channels, channels, kernel_size):
    return mlpconv(in_channels, channels, kernel_size)[:-1]


def mlpconv_no_padding(in_channels, channels, kernel_size):
    block = mlpconv(in_channels, channels, kernel_size)
    block[0].padding = (0, 0)
    return block


class InceptionNoBottleneck(InceptionModule):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(
            in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj
        )
        self.branch3 = nn.Sequential(*_conv_relu(in_channels, ch5x5, 5))


class InceptionNoProjection(InceptionModule):
    def __init__(self, *widths):
        super().__init__(*widths)
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1))


class InceptionOrder(InceptionModule):
    def branches(self):
        return [self.branch1, self.branch3, self.branch2, self.branch4]


class InceptionNoPooling(InceptionModule):
    def branches(self):
        return [self.branch1, self.branch2, self.branch3, self.branch4[1:]]


class InceptionReductionNoReLU(InceptionModule):
    def __init__(self, *widths):
        super().__init__(*widths)
        reduce, _, conv, relu = self.branch2
        self.branch2 = nn.Sequential(reduce, conv, relu)


class InceptionPoolNoPadding(InceptionModule):
    def __init__(self, *widths):
        super().__init__(*widths)
        self.branch4[0] = nn.MaxPool2d(3, stride=1)


class InceptionConcatHeight(InceptionModule):
    def forward(self, x):
        return torch.cat([branch(x)[:, :4] for branch in self.branches()], dim=2)


class InceptionReference(nn.Module):
    def __init__(self, *widths):
        super().__init__()
        self.inner = models.Inception(*widths)

    def forward(self, x):
        return self.inner(x)


# -- canonical mistakes: costs and receptive fields ------------------------------------
def mult_adds_twice(c_in, c_out, k, h, w):
    return 2 * conv_mult_adds(c_in, c_out, k, h, w)


def mult_adds_no_c_in(c_in, c_out, k, h, w):
    return conv_mult_adds(1, c_out, k, h, w)


def mult_adds_k_not_squared(c_in, c_out, k, h, w):
    return h * w * c_out * c_in * (k if isinstance(k, int) else k[0])


def mult_adds_square(c_in, c_out, k, h, w):
    return conv_mult_adds(c_in, c_out, k if isinstance(k, int) else k[0], h, w)


def mult_adds_params(c_in, c_out, k, h, w):
    return conv_mult_adds(c_in, c_out, k, 1, 1) + c_out


def mult_adds_from_cnnlib(c_in, c_out, k, h, w):
    from cnnlib.models import conv2d_cost as cost

    return cost(c_in, c_out, k, h, w).mult_adds


def inception_without_reductions(c_in, ch1, red3, ch3, red5, ch5, proj, h, w):
    total = conv_mult_adds(c_in, ch1, 1, h, w)
    total += conv_mult_adds(red3 or c_in, ch3, 3, h, w)
    return total + conv_mult_adds(red5 or c_in, ch5, 5, h, w)


def inception_no_reductions(c_in, ch1, red3, ch3, red5, ch5, proj, h, w):
    total = inception_without_reductions(c_in, ch1, red3, ch3, red5, ch5, proj, h, w)
    return total + (conv_mult_adds(c_in, proj, 1, h, w) if proj else 0)


def inception_pool_costs(c_in, ch1, red3, ch3, red5, ch5, proj, h, w):
    extra = 9 * c_in * h * w
    return inception_mult_adds(c_in, ch1, red3, ch3, red5, ch5, proj, h, w) + extra


def inception_full_width(c_in, ch1, red3, ch3, red5, ch5, proj, h, w):
    total = inception_mult_adds(c_in, ch1, None, ch3, None, ch5, proj, h, w)
    for red in (red3, red5):
        total += conv_mult_adds(c_in, red, 1, h, w) if red else 0
    return total


def rf_no_stride(layers):
    return receptive_field([(k, 1, d) for k, _, d in layers])


def rf_no_dilation(layers):
    return receptive_field([(k, s, 1) for k, s, _ in layers])


def rf_own_stride(layers):
    field, jump = 1, 1
    for k, s, d in layers:
        jump *= s
        field += (k - 1) * d * jump
    return field


def rf_sum_of_kernels(layers):
    return sum(k for k, _, _ in layers)


def rf_product(layers):
    product = 1
    for k, _, _ in layers:
        product *= k
    return product


def rf_float(layers):
    return float(receptive_field(layers))


# -- the tests -------------------------------------------------------------------------
CORRECT = [
    (g.check_vgg_block, vgg_block, ("params", "shape", "values", "random")),
    (g.check_mlpconv, mlpconv, ("params", "shape", "values", "random")),
    (g.check_inception, InceptionModule, ("params", "shape", "values", "random")),
    (g.check_conv_mult_adds, conv_mult_adds, ("lecture", "rectangular")),
    (g.check_inception_mult_adds, inception_mult_adds,
     ("naive", "bottleneck", "random")),
    (g.check_receptive_field, receptive_field,
     ("lecture", "stride", "dilation", "random")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "fn", "parts"), CORRECT, ids=[c.__name__ for c, _, _ in CORRECT]
)
def test_the_solution_passes_every_part(check, fn, parts):
    result = check(fn)
    assert result.parts == parts and "passed" in repr(result)
    for part in parts:
        assert check(fn, part=part).parts == (part,)


MISTAKES = [
    (g.check_vgg_block, vgg_no_pool, "shape", "ends with a 2x2 max pooling"),
    (g.check_vgg_block, vgg_5x5, "params", "VGG uses 3x3 kernels only"),
    (g.check_vgg_block, vgg_5x5, "values", "cannot be copied"),
    (g.check_vgg_block, vgg_no_relu, "values",
     "no ReLU between convolution 1 of 2 and convolution 2 of 2"),
    (g.check_vgg_block, vgg_avg_pool, "values", "not the mean"),
    (g.check_vgg_block, vgg_no_padding, "shape", "padding=1 keeps H x W"),
    (g.check_vgg_block, vgg_pool_stride_one, "shape", "stride=2"),
    (g.check_vgg_block, vgg_no_bias, "params", "has no bias"),
    (g.check_vgg_block, vgg_batch_norm, "params", "not in the reference"),
    (g.check_vgg_block, vgg_reference, "params",
     "called cnnlib.models.vgg.make_features"),
    (g.check_vgg_block, vgg_list, "shape", "return the block as an nn.Module"),
    (g.check_mlpconv, mlpconv_all_kxk, "params", "the next two are 1x1"),
    (g.check_mlpconv, mlpconv_no_last_relu, "values", "ends with a ReLU"),
    (g.check_mlpconv, mlpconv_no_padding, "shape", "(kernel_size // 2) keeps H x W"),
    (g.check_inception, InceptionNoBottleneck, "params",
     "the 5x5 branch has no 1x1 bottleneck"),
    (g.check_inception, InceptionNoProjection, "shape", "ends with a 1x1 projection"),
    (g.check_inception, InceptionOrder, "values", "concatenated in another order"),
    (g.check_inception, InceptionNoPooling, "values",
     "applies its 1x1 projection to the max pooling"),
    (g.check_inception, InceptionReductionNoReLU, "values",
     "no ReLU between the 3x3 branch's 1x1 reduction"),
    (g.check_inception, InceptionPoolNoPadding, "shape",
     "every branch must keep H x W"),
    (g.check_inception, InceptionConcatHeight, "shape", "along the channels"),
    (g.check_inception, InceptionReference, "params",
     "called cnnlib.models.inception.Inception"),
    (g.check_conv_mult_adds, mult_adds_twice, "lecture", "counted the additions too"),
    (g.check_conv_mult_adds, mult_adds_no_c_in, "lecture", "all C_in input channels"),
    (g.check_conv_mult_adds, mult_adds_k_not_squared, "lecture", "KH * KW taps"),
    (g.check_conv_mult_adds, mult_adds_square, "rectangular", "is not square"),
    (g.check_conv_mult_adds, mult_adds_params, "lecture",
     "that is the number of parameters"),
    (g.check_conv_mult_adds, mult_adds_from_cnnlib, "lecture", "from cnnlib"),
    (g.check_inception_mult_adds, inception_without_reductions, "bottleneck",
     "the 1x1 reductions and the pool projection cost"),
    (g.check_inception_mult_adds, inception_no_reductions, "bottleneck",
     "the 1x1 reductions cost multiply-adds too"),
    (g.check_inception_mult_adds, inception_pool_costs, "naive",
     "max pooling multiplies nothing"),
    (g.check_inception_mult_adds, inception_full_width, "bottleneck",
     "reads the reduced channels"),
    (g.check_receptive_field, rf_no_stride, "stride", "without the strides"),
    (g.check_receptive_field, rf_no_dilation, "dilation", "D(K - 1) + 1"),
    (g.check_receptive_field, rf_own_stride, "stride",
     "does not widen its own window"),
    (g.check_receptive_field, rf_sum_of_kernels, "lecture", "stacked windows overlap"),
    (g.check_receptive_field, rf_product, "lecture", "not multiplication"),
    (g.check_receptive_field, rf_float, "lecture", "got float"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "fn", "part", "message"),
    MISTAKES,
    ids=[f"{fn.__name__}-{part}" for _, fn, part, _ in MISTAKES],
)
def test_a_canonical_mistake_fails_with_its_message(check, fn, part, message):
    with pytest.raises(g.GradingError) as failure:
        check(fn, part=part)
    assert message in str(failure.value)


def test_a_wrong_layer_does_not_cost_the_shape_part():
    """Partial credit: 5x5 kernels with padding 2 still give the right shape."""
    g.check_vgg_block(vgg_5x5, part="shape")
    g.check_inception(InceptionNoBottleneck, part="shape")


def test_hidden_cases_show_neither_the_answer_nor_the_stack():
    with pytest.raises(g.GradingError) as failure:
        g.check_receptive_field(rf_no_stride, part="random")
    text = str(failure.value)
    assert "hidden case" in text and "a stack of" in text
    assert "expected" not in text and "layers=[" not in text
    with pytest.raises(g.GradingError) as failure:
        g.check_inception_mult_adds(inception_pool_costs, part="random")
    assert "expected" not in str(failure.value)


# -- the checks' expected values agree with cnnlib.models ------------------------------
def test_mult_adds_agree_with_cnnlib():
    for c_in, c_out, k, h, w in [
        (192, 32, 5, 28, 28),
        (3, 64, 3, 224, 224),
        (7, 5, 1, 3, 9),
    ]:
        assert (
            mult_adds(c_in, c_out, k, h, w)
            == models.conv2d_cost(c_in, c_out, k, h, w).mult_adds
        )
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        widths = [int(v) for v in torch.randint(1, 64, (7,), generator=gen)]
        red3, red5, proj = (
            None if bool(torch.rand((), generator=gen) < 0.3) else w
            for w in (widths[2], widths[4], widths[6])
        )
        c_in, ch1, _, ch3, _, ch5, _ = widths
        with torch.device("meta"):
            block = models.Inception(c_in, ch1, red3, ch3, red5, ch5, proj)
        want = models.inception_cost(block, 9, 7).mult_adds
        got = expected_inception(c_in, ch1, red3, ch3, red5, ch5, proj, 9, 7)
        assert got == want


def test_receptive_fields_by_dependencies_agree_with_the_formula():
    for layers in itertools.product([(1, 1, 1), (3, 1, 1), (3, 2, 1), (2, 2, 1),
                                     (5, 1, 2), (4, 3, 1)], repeat=3):  # fmt: skip
        assert span(list(layers)) == receptive_field(layers)
    assert span([]) == 1


def test_the_reference_blocks_match_the_lecture_counts():
    """The counts quoted in the notebook and the checks' docstrings."""

    def count(module):
        return sum(p.numel() for p in module.parameters())

    with torch.device("meta"):
        assert count(models.make_features([64, 64, "M"], 3)) == 38_720
        assert count(models.make_features([512] * 3 + ["M"], 512)) == 7_079_424
        assert count(models.mlpconv(96, (192, 192, 192), 5)) == 535_104
        assert count(models.Inception(192, 64, 96, 128, 16, 32, 32)) == 163_696
        assert count(models.Inception(832, 384, 192, 384, 48, 128, 128)) == 1_444_080
