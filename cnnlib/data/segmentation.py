"""Procedural scenes of overlapping shapes with per-pixel masks, for segmentation.

Each image holds one to four objects (disks, rectangles, triangles) at random
positions, sizes, rotations and colours, each with a faint stripe texture, over a
textured colour gradient, with pixel noise. Objects are painted one after the other,
so later ones hide earlier ones; the mask is painted the same way, so it always shows
the visible object at each pixel. Colours and textures are independent of the class:
a network has to recognise the *shape* (round, straight-edged with right angles, or
pointed) from the pixels around it.

As in :mod:`cnnlib.data.shapes`, every random number comes from a private seeded
CPU generator, and rendering is vectorised tensor code on any device.
"""

import math

import torch
from torch import Tensor

from cnnlib.data import draw
from cnnlib.data.splits import DatasetSplits, make_splits

SEGMENTATION_CLASSES = ("background", "disk", "rectangle", "triangle")


def make_segmentation(
    n: int,
    size: int = 64,
    seed: int = 0,
    *,
    max_objects: int = 4,
    noise: float = 0.05,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor, list[str]]:
    """Generate n images of overlapping shapes and their segmentation masks.

    Args:
        n: number of images.
        size: image height and width in pixels; the same seed draws the same
            scenes at every size.
        seed: seed of the private random generator; same seed, same tensors.
        max_objects: objects per image are 1 + Binomial(max_objects - 1, 0.75).
        noise: largest standard deviation of the Gaussian pixel noise.
        device: where to render (default CPU).

    Returns:
        images: (N, 3, H, W) float32 RGB in [0, 1].
        masks: (N, H, W) int64, 0 = background, k = ``classes[k]``.
        classes: ``["background", "disk", "rectangle", "triangle"]``.

    Example:
        >>> images, masks, classes = make_segmentation(500, size=64, seed=0)
    """
    if n < 1 or size < 8 or max_objects < 1:
        raise ValueError(
            "make_segmentation: need n >= 1, size >= 8 and max_objects >= 1, got "
            f"{n=}, {size=}, {max_objects=}"
        )
    device = torch.device(device or "cpu")
    g = torch.Generator().manual_seed(seed)
    params = _draw_parameters(n, max_objects, noise, g)
    images, masks = [], []
    chunk = draw.chunk_size(size, device)  # bounds memory; results do not depend on it
    for start in range(0, n, chunk):
        part = {key: p[start : start + chunk].to(device) for key, p in params.items()}
        gaussian = draw.pixel_noise(len(part["noise"]), size, g)
        image, mask = _render(part, gaussian.to(device), size)
        images.append(image)
        masks.append(mask)
    return torch.cat(images), torch.cat(masks), list(SEGMENTATION_CLASSES)


def segmentation_splits(
    n: int = 3_000,
    size: int = 64,
    seed: int = 0,
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    normalize: bool = True,
    device: torch.device | str | None = None,
) -> DatasetSplits:
    """:func:`make_segmentation` cut into random train/val/test splits.

    Defaults: 3,000 images of 64x64, 70% / 15% / 15%; the datasets hold
    (images (N, 3, H, W), masks (N, H, W)).
    """
    images, masks, classes = make_segmentation(n, size, seed, device=device)
    return make_splits(
        images,
        masks,
        classes,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        normalize=normalize,
    )


def _draw_parameters(
    n: int, slots: int, noise: float, g: torch.Generator
) -> dict[str, Tensor]:
    """Every random choice of every image, drawn in a fixed order from g."""

    def uniform(low: float, high: float, *shape: int) -> Tensor:
        return low + (high - low) * torch.rand((n, *shape), generator=g)

    present = torch.rand((n, slots), generator=g) < 0.75
    present[:, 0] = True  # at least one object per image
    background = torch.rand((n, 2, 3), generator=g)  # two ends of a gradient
    background[:, 1] = (background[:, 0] + uniform(-0.3, 0.3, 3)).clamp(0, 1)
    reference = background.mean(dim=1)
    colours = [draw.contrasting_colour(reference, g, 0.4) for _ in range(slots)]
    return {
        "present": present,
        "kind": torch.randint(1, len(SEGMENTATION_CLASSES), (n, slots), generator=g),
        "centre": uniform(-0.85, 0.85, slots, 2),
        "scale": uniform(0.17, 0.38, slots),
        "angle": uniform(0, 2 * math.pi, slots),
        "half_width": uniform(0.4, 1.1, slots),  # rectangles; half-height is 0.75
        "colour": torch.stack(colours, dim=1),  # (N, slots, 3)
        # Faint stripes on each object and on the background: texture, not class.
        "texture": uniform(0, 0.25, slots + 1),  # amplitude
        "period": uniform(0.15, 0.5, slots + 1),
        "texture_angle": uniform(0, 2 * math.pi, slots + 1),
        "background": background,
        "gradient": uniform(0, 2 * math.pi),
        "noise": uniform(0, noise),
    }


def _render(
    p: dict[str, Tensor], pixel_noise: Tensor, size: int
) -> tuple[Tensor, Tensor]:
    """Draw images (N, 3, H, W) and masks (N, H, W) described by the parameters p."""
    n, slots = p["kind"].shape
    pixel = 2 / size
    y, x = draw.pixel_grid(size, pixel_noise.device)  # (H, W) each

    direction = p["gradient"][:, None, None]
    t = 0.5 + 0.5 * (x * torch.cos(direction) + y * torch.sin(direction))  # (N, H, W)
    start, end = p["background"][:, 0], p["background"][:, 1]  # (N, 3) each
    image = start[:, :, None, None] + t[:, None] * (end - start)[:, :, None, None]
    image = image * _stripes(y, x, p, slot=slots)[:, None]
    mask = torch.zeros((n, size, size), dtype=torch.long, device=image.device)

    # Paint objects in slot order: a later object hides an earlier one, in the image
    # and in the mask alike.
    for slot in range(slots):
        centre, scale = p["centre"][:, slot], p["scale"][:, slot]
        v, u = draw.to_local(
            y, x, centre[:, 0], centre[:, 1], p["angle"][:, slot], scale
        )
        kind = p["kind"][:, slot]
        half_width = p["half_width"][:, slot, None, None]  # (N, 1, 1)
        sdf = torch.where(
            (kind == 1)[:, None, None],
            draw.sdf_circle(v, u),
            torch.where(
                (kind == 2)[:, None, None],
                draw.sdf_box(v, u, half_width, 0.75),
                draw.sdf_polygon(v, u, sides=3, radius=1.25),
            ),
        )
        alpha = draw.coverage(sdf * scale[:, None, None], pixel)
        alpha = alpha * p["present"][:, slot, None, None]
        fill = p["colour"][:, slot, :, None, None] * _stripes(y, x, p, slot)[:, None]
        image = draw.blend(image, fill, alpha)
        # A pixel belongs to the object when more than half of it is covered.
        mask = torch.where(alpha > 0.5, kind[:, None, None], mask)

    image = image + p["noise"][:, None, None, None] * pixel_noise
    return image.clamp(0, 1), mask


def _stripes(y: Tensor, x: Tensor, p: dict[str, Tensor], slot: int) -> Tensor:
    """Multiplicative stripe texture of one slot, (N, H, W), values around 1."""
    angle = p["texture_angle"][:, slot, None, None]
    across = x * torch.cos(angle) + y * torch.sin(angle)
    wave = torch.sin(2 * math.pi * across / p["period"][:, slot, None, None])
    return 1 + p["texture"][:, slot, None, None] * wave
