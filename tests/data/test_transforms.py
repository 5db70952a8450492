"""Batched augmentation: geometry, per-sample randomness, masks, devices."""

import pytest
import torch

from cnnlib.data import (
    ColorJitter,
    Compose,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
)


def batch(n: int = 6, channels: int = 3, size: int = 12, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand((n, channels, size, size), generator=g)
    masks = torch.randint(0, 4, (n, size, size), generator=g)
    return images, masks


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("flip", [RandomHorizontalFlip, RandomVerticalFlip])
def test_flip_twice_is_identity_and_p_zero_does_nothing(flip):
    images, masks = batch()
    once, once_masks = flip(p=1.0)(images, masks)
    assert not torch.equal(once, images)
    twice, twice_masks = flip(p=1.0)(once, once_masks)
    assert torch.equal(twice, images) and torch.equal(twice_masks, masks)
    assert torch.equal(flip(p=0.0)(images), images)


def test_flips_mirror_the_right_axis():
    images, _ = batch()
    assert torch.equal(RandomHorizontalFlip(p=1)(images), images.flip(-1))
    assert torch.equal(RandomVerticalFlip(p=1)(images), images.flip(-2))


def test_flip_probability_is_per_sample():
    images = torch.arange(16.0).view(1, 1, 4, 4).repeat(400, 1, 1, 1)
    flipped = RandomHorizontalFlip(p=0.3)(images, generator=seeded())
    share = (flipped[:, 0, 0, 0] == 3).float().mean()
    assert 0.22 < share < 0.38


def test_random_crop_keeps_shape_and_cuts_a_window_of_the_padded_image():
    images, masks = batch(n=8, size=10)
    out, out_masks = RandomCrop(padding=2)(images, masks, generator=seeded())
    assert out.shape == images.shape and out_masks.shape == masks.shape
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    padded_masks = torch.nn.functional.pad(masks, (2, 2, 2, 2))
    offsets = set()
    for n in range(len(images)):
        matches = [
            (top, left)
            for top in range(5)
            for left in range(5)
            if torch.equal(out[n], padded[n, :, top : top + 10, left : left + 10])
        ]
        assert len(matches) == 1
        top, left = matches[0]
        assert torch.equal(
            out_masks[n], padded_masks[n, top : top + 10, left : left + 10]
        )
        offsets.add(matches[0])
    assert len(offsets) > 1  # each sample draws its own offset


def test_random_crop_to_a_smaller_size_and_reflect_padding():
    images, masks = batch(size=12)
    out, out_masks = RandomCrop(size=8, padding=0)(images, masks)
    assert out.shape == (6, 3, 8, 8) and out_masks.shape == (6, 8, 8)
    reflected = RandomCrop(padding=3, padding_mode="reflect")(images)
    assert reflected.shape == images.shape
    with pytest.raises(ValueError, match="RandomCrop: padding_mode"):
        RandomCrop(padding_mode="wrap")


def test_rotation_by_zero_is_identity():
    images, masks = batch()
    out, out_masks = RandomAffine(degrees=0)(images, masks)
    assert torch.allclose(out, images, atol=1e-5)
    assert torch.equal(out_masks, masks)


def test_rotation_by_90_degrees_turns_counter_clockwise():
    images, masks = batch(size=8)
    out, out_masks = RandomRotation(degrees=(90, 90))(images, masks)
    assert torch.allclose(out, torch.rot90(images, 1, dims=(-2, -1)), atol=1e-5)
    assert torch.equal(out_masks, torch.rot90(masks, 1, dims=(-2, -1)))


def test_zoom_enlarges_a_centred_square():
    images = torch.zeros(1, 1, 16, 16)
    images[..., 6:10, 6:10] = 1
    zoomed = RandomAffine(scale=(2.0, 2.0))(images)
    assert torch.allclose(zoomed.sum(), images.sum() * 4, rtol=0.1)


def test_translation_moves_content_by_at_most_the_range():
    images = torch.zeros(50, 1, 20, 20)
    images[..., 10, 10] = 1
    moved = RandomAffine(translate=(0.1, 0.1))(images, generator=seeded())
    columns = (moved[:, 0].sum(1) * torch.arange(20)).sum(1) / moved[:, 0].sum((1, 2))
    assert (columns - 10).abs().max() <= 2 + 1e-4  # 0.1 * 20 pixels
    assert (columns - 10).abs().max() > 1  # and it does move


def test_affine_masks_stay_valid_integer_labels_aligned_with_images():
    masks = torch.zeros(4, 32, 32, dtype=torch.long)
    masks[:, 8:24, 8:24] = 2
    masks[:, 12:20, 12:20] = 3
    images = masks[:, None].float().repeat(1, 3, 1, 1)  # the mask, drawn as colour
    augment = RandomAffine(degrees=30, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=10)
    out, out_masks = augment(images, masks, generator=seeded())
    assert out_masks.dtype == torch.int64
    assert set(out_masks.unique().tolist()) <= {0, 2, 3}
    agree = (out[:, 0].round().long() == out_masks).float().mean()
    assert agree > 0.95  # bilinear and nearest differ only along edges


def test_same_seed_reproduces_and_samples_differ():
    images = torch.rand(1, 3, 16, 16).repeat(8, 1, 1, 1)  # 8 copies of one image
    augment = [
        RandomHorizontalFlip(),
        RandomAffine(degrees=20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
        ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3),
    ]
    first = Compose(augment, seed=0)(images)
    again = Compose(augment, seed=0)(images)
    other = Compose(augment, seed=1)(images)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    distinct = {tuple(x.flatten()[:20].tolist()) for x in first}
    assert len(distinct) == len(images)  # every copy got its own parameters
    # A Compose's own generator advances: the next batch is augmented differently.
    composed = Compose(augment, seed=0)
    assert not torch.equal(composed(images), composed(images))


def test_labels_pass_through_and_bad_inputs_are_named():
    images, _ = batch()
    labels = torch.arange(6)
    out, out_labels = RandomRotation(10)(images, labels)
    assert out_labels is labels
    with pytest.raises(
        ValueError, match=r"RandomRotation: images must .*\(N, C, H, W\)"
    ):
        RandomRotation(10)(images[0])
    with pytest.raises(ValueError, match="RandomCrop: targets must be labels"):
        RandomCrop()(images, torch.zeros(6, 5))
    with pytest.raises(ValueError, match="RandomAffine: degrees must be >= 0"):
        RandomAffine(degrees=-1)
    with pytest.raises(ValueError, match="ColorJitter: pass both mean and std"):
        ColorJitter(brightness=0.1, mean=[0.5, 0.5, 0.5])


def test_color_jitter_stays_in_range_and_zero_amounts_do_nothing():
    images, masks = batch()
    jittered, same_masks = ColorJitter(0.5, 0.5, 0.5)(images, masks, generator=seeded())
    assert jittered.min() >= 0 and jittered.max() <= 1
    assert torch.equal(same_masks, masks)  # photometric: masks untouched
    assert not torch.allclose(jittered, images)
    assert torch.allclose(ColorJitter()(images), images, atol=1e-6)


def test_saturation_leaves_grey_images_grey_and_needs_rgb():
    grey = torch.rand(4, 1, 8, 8).repeat(1, 3, 1, 1)
    out = ColorJitter(saturation=0.9)(grey, generator=seeded())
    assert torch.allclose(out, grey, atol=1e-6)
    with pytest.raises(ValueError, match="ColorJitter: saturation needs RGB"):
        ColorJitter(saturation=0.5)(torch.rand(2, 1, 4, 4))


def test_brightness_scales_each_image_by_its_own_factor():
    images = torch.full((100, 3, 4, 4), 0.5)
    out = ColorJitter(brightness=0.4)(images, generator=seeded())
    factors = out[:, 0, 0, 0] / 0.5
    assert torch.allclose(out, factors.view(-1, 1, 1, 1) * 0.5)
    assert 0.6 - 1e-6 <= factors.min() and factors.max() <= 1.4 + 1e-6
    assert factors.std() > 0.1


def test_normalize_and_jitter_on_standardised_batches():
    images, _ = batch(n=64)
    mean, std = images.mean(dim=(0, 2, 3)), images.std(dim=(0, 2, 3))
    normalized = Normalize(mean, std)(images)
    assert torch.allclose(normalized.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(normalized.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5)
    # Jitter of a standardised batch = standardised jitter of the raw batch.
    raw = ColorJitter(0.3, 0.3, 0.3)(images, generator=seeded())
    via = ColorJitter(0.3, 0.3, 0.3, mean=mean, std=std)(normalized, generator=seeded())
    assert torch.allclose(via, Normalize(mean, std)(raw), atol=1e-5)


def test_transforms_run_on_the_device_with_the_same_parameters(device):
    images, masks = batch()
    augment = Compose(
        [
            RandomCrop(padding=2),
            RandomHorizontalFlip(),
            RandomAffine(15),
            ColorJitter(0.2),
        ]
    )
    cpu_out, cpu_masks = augment(images, masks, generator=seeded())
    out, out_masks = augment(images.to(device), masks.to(device), generator=seeded())
    assert out.device.type == device.type and out_masks.device.type == device.type
    assert torch.allclose(out.cpu(), cpu_out, atol=1e-4)
    assert (out_masks.cpu() != cpu_masks).float().mean() < 0.01
