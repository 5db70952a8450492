"""show_filters on weights, layers and models."""

import numpy as np
import pytest
import torch

from cnnlib.viz import show_filters


def test_rgb_filters_one_patch_each_stretched_to_0_1():
    conv = torch.nn.Conv2d(3, 10, 5)
    fig = show_filters(conv, ncols=4)
    assert len(fig.axes) == 10
    patch = fig.axes[0].get_images()[0].get_array()
    assert patch.shape == (5, 5, 3)
    assert patch.min() == pytest.approx(0) and patch.max() == pytest.approx(1)


def test_per_channel_grid_for_grayscale_and_deeper_layers():
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.ReLU())
    fig = show_filters(model)  # first conv of the model, C_in = 2: channels mode
    assert len(fig.axes) == 4 * 2
    np.testing.assert_allclose(
        fig.axes[3].get_images()[0].get_array(), model[0].weight[1, 1].detach()
    )
    weight = torch.randn(20, 16, 3, 3)
    assert len(show_filters(weight, max_filters=5, max_channels=3).axes) == 15


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="C_in = 3"):
        show_filters(torch.randn(4, 1, 3, 3), mode="rgb")
    with pytest.raises(ValueError, match="no 4-D conv weight"):
        show_filters(torch.nn.Linear(3, 2))
