"""Vectorised drawing with signed distance functions (SDFs), for procedural datasets.

A shape is described by its signed distance function: negative inside, zero on the
outline, positive outside. Drawing N shapes at once is then plain tensor arithmetic
on a pixel grid, the same on CPU and GPU, and the distance gives anti-aliasing for
free: a pixel whose centre lies on the outline is half covered.

Coordinates: the image spans [-1, 1] in both directions (y down, x right), so a
shape drawn at 32x32 and at 64x64 is the same picture at two resolutions. Each shape
is defined in its own "unit" frame (radius about 1) and placed with a centre, a
rotation and a scale by :func:`to_local`.

Reference: Inigo Quilez, "2D distance functions",
https://iquilezles.org/articles/distfunctions2d/
"""

import math

import torch
from torch import Tensor


def pixel_grid(
    size: int, device: torch.device | str | None = None
) -> tuple[Tensor, Tensor]:
    """Coordinates of the pixel centres of a size x size image, in [-1, 1].

    Returns:
        (y, x), each of shape (H, W) with H = W = size.
    """
    centres = (torch.arange(size, device=device, dtype=torch.float32) + 0.5) / size
    centres = 2 * centres - 1
    y, x = torch.meshgrid(centres, centres, indexing="ij")  # (H, W) each
    return y, x


def to_local(
    y: Tensor, x: Tensor, cy: Tensor, cx: Tensor, angle: Tensor, scale: Tensor
) -> tuple[Tensor, Tensor]:
    """Express image coordinates in each shape's own unit frame.

    Args:
        y, x: pixel grid, shape (H, W).
        cy, cx, angle, scale: one centre, rotation (radians) and scale per shape,
            shape (N,).

    Returns:
        (v, u): coordinates in the shape frame, each (N, H, W). A unit shape drawn
        in this frame appears centred at (cy, cx), rotated by angle, scale times as
        large.
    """
    dy = y - cy[:, None, None]  # (N, H, W)
    dx = x - cx[:, None, None]
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    # Inverse rotation: rotating the grid by -angle rotates the shape by +angle.
    u = (cos * dx + sin * dy) / scale[:, None, None]
    v = (-sin * dx + cos * dy) / scale[:, None, None]
    return v, u


def coverage(sdf: Tensor, pixel_size: float) -> Tensor:
    """Fraction of each pixel inside the shape, from its signed distance.

    Args:
        sdf: signed distance in image units, any shape.
        pixel_size: width of one pixel in image units (2 / size).

    Returns:
        Values in [0, 1], same shape as sdf: 1 inside, 0 outside, a linear ramp one
        pixel wide across the outline (cheap anti-aliasing).
    """
    return (0.5 - sdf / pixel_size).clamp(0, 1)


