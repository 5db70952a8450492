"""Shared checks for the model tests: parameter counts and scratch == native."""

import torch

from cnnlib import nn


def count_params(model: torch.nn.Module) -> int:
    """Number of trainable numbers in a model (what papers report)."""
    return sum(p.numel() for p in model.parameters())


def build_on_meta(builder, *args, **kwargs) -> torch.nn.Module:
    """Build a model without allocating its weights: enough to count them."""
    with torch.device("meta"):
        return builder(*args, **kwargs)


def randomize_batch_norm_(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every BatchNorm non-trivial statistics and affine parameters.

    Fresh BN layers have mean 0, variance 1, weight 1, bias 0: in eval mode they
    are the identity, which would make a scratch == native check of BN vacuous.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
    return model


def assert_scratch_matches_native(
    model: torch.nn.Module, shape: tuple[int, ...], atol: float = 1e-9
) -> torch.Tensor:
    """Run an eval-mode model on the scratch ops and on torch's, in float64.

    Returns the native output, so callers can check its shape too.
    """
    model = randomize_batch_norm_(model.double().eval())
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1)).double()
    with torch.no_grad():
        with nn.use_impl("native"):
            expected = model(x)
        with nn.use_impl("scratch"):
            got = model(x)
    assert got.shape == expected.shape
    err = (got - expected).abs().max().item()
    scale = expected.abs().max().item()
    assert err <= atol * max(1.0, scale), f"max abs error {err:.3g} (scale {scale:.3g})"
    return expected


def meta_output_shape(model: torch.nn.Module, shape: tuple[int, ...]) -> torch.Size:
    """Output shape of a model built on the meta device, computed without data.

    Every layer runs its real shape logic (torch's kernels on meta tensors), so a
    138M-parameter VGG answers in milliseconds and with no memory.
    """
    with torch.device("meta"), nn.use_impl("native"):
        return model(torch.empty(shape)).shape
