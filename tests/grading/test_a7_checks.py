"""Assignment 7's checks: batch normalisation, the residual block, and the reported
accuracies of the plain vs residual experiment.

Every check passes a correct solution and fails each canonical mistake with the
message that names it, in the part that grades that property.
"""

import pytest
import torch
import torch.nn.functional as F

import cnnlib.grading as g
from cnnlib import nn
from cnnlib.grading import batchnorm as bn
from cnnlib.grading import residual as rs
from cnnlib.models.resnet_blocks import BasicBlock

BN_PARTS = ("normalise", "affine", "running", "eval", "channels_4d", "random")
BLOCK_PARTS = ("shape", "params", "projection", "identity", "plain", "random")


# -- batch norm: a correct solution and its canonical mistakes ----------------------
def _layout(x):
    return [0, *range(2, x.dim())], [1, -1] + [1] * (x.dim() - 2)


def batch_norm(
    x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5,
    *, axes=None, correction=0, stored=1, backwards=False, eval_batch=False,
    eps_on=True, n_images=False,
):  # fmt: skip
    """The solution; the keyword-only switches make it one canonical mistake."""
    dims, shape = _layout(x)
    dims = dims if axes is None else list(axes)
    if training or eval_batch:
        var, mean = torch.var_mean(x, dim=dims, correction=correction, keepdim=True)
        if training:
            n = x.shape[0] if n_images else x.numel() // x.shape[1]
            m = 1 - momentum if backwards else momentum
            unbiased = torch.var(x, dim=_layout(x)[0], correction=0) * n / (n - 1)
            new_var = (
                unbiased if stored else torch.var(x, dim=_layout(x)[0], correction=0)
            )
            running_mean = (1 - m) * running_mean + m * x.mean(dim=_layout(x)[0])
            running_var = (1 - m) * running_var + m * new_var
    else:
        mean, var = running_mean.view(shape), running_var.view(shape)
    x_hat = (x - mean) / torch.sqrt(var + (eps if eps_on else 0.0))
    return gamma.view(shape) * x_hat + beta.view(shape), running_mean, running_var


