"""saliency, class_activation_map and show_heatmaps."""

import pytest
import torch

from cnnlib import nn as cnn
from cnnlib.viz import class_activation_map, saliency, show_heatmaps


def gap_net() -> torch.nn.Sequential:
    """conv -> AdaptiveAvgPool2d(1) -> Flatten -> Linear, as in the CAM paper."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 3),
    )


def test_saliency_is_the_absolute_input_gradient_max_over_channels():
    torch.manual_seed(0)
    linear = torch.nn.Linear(3 * 4 * 4, 5)
    model = torch.nn.Sequential(torch.nn.Flatten(), linear)
    x = torch.randn(2, 3, 4, 4)
    maps = saliency(model, x, target=[1, 4])
    assert maps.shape == (2, 4, 4) and (maps >= 0).all()
    # For a linear model the gradient of score c is the weight row c.
    expected = linear.weight[4].detach().view(3, 4, 4).abs().amax(dim=0)
    torch.testing.assert_close(maps[1], expected)
    assert linear.weight.grad is None  # the model's gradients are untouched


def test_saliency_defaults_to_the_predicted_class():
    model = gap_net()
    x = torch.randn(3, 3, 6, 6)
    predicted = model(x).argmax(1)
    torch.testing.assert_close(saliency(model, x), saliency(model, x, predicted))


def test_cam_equals_the_weighted_sum_of_feature_maps_computed_by_hand():
    model = gap_net()
    x = torch.randn(2, 3, 6, 6)
    cam = class_activation_map(model, x, target=[0, 2], upsample=False)
    with torch.no_grad():
        f = model[1](model[0](x))  # (N, K=4, 6, 6), the maps entering the GAP
        weight = model[4].weight
        by_hand = torch.stack(
            [
                sum(weight[0, k] * f[0, k] for k in range(4)),
                sum(weight[2, k] * f[1, k] for k in range(4)),
            ]
        )
        scores = model(x)
    torch.testing.assert_close(cam, by_hand)
    # The CAM property: the map's mean is the class score without its bias.
    torch.testing.assert_close(cam[1].mean(), scores[1, 2] - model[4].bias[2])


def test_cam_upsamples_to_the_input_and_accepts_explicit_layers():
    model = gap_net()
    x = torch.randn(2, 3, 6, 6)
    explicit = class_activation_map(
        model, x, 1, features="1", classifier=model[4], upsample=False
    )
    torch.testing.assert_close(
        explicit, class_activation_map(model, x, 1, upsample=False)
    )
    assert class_activation_map(model, x).shape == (2, 6, 6)


def test_cam_finds_cnnlib_layers_and_nin_style_heads():
    torch.manual_seed(0)
    model = cnn.Sequential(
        cnn.Conv2d(3, 4, 3, padding=1),
        cnn.ReLU(),
        cnn.AdaptiveAvgPool2d(1),
        cnn.Flatten(),
        cnn.Linear(4, 2),
    )
    x = torch.randn(1, 3, 5, 5)
    with torch.no_grad():
        f = model[1](model[0](x))
    expected = torch.einsum("k,khw->hw", model[4].weight[1].detach(), f[0])
    torch.testing.assert_close(
        class_activation_map(model, x, 1, upsample=False)[0], expected
    )
    nin_head = torch.nn.Sequential(
        torch.nn.Conv2d(3, 5, 1), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    with torch.no_grad():
        class_maps = nin_head[0](x)
    torch.testing.assert_close(
        class_activation_map(nin_head, x, 3, upsample=False)[0], class_maps[0, 3]
    )


def test_cam_without_gap_or_with_mismatched_layers_explains():
    flat = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    with pytest.raises(ValueError, match="no AdaptiveAvgPool2d"):
        class_activation_map(flat, torch.randn(1, 3, 2, 2))
    deeper = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3),
        torch.nn.Conv2d(6, 4, 1),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 3),
    )
    with pytest.raises(ValueError, match="K=6"):  # "0" is not the last conv
        class_activation_map(deeper, torch.randn(1, 3, 6, 6), features="0")


def test_show_heatmaps_overlays_one_map_per_image():
    images = torch.rand(3, 3, 6, 6)
    maps = saliency(gap_net(), images)
    fig = show_heatmaps(images, maps, titles=["a", "b", "c"])
    assert len(fig.axes) == 3
    assert all(len(ax.get_images()) == 2 for ax in fig.axes)  # image + heat map
    heat = fig.axes[0].get_images()[1].get_array()
    assert heat.min() == pytest.approx(0) and heat.max() == pytest.approx(1)
    with pytest.raises(ValueError, match="maps must be"):
        show_heatmaps(images, maps[:2])
