"""Procedural colour images of shapes and textures, for image classification.

Each image shows one object whose *shape or texture* is the class (circle, star,
stripes, ...), drawn at a random position, size and rotation, in a random colour,
over a random colour gradient with small distracting marks and pixel noise. Colour,
position and size are drawn independently of the class, so the only cue is the local
spatial structure of the object: exactly what convolutions are built to detect and
what a multilayer perceptron on raw pixels finds hard (it has to learn the same
pattern separately at every position).

Every class looks the same after any rotation or mirror image, so flips and rotations
are label-preserving augmentations here.

The generator is vectorised tensor code: it draws every random number from its own
seeded ``torch.Generator`` on the CPU (so the images do not depend on the device or on
the global random state), then renders on any device. On two CPU cores it makes
10,000 images of 32x32 in about a second.
"""

import math

import torch
from torch import Tensor

from cnnlib.data import draw
from cnnlib.data.splits import DatasetSplits, make_splits

SHAPE_CLASSES = (
    "circle",
    "square",
    "triangle",
    "star",
    "cross",
    "ring",
    "frame",
    "crescent",
    "stripes",
    "checkerboard",
)

_CLUTTER = 4  # distractor slots per image, each used with probability 1/2


def make_shapes(
    n: int,
    size: int = 32,
    seed: int = 0,
    *,
    noise: float = 0.06,
    clutter: bool = True,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor, list[str]]:
    """Generate n labelled images of the 10 shape/texture classes.

    Args:
        n: number of images; classes are balanced (counts differ by at most 1).
        size: image height and width in pixels (any size; 32 and 64 are typical).
            The same seed draws the same scenes at every size.
        seed: seed of the private random generator; same seed, same tensors.
        noise: largest standard deviation of the Gaussian pixel noise (each image
            draws its own between 0 and this value).
        clutter: draw small random lines and dots in the background.
        device: where to render (default CPU); results are the same everywhere up
            to float rounding.

    Returns:
        images: (N, 3, H, W) float32 RGB in [0, 1].
        labels: (N,) int64 in [0, 10).
        classes: the class names, ``classes[label]``.

    Example:
        >>> images, labels, classes = make_shapes(1000, size=32, seed=0)
    """
    if n < 1 or size < 8:
        raise ValueError(f"make_shapes: need n >= 1 and size >= 8, got {n=}, {size=}")
    device = torch.device(device or "cpu")
    g = torch.Generator().manual_seed(seed)
    k = len(SHAPE_CLASSES)
    labels = (torch.arange(n) % k)[torch.randperm(n, generator=g)]
    params = _draw_parameters(n, labels, noise, clutter, g)
    chunks = []
    chunk = draw.chunk_size(size, device)  # bounds memory; results do not depend on it
    for start in range(0, n, chunk):
        part = {name: p[start : start + chunk].to(device) for name, p in params.items()}
        gaussian = draw.pixel_noise(len(part["label"]), size, g)
        chunks.append(_render(part, gaussian.to(device), size))
    return torch.cat(chunks), labels.to(device), list(SHAPE_CLASSES)


def shapes_splits(
    n: int = 12_000,
    size: int = 32,
    seed: int = 0,
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    normalize: bool = True,
    flatten: bool = False,
    device: torch.device | str | None = None,
) -> DatasetSplits:
    """:func:`make_shapes` cut into stratified train/val/test splits.

    Defaults: 12,000 images, 70% / 15% / 15%, statistics from the training split.
    """
    images, labels, classes = make_shapes(n, size, seed, device=device)
    return make_splits(
        images,
        labels,
        classes,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        normalize=normalize,
        flatten=flatten,
    )


def _draw_parameters(
    n: int, labels: Tensor, noise: float, clutter: bool, g: torch.Generator
) -> dict[str, Tensor]:
    """Every random choice of every image, drawn in a fixed order from g."""

    def uniform(low: float, high: float, *shape: int) -> Tensor:
        return low + (high - low) * torch.rand((n, *shape), generator=g)

    scale = uniform(0.32, 0.6)
    # Keep the object inside the frame: its centre stays `scale` away from edges.
    centre = uniform(-1, 1, 2) * (1 - scale)[:, None]
    background = torch.rand((n, 2, 3), generator=g)  # two ends of a gradient
    background[:, 1] = (background[:, 0] + uniform(-0.25, 0.25, 3)).clamp(0, 1)
    return {
        "label": labels,
        "scale": scale,
        "centre": centre,
        "angle": uniform(0, 2 * math.pi),
        "period": uniform(0.55, 0.75),  # of the stripes and checkerboard textures
        "background": background,
        "gradient": uniform(0, 2 * math.pi),  # direction of the background gradient
        "colour": draw.contrasting_colour(background.mean(dim=1), g),
        "noise": uniform(0, noise),
        # Clutter: a line segment (two end points) or a dot, in a random colour.
        "clutter_on": torch.rand((n, _CLUTTER), generator=g) < (0.5 if clutter else 0),
        "clutter_is_dot": torch.rand((n, _CLUTTER), generator=g) < 0.5,
        "clutter_ends": uniform(-1, 1, _CLUTTER, 2, 2),
        "clutter_width": uniform(0.025, 0.09, _CLUTTER),
        "clutter_colour": torch.rand((n, _CLUTTER, 3), generator=g),
    }


