"""feature_maps and show_feature_maps via forward hooks."""

import pytest
import torch

from cnnlib.viz import feature_maps, find_layer, show_feature_maps


def net() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 5, 3),
        torch.nn.Dropout(0.5),
    )


def test_shapes_by_name_and_by_module_and_values():
    model = net()
    x = torch.randn(2, 3, 10, 10)
    assert feature_maps(model, "0", x).shape == (2, 6, 10, 10)
    assert feature_maps(model, model[2], x).shape == (2, 6, 5, 5)
    assert feature_maps(model, "3", x[0]).shape == (1, 5, 3, 3)  # one image
    expected = torch.relu(model[0](x))
    torch.testing.assert_close(feature_maps(model, "1", x), expected)


def test_eval_mode_during_capture_and_mode_restored():
    model = net().train()
    x = torch.randn(1, 3, 10, 10)
    first = feature_maps(model, "4", x)
    assert torch.equal(first, feature_maps(model, "4", x))  # dropout off
    assert model.training


def test_hooks_are_removed():
    model = net()
    feature_maps(model, "0", torch.randn(1, 3, 10, 10))
    assert all(not m._forward_hooks for m in model.modules())


def test_unknown_layer_lists_names():
    with pytest.raises(KeyError, match="no layer named 'conv9'.*'0'"):
        find_layer(net(), "conv9")
    with pytest.raises(ValueError, match="not in the model"):
        find_layer(net(), torch.nn.ReLU())


def test_show_feature_maps_one_axes_per_channel():
    model = net()
    fig = show_feature_maps(model, "0", torch.randn(3, 10, 10))
    assert len(fig.axes) == 6
    assert (
        len(show_feature_maps(model, "0", torch.randn(2, 3, 10, 10), max_maps=4).axes)
        == 4
    )
    with pytest.raises(ValueError, match="conv or pool"):
        flat = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
        show_feature_maps(flat, "1", torch.randn(3, 2, 2))
