"""overlay_mask colours, legend and panels."""

import numpy as np
import pytest
import torch

from cnnlib.viz import class_colors, mask_to_rgb, overlay_mask


def scene():
    image = torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(6, 6, dtype=torch.long)
    mask[1:3, 1:3] = 1
    mask[4:, 4:] = 2
    return image, mask


def test_pixels_take_their_class_colour_and_background_stays():
    image, mask = scene()
    fig = overlay_mask(image, mask, class_names=["bg", "disc", "bar"], alpha=0.4)
    shown = fig.axes[0].get_images()[0].get_array()
    rgb = image.permute(1, 2, 0).numpy()
    colors = class_colors(3)
    np.testing.assert_allclose(shown[1, 1], 0.6 * rgb[1, 1] + 0.4 * colors[1])
    np.testing.assert_allclose(shown[5, 5], 0.6 * rgb[5, 5] + 0.4 * colors[2])
    np.testing.assert_allclose(shown[0, 0], rgb[0, 0])  # background uncoloured
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["disc", "bar"]


def test_prediction_panel_from_scores_and_colouring_every_class():
    image, mask = scene()
    scores = torch.nn.functional.one_hot(mask, 3).permute(2, 0, 1).float()  # (C, H, W)
    fig = overlay_mask(image[:1], mask, scores, background=None)
    assert [ax.get_title() for ax in fig.axes] == ["ground truth", "prediction"]
    truth, predicted = (ax.get_images()[0].get_array() for ax in fig.axes)
    np.testing.assert_allclose(truth, predicted)  # perfect prediction
    assert len(fig.legends[0].get_texts()) == 3


def test_colours_are_distinct_and_masks_paint():
    colors = class_colors(10)
    assert len({tuple(c) for c in colors}) == 10
    _, mask = scene()
    painted = mask_to_rgb(mask, colors)
    assert painted.shape == (6, 6, 3)
    np.testing.assert_allclose(painted[1, 1], colors[1])
    with pytest.raises(ValueError, match="mask must be"):
        overlay_mask(torch.rand(3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))


def test_blend_stays_in_the_unit_range():
    # an image that rounding (resizing, denormalising) left a hair above 1
    from cnnlib.viz.segmentation import blend_mask

    image = np.full((2, 2, 3), 1 + 1e-7)
    blended = blend_mask(
        image, torch.ones(2, 2, dtype=torch.long), np.ones((2, 3)), 0.3
    )
    assert blended.max() <= 1.0 and blended.min() >= 0.0
