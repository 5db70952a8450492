"""make_segmentation: deterministic scenes whose masks follow the painting order."""

import math

import torch

import cnnlib.data.segmentation as segmentation
from cnnlib.data import SEGMENTATION_CLASSES, make_segmentation, segmentation_splits


def test_images_and_masks_shapes_types_and_labels():
    images, masks, classes = make_segmentation(60, size=48, seed=0)
    assert images.shape == (60, 3, 48, 48) and images.dtype == torch.float32
    assert masks.shape == (60, 48, 48) and masks.dtype == torch.int64
    assert classes == list(SEGMENTATION_CLASSES) and len(classes) >= 4
    assert images.min() >= 0 and images.max() <= 1
    assert set(masks.unique().tolist()) == set(range(len(classes)))
    foreground = (masks > 0).float().mean()
    assert 0.05 < foreground < 0.4  # objects present, background still dominant
    assert ((masks > 0).flatten(1).any(dim=1)).all()  # every image has an object


def test_same_seed_same_tensors_whatever_the_global_rng():
    torch.manual_seed(0)
    a = make_segmentation(10, seed=4)
    torch.manual_seed(1)
    b = make_segmentation(10, seed=4)
    c = make_segmentation(10, seed=5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_renders_on_any_device(device):
    images, masks, _ = make_segmentation(8, size=32, seed=1, device=device)
    cpu_images, cpu_masks, _ = make_segmentation(8, size=32, seed=1)
    assert masks.device.type == device.type
    assert torch.allclose(images.cpu(), cpu_images, atol=1e-4)
    # Coverage exactly at 0.5 may round differently on another device.
    assert (masks.cpu() != cpu_masks).float().mean() < 0.001


def _two_objects(first_kind: int, second_kind: int) -> dict[str, torch.Tensor]:
    """Hand-made parameters: a big object, then a smaller one over its centre."""
    return {
        "present": torch.tensor([[True, True]]),
        "kind": torch.tensor([[first_kind, second_kind]]),
        "centre": torch.tensor([[[0.0, 0.0], [0.0, 0.3]]]),
        "scale": torch.tensor([[0.6, 0.3]]),
        "angle": torch.zeros(1, 2),
        "half_width": torch.ones(1, 2),
        "colour": torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]),
        "texture": torch.zeros(1, 3),
        "period": torch.ones(1, 3),
        "texture_angle": torch.zeros(1, 3),
        "background": torch.zeros(1, 2, 3),
        "gradient": torch.zeros(1),
        "noise": torch.zeros(1),
    }


def test_later_objects_occlude_earlier_ones_in_image_and_mask():
    size = 32
    params = _two_objects(first_kind=2, second_kind=1)  # rectangle, then disk
    image, mask = segmentation._render(params, torch.zeros(1, 3, size, size), size)
    centre = (size // 2, size // 2 + 2)  # inside the disk (x = 0.3 * 16 px right)
    assert mask[0, centre[0], centre[1]] == 1
    assert torch.allclose(image[0, :, centre[0], centre[1]], torch.tensor([0.0, 0, 1]))
    left = (size // 2, size // 2 - 6)  # in the rectangle, away from the disk
    assert mask[0, left[0], left[1]] == 2
    assert torch.allclose(image[0, :, left[0], left[1]], torch.tensor([1.0, 0, 0]))
    assert mask[0, 0, 0] == 0
    # Swapping the order hides the disk entirely under the bigger rectangle.
    params = _two_objects(first_kind=1, second_kind=2)
    params["scale"] = params["scale"].flip(1)
    params["centre"] = params["centre"].flip(1)
    _, mask = segmentation._render(params, torch.zeros(1, 3, size, size), size)
    assert (mask[0] != 1).all()


def test_mask_agrees_with_the_drawn_shape_area():
    # One object per image: mask area close to the shape's analytic area.
    images, masks, _ = make_segmentation(200, size=64, seed=3, max_objects=1)
    g = torch.Generator().manual_seed(3)
    params = segmentation._draw_parameters(200, 1, 0.05, g)
    kind, scale = params["kind"][:, 0], params["scale"][:, 0]
    inside = params["centre"][:, 0].abs().max(dim=1).values + scale < 1  # unclipped
    disks = (kind == 1) & inside
    assert disks.sum() > 20
    area = (masks[disks] == 1).flatten(1).sum(1).float()
    expected = math.pi * (scale[disks] * 32) ** 2  # radius in pixels
    assert ((area - expected).abs() / expected).max() < 0.1


def test_segmentation_splits_keep_masks_aligned():
    splits = segmentation_splits(n=40, size=32, seed=0)
    images, masks = splits.train.tensors
    assert masks.shape == (len(images), 32, 32) and masks.dtype == torch.int64
    assert splits.num_classes == 4
    total = len(splits.train) + len(splits.val) + len(splits.test)
    assert total == 40