def _render(p: dict[str, Tensor], pixel_noise: Tensor, size: int) -> Tensor:
    """Draw the images described by the parameters p: (N, 3, H, W) in [0, 1]."""
    n = len(p["label"])
    pixel = 2 / size
    y, x = draw.pixel_grid(size, pixel_noise.device)  # (H, W) each

    # Background: a linear colour gradient in a random direction.
    direction = p["gradient"][:, None, None]
    t = 0.5 + 0.5 * (x * torch.cos(direction) + y * torch.sin(direction))  # (N, H, W)
    start, end = p["background"][:, 0], p["background"][:, 1]  # (N, 3) each
    image = start[:, :, None, None] + t[:, None] * (end - start)[:, :, None, None]

    # Clutter under the object: thin segments and small dots, ignored by the label.
    for slot in range(_CLUTTER):
        a, b = p["clutter_ends"][:, slot, 0], p["clutter_ends"][:, slot, 1]  # (N, 2)
        # A dot is a segment of zero length; a line is at most 0.7 long.
        b = torch.where(p["clutter_is_dot"][:, slot, None], a, a + 0.35 * (b - a))
        width = p["clutter_width"][:, slot]
        sdf = draw.segment_distance(y, x, a, b) - width[:, None, None]
        alpha = draw.coverage(sdf, pixel) * p["clutter_on"][:, slot, None, None]
        image = draw.blend(image, p["clutter_colour"][:, slot], alpha)

    # The object, whose shape or texture is the class.
    v, u = draw.to_local(
        y, x, p["centre"][:, 0], p["centre"][:, 1], p["angle"], p["scale"]
    )
    unit = p["scale"][:, None, None]  # one shape unit in image units
    sdf = torch.empty((n, size, size), device=image.device)
    for label, name in enumerate(SHAPE_CLASSES):
        idx = torch.nonzero(p["label"] == label).flatten()
        if len(idx) > 0:
            sdf[idx] = _shape_sdf(name, v[idx], u[idx], p["period"][idx]) * unit[idx]
    alpha = draw.coverage(sdf, pixel)
    image = draw.blend(image, p["colour"], alpha)

    image = image + p["noise"][:, None, None, None] * pixel_noise
    return image.clamp(0, 1)


def _shape_sdf(name: str, v: Tensor, u: Tensor, period: Tensor) -> Tensor:
    """Signed distance (shape units) of the named class's unit shape, (N, H, W)."""
    if name == "circle":
        return draw.sdf_circle(v, u, 0.9)
    if name == "square":
        return draw.sdf_box(v, u, 0.75, 0.75)
    if name == "triangle":
        return draw.sdf_polygon(v, u, sides=3, radius=1.0)
    if name == "star":
        return draw.sdf_star(v, u, points=5, inner=0.45)
    if name == "cross":
        return draw.sdf_cross(v, u, arm=0.3)
    if name == "ring":
        return draw.sdf_ring(v, u, thickness=0.22)
    if name == "frame":
        return draw.sdf_frame(v, u, thickness=0.18)
    if name == "crescent":
        return draw.sdf_crescent(v, u, shift=0.45)
    # Textures fill a disk: stripes, or the cells where two stripe sets disagree.
    period = period[:, None, None]
    disk = draw.sdf_circle(v, u, 0.95)
    across = draw.sdf_stripes(u, period)
    if name == "stripes":
        return torch.maximum(disk, across)
    if name == "checkerboard":
        along = draw.sdf_stripes(v, period)
        # XOR of two stripe sets: inside where exactly one of them is filled.
        checker = torch.minimum(
            torch.maximum(across, -along), torch.maximum(-across, along)
        )
        return torch.maximum(disk, checker)
    raise ValueError(f"_shape_sdf: unknown class {name!r}")
