"""Photographs and test images that ship with scikit-image, as tensors.

Useful to show what a filter, a convolution or a feature map does to a real picture.
Only the images bundled inside the scikit-image package are listed: the others in
``skimage.data`` (eagle, lily, brain, ...) would be downloaded on first use, and
nothing in the course may need the network.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

# Name -> short description. Every one is read from skimage's installed data folder.
SAMPLE_IMAGES = {
    "astronaut": "colour portrait of astronaut Eileen Collins, 512x512",
    "brick": "grey brick wall texture, 512x512",
    "camera": "grey photo of a cameraman, 512x512",
    "cell": "grey microscopy image of a cell, 660x550",
    "chelsea": "colour photo of Chelsea the cat, 300x451",
    "checkerboard": "grey checkerboard, 200x200",
    "clock": "grey photo of a clock with motion blur, 300x400",
    "coffee": "colour photo of a coffee cup, 400x600",
    "coins": "grey photo of Greek coins, 303x384",
    "colorwheel": "colour wheel, 370x371",
    "grass": "grey grass texture, 512x512",
    "gravel": "grey gravel texture, 512x512",
    "horse": "binary silhouette of a horse, 328x400",
    "hubble_deep_field": "colour Hubble deep field, 872x1000",
    "immunohistochemistry": "colour stained tissue, 512x512",
    "logo": "colour scikit-image logo (on white), 500x500",
    "microaneurysms": "grey retina detail, 102x102",
    "moon": "grey photo of the moon's surface, 512x512",
    "page": "grey scanned page of text, 191x384",
    "retina": "colour photo of a human retina, 1411x1411",
    "rocket": "colour photo of a rocket launch, 427x640",
    "shepp_logan_phantom": "grey Shepp-Logan phantom (CT test image), 400x400",
    "text": "grey photo of text on a wall, 172x448",
}


def sample_image(
    name: str, *, grayscale: bool = False, size: int | tuple[int, int] | None = None
) -> Tensor:
    """Load one of scikit-image's bundled images as a float tensor in [0, 1].

    Args:
        name: one of ``SAMPLE_IMAGES`` (e.g. "astronaut", "camera", "coins").
        grayscale: convert colour images to one luma channel.
        size: resize (with antialiasing): an int makes the shorter side that long,
            keeping the aspect ratio; (H, W) gives that exact size.

    Returns:
        (C, H, W) float32 with C = 3 for colour images, 1 for grey ones (or when
        grayscale=True).

    Example:
        >>> sample_image("camera", size=128).shape
        torch.Size([1, 128, 128])
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(
            f"sample_image: unknown image {name!r}; available (bundled with "
            f"scikit-image, no download): {', '.join(sorted(SAMPLE_IMAGES))}"
        )
    import skimage.data  # imported on use: slow to import, only needed here

    array = getattr(skimage.data, name)()
    image = torch.from_numpy(array.copy())
    if image.dtype == torch.uint8:
        image = image.float() / 255
    else:  # bool (horse) or float in [0, 1] (shepp_logan_phantom)
        image = image.float()
    if image.ndim == 2:
        image = image[None]  # (1, H, W)
    else:
        image = image.permute(2, 0, 1)  # (H, W, C) -> (C, H, W)
    if image.shape[0] == 4:  # RGBA: composite over a white background
        rgb, alpha = image[:3], image[3:]
        image = rgb * alpha + (1 - alpha)
    if grayscale and image.shape[0] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)  # ITU-R BT.601
        image = (image * weights).sum(dim=0, keepdim=True)
    if size is not None:
        image = _resize(image, size)
    return image.clamp(0, 1).contiguous()


def sample_images(
    names: list[str] | None = None,
    *,
    grayscale: bool = False,
    size: int | tuple[int, int] | None = None,
) -> dict[str, Tensor]:
    """Several bundled images as a dict name -> (C, H, W) tensor (default: all)."""
    names = list(SAMPLE_IMAGES) if names is None else names
    return {name: sample_image(name, grayscale=grayscale, size=size) for name in names}


def _resize(image: Tensor, size: int | tuple[int, int]) -> Tensor:
    """Resize (C, H, W) bilinearly with antialiasing (shorter side if size is int)."""
    height, width = image.shape[-2:]
    if isinstance(size, int):
        ratio = size / min(height, width)
        size = (max(1, round(height * ratio)), max(1, round(width * ratio)))
    resized = F.interpolate(
        image[None], size=tuple(size), mode="bilinear", antialias=True
    )
    return resized[0]
