"""show_images, to_numpy_image and denormalize."""

import numpy as np
import pytest
import torch

from cnnlib.viz import denormalize, show_images, to_numpy_image


def test_grid_has_one_axes_per_image_and_titles_from_labels():
    images = torch.rand(10, 1, 8, 8)
    fig = show_images(images, labels=list(range(10)), ncols=4)
    assert len(fig.axes) == 10
    assert all(len(ax.get_images()) == 1 for ax in fig.axes)
    assert fig.axes[3].get_title() == "3"
    np.testing.assert_allclose(
        fig.axes[3].get_images()[0].get_array(), images[3, 0].numpy(), atol=1e-6
    )


def test_max_images_and_rgb():
    fig = show_images(torch.rand(40, 3, 5, 5), max_images=12)
    assert len(fig.axes) == 12
    assert fig.axes[0].get_images()[0].get_array().shape == (5, 5, 3)


def test_predictions_are_coloured_by_correctness():
    names = ["cat", "dog"]
    fig = show_images(torch.rand(2, 3, 4, 4), [0, 1], [0, 0], class_names=names)
    right, wrong = fig.axes
    assert right.get_title() == "cat (cat)" and wrong.get_title() == "cat (dog)"
    assert right.title.get_color() == "tab:green"
    assert wrong.title.get_color() == "tab:red"


def test_normalised_images_are_shown_in_their_original_range():
    raw = torch.rand(2, 3, 4, 4)
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]
    normalised = (raw - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(
        3, 1, 1
    )
    torch.testing.assert_close(denormalize(normalised, mean, std), raw)
    shown = show_images(normalised, mean=mean, std=std).axes[1].get_images()[0]
    np.testing.assert_allclose(
        shown.get_array(), raw[1].permute(1, 2, 0).numpy(), atol=1e-6
    )


def test_to_numpy_image_shapes_clipping_and_rescale():
    assert to_numpy_image(torch.rand(1, 6, 7)).shape == (6, 7)
    assert to_numpy_image(torch.rand(6, 7)).shape == (6, 7)
    assert to_numpy_image(torch.full((3, 2, 2), 5.0)).max() == 1.0  # clipped
    stretched = to_numpy_image(torch.tensor([[[-2.0, 0.0], [1.0, 2.0]]]), rescale=True)
    np.testing.assert_allclose(stretched, [[0.0, 0.5], [0.75, 1.0]])
    with pytest.raises(ValueError, match="C = 1 or 3"):
        to_numpy_image(torch.rand(4, 5, 5))