def mistake(**switches):
    def fn(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        return batch_norm(
            x, gamma, beta, running_mean, running_var, training, momentum, eps,
            **switches,
        )  # fmt: skip

    fn.__name__ = "_".join(f"{k}={v}" for k, v in switches.items())
    return fn


def bn_gamma_beta_swapped(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    return batch_norm(x, beta, gamma, rm, rv, training, momentum, eps)


def bn_in_place(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    out, new_mean, new_var = batch_norm(x, gamma, beta, rm, rv, training, momentum, eps)
    rm.copy_(new_mean)  # torch's layer updates its buffers in place
    rv.copy_(new_var)
    return out, rm, rv


def bn_eval_updates(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    out, _, _ = batch_norm(x, gamma, beta, rm, rv, training, momentum, eps)
    _, new_mean, new_var = batch_norm(x, gamma, beta, rm, rv, True, momentum, eps)
    return out, new_mean, new_var


def bn_torch(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    rm, rv = rm.clone(), rv.clone()
    out = F.batch_norm(x, rm, rv, gamma, beta, training, momentum, eps)
    return out, rm, rv


def bn_out_only(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    return batch_norm(x, gamma, beta, rm, rv, training, momentum, eps)[0]


def test_batch_norm_passes_a_correct_solution_part_by_part():
    result = g.check_batch_norm(batch_norm)
    assert result.parts == BN_PARTS
    for part in BN_PARTS:
        assert g.check_batch_norm(batch_norm, part=part).parts == (part,)


BN_MISTAKES = [
    (mistake(correction=1), "normalise", bn.UNBIASED_IN_NORMALISATION),
    (mistake(axes=(1,)), "normalise", "you averaged over dims (1,)"),
    (mistake(eps_on=False), "normalise", bn.NO_EPS),
    (bn_gamma_beta_swapped, "affine", bn.GAMMA_BETA_SWAPPED),
    (mistake(backwards=True), "running", bn.MOMENTUM_BACKWARDS),
    (mistake(stored=0), "running", bn.RUNNING_VAR_BIASED),
    (mistake(eval_batch=True), "eval", bn.EVAL_BATCH_STATS),
    (bn_eval_updates, "eval", bn.RUNNING_UPDATED_IN_EVAL),
    (mistake(axes=(0,)), "channels_4d", "you averaged over dims (0,)"),
    (mistake(axes=(2, 3)), "channels_4d", "you averaged over dims (2, 3)"),
    (mistake(n_images=True), "channels_4d", bn.UNBIASED_N),
    (mistake(correction=1), "random", bn.UNBIASED_IN_NORMALISATION),
    (bn_in_place, "running", "changed its input running_mean in place"),
    (bn_torch, "normalise", "called torch.nn.functional.batch_norm"),
    (bn_out_only, "normalise", "must return a tuple (out, running_mean, running_var)"),
]


@pytest.mark.parametrize(
    ("fn", "part", "hint"),
    BN_MISTAKES,
    ids=[f"{fn.__name__}-{part}" for fn, part, _ in BN_MISTAKES],
)
def test_batch_norm_fails_each_canonical_mistake_with_its_hint(fn, part, hint):
    with pytest.raises(g.GradingError) as failed:
        g.check_batch_norm(fn, part=part)
    message = str(failed.value)
    assert hint in message
    assert f'part "{part}"' in message


def test_batch_norm_mistakes_cost_only_their_parts():
    """Momentum backwards breaks the running statistics and nothing else."""
    backwards = mistake(backwards=True)
    for part in ("normalise", "affine", "eval"):
        g.check_batch_norm(backwards, part=part)
    # normalising with the unbiased variance leaves the evaluation mode right
    g.check_batch_norm(mistake(correction=1), part="eval")


def test_batch_norm_hidden_cases_show_shapes_not_values():
    with pytest.raises(g.GradingError) as failed:
        g.check_batch_norm(mistake(correction=1), part="random")
    message = str(failed.value)
    assert "hidden case" in message and "x (7, 6)" in message
    assert "expected: [" not in message


# -- the residual block ---------------------------------------------------------------
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1, bias=False
        )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        if not shortcut:
            self.shortcut = None
        elif stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def main(self, x):
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        out = self.main(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class TorchLayers(nn.Module):
    """The same block from torch.nn layers: allowed (only cnnlib.models is not)."""

    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__()
        tnn = torch.nn
        self.conv1 = tnn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1, bias=False
        )
        self.bn1 = tnn.BatchNorm2d(out_channels)
        self.conv2 = tnn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(out_channels)
        if not shortcut:
            self.shortcut = None
        elif stride == 1 and in_channels == out_channels:
            self.shortcut = tnn.Identity()
        else:
            self.shortcut = tnn.Sequential(
                tnn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                tnn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out if self.shortcut is None else out + self.shortcut(x))


class ReluBeforeAdd(ResidualBlock):
    def forward(self, x):
        out = self.relu(self.main(x))
        return out if self.shortcut is None else out + self.shortcut(x)


class NoFinalRelu(ResidualBlock):
    def forward(self, x):
        out = self.main(x)
        return out if self.shortcut is None else out + self.shortcut(x)


class ShortcutOnActivated(ResidualBlock):
    """The projection applied to relu(x) instead of x: the shortcut is wrong."""

    def forward(self, x):
        out = self.main(x)
        if isinstance(self.shortcut, nn.Sequential):
            out = out + self.shortcut(self.relu(x))
        elif self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class MainWithoutRelu(ResidualBlock):
    def main(self, x):
        return self.bn2(self.conv2(self.bn1(self.conv1(x))))


class ShortcutWithoutStride(ResidualBlock):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__(in_channels, out_channels, stride, shortcut)
        if isinstance(self.shortcut, nn.Sequential):
            self.shortcut[0].stride = (1, 1)


class StrideOnConv2(ResidualBlock):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__(in_channels, out_channels, stride, shortcut)
        self.conv1.stride, self.conv2.stride = (1, 1), (stride, stride)


class AlwaysProjection(ResidualBlock):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__(in_channels, out_channels, stride, shortcut)
        if shortcut:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )


class BiasedConvs(ResidualBlock):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__(in_channels, out_channels, stride, shortcut)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)


class ProjectionWithoutBN(ResidualBlock):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__(in_channels, out_channels, stride, shortcut)
        if isinstance(self.shortcut, nn.Sequential):
            self.shortcut = nn.Sequential(self.shortcut[0])


class PlainAddsInput(ResidualBlock):
    def forward(self, x):
        out = self.main(x)
        if self.shortcut is None and out.shape == x.shape:
            out = out + x
        elif self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class OtherNames(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__()
        self.body = nn.Sequential(
            *ResidualBlock(in_channels, out_channels, stride, False).children()
        )

    def forward(self, x):
        return self.body(x)


class UsesBasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, shortcut=True):
        super().__init__()
        kind = "projection" if shortcut else "none"
        self.block = BasicBlock(in_channels, out_channels, stride, kind)

    def forward(self, x):
        return self.block(x)


def test_residual_block_passes_a_correct_solution_part_by_part():
    for cls in (ResidualBlock, TorchLayers):
        result = g.check_residual_block(cls)
        assert result.parts == BLOCK_PARTS
    for part in BLOCK_PARTS:
        assert g.check_residual_block(ResidualBlock, part=part).parts == (part,)


BLOCK_MISTAKES = [
    (ReluBeforeAdd, "projection", rs.RELU_BEFORE_ADD),
    (ReluBeforeAdd, "identity", rs.RELU_BEFORE_ADD),
    (NoFinalRelu, "projection", rs.NO_FINAL_RELU),
    (NoFinalRelu, "plain", rs.NO_FINAL_RELU),
    (ShortcutOnActivated, "projection", rs.SHORTCUT_WRONG_PROJECTION),
    (MainWithoutRelu, "projection", rs.MAIN_PATH_WRONG),
    (MainWithoutRelu, "identity", rs.MAIN_PATH_WRONG),
    (MainWithoutRelu, "plain", rs.PLAIN_WRONG),
    (ShortcutWithoutStride, "shape", rs.SHAPES_DIFFER),
    (StrideOnConv2, "projection", rs.STRIDE_ON_CONV2),
    (AlwaysProjection, "params", rs.IDENTITY_HAS_NO_PARAMETERS),
    (AlwaysProjection, "identity", rs.IDENTITY_HAS_NO_PARAMETERS),
    (BiasedConvs, "params", rs.CONV_BIAS),
    (BiasedConvs, "projection", rs.CONV_BIAS),
    (ProjectionWithoutBN, "params", rs.PROJECTION_HAS_BN),
    (ProjectionWithoutBN, "projection", rs.PROJECTION_HAS_BN),
    (PlainAddsInput, "plain", rs.PLAIN_ADDS_INPUT),
    (OtherNames, "projection", "Name the layers conv1, bn1, conv2, bn2 and shortcut"),
    (UsesBasicBlock, "shape", "cnnlib.models.resnet_blocks.BasicBlock"),
]


@pytest.mark.parametrize(
    ("cls", "part", "hint"),
    BLOCK_MISTAKES,
    ids=[f"{cls.__name__}-{part}" for cls, part, _ in BLOCK_MISTAKES],
)
def test_residual_block_fails_each_canonical_mistake_with_its_hint(cls, part, hint):
    with pytest.raises(g.GradingError) as failed:
        g.check_residual_block(cls, part=part)
    message = str(failed.value)
    assert hint in message
    assert f'part "{part}"' in message


def test_residual_block_mistakes_cost_only_their_parts():
    # the wrong shortcut leaves the shapes, the count, the identity and plain blocks
    for part in ("shape", "params", "identity", "plain"):
        g.check_residual_block(ShortcutOnActivated, part=part)
    # the extra projection costs the identity block only
    for part in ("shape", "projection", "plain"):
        g.check_residual_block(AlwaysProjection, part=part)


def test_residual_block_must_be_a_module():
    def not_a_class(in_channels, out_channels, stride=1, shortcut=True):
        return lambda x: x

    with pytest.raises(g.GradingError, match="should be a torch.nn.Module"):
        g.check_residual_block(not_a_class, part="shape")


def test_a_replaced_reference_block_is_refused(monkeypatch):
    monkeypatch.setattr(BasicBlock, "forward", lambda self, x: x)
    with pytest.raises(g.GradingError, match="BasicBlock has been replaced"):
        g.check_residual_block(ResidualBlock, part="projection")


# -- the experiment: reported accuracies ---------------------------------------------
@pytest.fixture(scope="module")
def shifted():
    """A batch-norm classifier whose training-mode and evaluation-mode accuracies
    differ: the data are far from the untouched running mean (0)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=gen) + 5
    y = (x[:, 0] > 5).long()
    model = nn.Sequential(nn.BatchNorm1d(2), nn.Linear(2, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
        model[1].bias.zero_()
    return model, x, y


def accuracy(model, x, y, training):
    model.train(training)
    with torch.no_grad():
        return (model(x).argmax(1) == y).double().mean().item()


def test_reported_accuracy_passes_the_measured_number(shifted):
    model, x, y = shifted
    measured = accuracy(model, x, y, training=False)
    result = g.check_reported_accuracy(measured, model, (x, y), min_accuracy=0.0)
    assert result.check == "reported_accuracy"
    # a TensorDataset works too, and a rounded number is accepted
    data = torch.utils.data.TensorDataset(x, y)
    g.check_reported_accuracy(round(measured, 2), model, data, min_accuracy=0.0)


def test_reported_accuracy_catches_numbers_that_are_not_the_networks(shifted):
    model, x, y = shifted
    in_training = accuracy(model, x, y, training=True)
    measured = accuracy(model, x, y, training=False)
    assert abs(in_training - measured) > 0.2
    with pytest.raises(g.GradingError, match="you measured it in training mode"):
        g.check_reported_accuracy(in_training, model, (x, y), min_accuracy=0.0)
    with pytest.raises(g.GradingError, match="measured by the grader"):
        g.check_reported_accuracy(0.99, model, (x, y), min_accuracy=0.0)
    with pytest.raises(g.GradingError, match="divide a percentage by 100"):
        g.check_reported_accuracy(measured * 100, model, (x, y), min_accuracy=0.0)
    with pytest.raises(g.GradingError, match="has not learned"):
        g.check_reported_accuracy(measured, model, (x, y), min_accuracy=0.9)
    with pytest.raises(g.GradingError, match="should be a number"):
        g.check_reported_accuracy("0.5", model, (x, y), min_accuracy=0.0)
    with pytest.raises(g.GradingError, match="torch.nn.Module"):
        g.check_reported_accuracy(measured, {"plain": model}, (x, y), min_accuracy=0)


def test_reported_accuracy_refuses_a_reference_network():
    model = nn.Sequential(BasicBlock(3, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    x, y = torch.randn(4, 3, 6, 6), torch.zeros(4, dtype=torch.long)
    with pytest.raises(g.GradingError, match="cnnlib.models.resnet_blocks.BasicBlock"):
        g.check_reported_accuracy(0.5, model, (x, y), min_accuracy=0.0)
