"""Random affine augmentation of batches: rotation, translation, zoom and shear.

Each image draws its own angle, shift, zoom and shear; together they form a 2x3
matrix per image, and ``F.affine_grid`` + ``F.grid_sample`` resample the whole batch
in one call. Masks go through the same grid with nearest-neighbour sampling, so they
stay integer labels aligned with their images. See :mod:`cnnlib.data.transforms`
for the calling convention.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

from cnnlib.data.transforms import Transform, _uniform

Range = float | tuple[float, float]


def _range(value: Range | None, name: str, centre: float = 0.0) -> tuple[float, float]:
    """Turn x into (centre - x, centre + x); pass (low, high) pairs through."""
    if value is None:
        return (centre, centre)
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"RandomAffine: {name} must be >= 0, got {value}")
        return (centre - value, centre + value)
    low, high = value
    if low > high:
        raise ValueError(f"RandomAffine: {name} range must be (low, high), got {value}")
    return (float(low), float(high))


class RandomAffine(Transform):
    """Rotate, translate, zoom and shear each image by its own random amounts.

    Args:
        degrees: rotation angle drawn from U(-degrees, degrees), or a (low, high)
            range, in degrees (counter-clockwise).
        translate: (tx, ty): horizontal shift drawn from U(-tx, tx) * W, vertical
            from U(-ty, ty) * H.
        scale: (low, high) zoom factor; > 1 enlarges the content.
        shear: horizontal shear angle in degrees, U(-shear, shear) or a range.
        fill: value of the pixels that come from outside the image.
        mask_fill: label of mask pixels that come from outside (background 0).

    Shape:
        images (N, C, H, W) -> (N, C, H, W); masks (N, H, W) -> (N, H, W).
    """

    def __init__(
        self,
        degrees: Range = 0.0,
        translate: tuple[float, float] | None = None,
        scale: tuple[float, float] | None = None,
        shear: Range | None = None,
        fill: float = 0.0,
        mask_fill: int = 0,
    ):
        self.degrees = _range(degrees, "degrees")
        self.translate = translate
        self.scale = _range(scale, "scale", centre=1.0)
        self.shear = _range(shear, "shear")
        self.fill = fill
        self.mask_fill = mask_fill

    def matrices(
        self, n: int, height: int, width: int, generator: torch.Generator | None
    ) -> Tensor:
        """Draw n random transforms; return the (N, 2, 3) matrices for affine_grid.

        affine_grid needs the *inverse* map: for each output pixel, where to read in
        the input. Both are in normalised coordinates, [-1, 1] across each side.
        """
        angle = torch.deg2rad(_uniform(n, *self.degrees, generator, "cpu"))
        shear = torch.deg2rad(_uniform(n, *self.shear, generator, "cpu"))
        zoom = _uniform(n, *self.scale, generator, "cpu")
        tx, ty = self.translate or (0.0, 0.0)
        shift_x = _uniform(n, -tx, tx, generator, "cpu") * width  # pixels
        shift_y = _uniform(n, -ty, ty, generator, "cpu") * height

        # Forward map in pixel units around the image centre: p_out = A p_in + t,
        # A = rotation @ shear @ zoom. With (x, y) pixel coordinates and y pointing
        # down, a counter-clockwise turn on screen is [[cos, sin], [-sin, cos]].
        cos, sin = torch.cos(angle), torch.sin(angle)
        rotation = torch.stack([cos, sin, -sin, cos], dim=1).view(n, 2, 2)
        shearing = torch.eye(2).repeat(n, 1, 1)
        shearing[:, 0, 1] = -torch.tan(shear)
        forward = rotation @ shearing * zoom.view(n, 1, 1)  # (N, 2, 2)
        inverse = torch.linalg.inv(forward)
        shift = torch.stack([shift_x, shift_y], dim=1)[:, :, None]  # (N, 2, 1)

        # Back to normalised units: x_norm = x_pixels / (W / 2), same for y.
        to_pixels = torch.diag(torch.tensor([width / 2, height / 2]))
        to_norm = torch.linalg.inv(to_pixels)
        linear = to_norm @ inverse @ to_pixels  # (N, 2, 2)
        offset = to_norm @ (-inverse @ shift)  # (N, 2, 1)
        return torch.cat([linear, offset], dim=2)  # (N, 2, 3)

    def apply(self, images, masks, generator):
        n, _, height, width = images.shape
        theta = self.matrices(n, height, width, generator).to(images)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        images = _sample(images, grid, "bilinear", self.fill)
        if masks is not None:
            labels = masks[:, None].to(images.dtype)  # grid_sample needs floats
            labels = _sample(labels, grid, "nearest", float(self.mask_fill))
            masks = labels[:, 0].round().long()
        return images, masks


class RandomRotation(RandomAffine):
    """Rotate each image by an angle drawn from U(-degrees, degrees)."""

    def __init__(self, degrees: Range, fill: float = 0.0, mask_fill: int = 0):
        super().__init__(degrees=degrees, fill=fill, mask_fill=mask_fill)


def _sample(images: Tensor, grid: Tensor, mode: str, fill: float) -> Tensor:
    """grid_sample with a constant `fill` outside the image instead of zeros."""
    # grid_sample pads with 0; shifting by fill makes the padding equal to fill.
    out = F.grid_sample(
        images - fill, grid, mode=mode, padding_mode="zeros", align_corners=False
    )
    return out + fill