def chunk_size(size: int, device: torch.device) -> int:
    """How many size x size images to render at once.

    On a CPU, small chunks are faster: each intermediate (chunk, H, W) map then
    stays in the processor's cache (128K pixels = 512 KB per float map). A GPU
    wants large chunks to keep its many cores busy.
    """
    pixels = 2**17 if device.type == "cpu" else 2**24
    return max(1, pixels // (size * size))


def pixel_noise(n: int, size: int, generator: torch.Generator) -> Tensor:
    """Standard normal noise (N, 3, H, W) on the CPU, drawn image by image.

    One draw per image makes each image's noise independent of how a batch is
    split into chunks, so the same seed gives the same pixels on every device.
    """
    return torch.stack(
        [torch.randn((3, size, size), generator=generator) for _ in range(n)]
    )


def blend(image: Tensor, colour: Tensor, alpha: Tensor) -> Tensor:
    """Paint a colour over images with a per-pixel opacity ("over" compositing).

    Args:
        image: (N, 3, H, W) images.
        colour: (N, 3) one colour per image, or (N, 3, H, W) a colour per pixel.
        alpha: (N, H, W) opacity in [0, 1].
    """
    if colour.ndim == 2:
        colour = colour[:, :, None, None]  # (N, 3, 1, 1): same colour everywhere
    alpha = alpha[:, None]  # (N, 1, H, W)
    return image * (1 - alpha) + colour * alpha


def contrasting_colour(
    reference: Tensor, generator: torch.Generator, min_distance: float = 0.45
) -> Tensor:
    """Random RGB colours at least min_distance away from reference colours.

    Args:
        reference: (N, 3) colours in [0, 1] to stand out from (e.g. backgrounds).
        generator: source of randomness.

    Returns:
        (N, 3) colours in [0, 1], uniformly random among those far enough.
    """
    n = len(reference)
    candidates = torch.rand((n, 8, 3), generator=generator)
    far = (candidates - reference[:, None]).norm(dim=-1) > min_distance  # (N, 8)
    first = far.int().argmax(dim=1)  # index of the first far-enough candidate
    colour = candidates[torch.arange(n), first]
    # If none of the 8 is far enough, take the opposite corner of the RGB cube.
    opposite = (reference < 0.5).float()
    return torch.where(far.any(dim=1, keepdim=True), colour, opposite)


def segment_distance(y: Tensor, x: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Distance from every pixel to one line segment per image.

    Args:
        y, x: pixel grid, shape (H, W).
        a, b: end points (y, x) of the segments, shape (N, 2).

    Returns:
        (N, H, W) distances in image units.
    """
    ay, ax = a[:, 0, None, None], a[:, 1, None, None]
    dy, dx = (b - a)[:, 0, None, None], (b - a)[:, 1, None, None]
    length2 = (dy * dy + dx * dx).clamp(min=1e-12)
    # Project each pixel on the segment, clamped to its two ends.
    t = (((y - ay) * dy + (x - ax) * dx) / length2).clamp(0, 1)  # (N, H, W)
    return torch.sqrt((y - ay - t * dy) ** 2 + (x - ax - t * dx) ** 2)


# --- Signed distance functions of unit shapes. Inputs u, v: (N, H, W). ---


def sdf_circle(v: Tensor, u: Tensor, radius: float = 1.0) -> Tensor:
    """Disk of the given radius centred at the origin."""
    return torch.sqrt(u**2 + v**2) - radius


def sdf_box(
    v: Tensor, u: Tensor, half_w: float | Tensor, half_h: float | Tensor
) -> Tensor:
    """Axis-aligned rectangle with half-sides half_w (along u) and half_h (along v)."""
    qu, qv = u.abs() - half_w, v.abs() - half_h
    outside = torch.sqrt(qu.clamp(min=0) ** 2 + qv.clamp(min=0) ** 2)
    inside = torch.maximum(qu, qv).clamp(max=0)
    return outside + inside


def sdf_polygon(v: Tensor, u: Tensor, sides: int, radius: float = 1.0) -> Tensor:
    """Regular polygon with the given number of sides and circumradius.

    One edge faces the +u direction; the vertices lie at angles (k + 1/2) * 2pi/sides.
    """
    sector = 2 * math.pi / sides
    # Fold every point into one half-sector: the polygon is the same in each.
    phi = torch.atan2(v, u)
    phi = torch.remainder(phi + sector / 2, sector) - sector / 2
    r = torch.sqrt(u**2 + v**2)
    qx, qy = r * torch.cos(phi), (r * torch.sin(phi)).abs()
    apothem = radius * math.cos(sector / 2)
    half_edge = radius * math.sin(sector / 2)
    dx = qx - apothem  # signed distance to the edge line x = apothem
    dy = (qy - half_edge).clamp(min=0)  # beyond the vertex, measure to the vertex
    return torch.sqrt(dx.clamp(min=0) ** 2 + dy**2) + dx.clamp(max=0)


def sdf_star(v: Tensor, u: Tensor, points: int = 5, inner: float = 0.45) -> Tensor:
    """Star with the given number of points, tips at radius 1, notches at inner."""
    sector = 2 * math.pi / points
    phi = torch.atan2(v, u)
    # Fold into [0, sector / 2]: tip at angle 0, notch at angle sector / 2.
    phi = (torch.remainder(phi + sector / 2, sector) - sector / 2).abs()
    r = torch.sqrt(u**2 + v**2)
    qx, qy = r * torch.cos(phi), r * torch.sin(phi)
    # Distance to the edge from the tip A = (1, 0) to the notch B.
    ax, ay = 1.0, 0.0
    bx, by = inner * math.cos(sector / 2), inner * math.sin(sector / 2)
    ex, ey = bx - ax, by - ay
    t = (((qx - ax) * ex + (qy - ay) * ey) / (ex**2 + ey**2)).clamp(0, 1)
    dist = torch.sqrt((qx - ax - t * ex) ** 2 + (qy - ay - t * ey) ** 2)
    # The centre lies to the left of A -> B: a positive cross product means inside.
    inside = ex * (qy - ay) - ey * (qx - ax) > 0
    return torch.where(inside, -dist, dist)


def sdf_cross(v: Tensor, u: Tensor, arm: float = 0.33) -> Tensor:
    """Plus sign: union of two bars of half-width arm."""
    return torch.minimum(sdf_box(v, u, 1.0, arm), sdf_box(v, u, arm, 1.0))


def sdf_ring(v: Tensor, u: Tensor, thickness: float = 0.28) -> Tensor:
    """Annulus of outer radius 1 and the given half-thickness of its band."""
    return (sdf_circle(v, u, 1.0 - thickness)).abs() - thickness


def sdf_frame(v: Tensor, u: Tensor, thickness: float = 0.2) -> Tensor:
    """Hollow square: outline of a square with the given half-thickness."""
    half = 0.8 - thickness
    return sdf_box(v, u, half, half).abs() - thickness


def sdf_crescent(v: Tensor, u: Tensor, shift: float = 0.5) -> Tensor:
    """Disk with a shifted disk cut out of it (a moon crescent)."""
    bite = sdf_circle(v, u - shift, 0.8)
    return torch.maximum(sdf_circle(v, u), -bite)


def sdf_stripes(u: Tensor, period: float) -> Tensor:
    """Parallel bands across u, half of each period filled."""
    phase = torch.remainder(u / period, 1.0)  # position within one period, [0, 1)
    return ((phase - 0.5).abs() - 0.25) * period
