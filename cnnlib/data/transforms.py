"""Data augmentation on whole batches (N, C, H, W), on any device.

Every transform is applied to a batch at once, and every image of the batch draws
its own random parameters (its own flip, crop offset, jitter, ...). Augmenting whole
batches on the training device is much faster than image-by-image augmentation in
DataLoader workers, and it is how ``cnnlib.train.fit(..., transform=...)`` applies
augmentation: once per training batch, after moving the batch to the device.

Calling convention, for every transform ``t``:

* ``images = t(images)`` for images alone;
* ``images, targets = t(images, targets)`` with targets of shape (N,) (class labels,
  returned unchanged) or (N, H, W) (segmentation masks, which follow every geometric
  change of their images, with nearest-neighbour interpolation, and ignore
  photometric ones).

Randomness: parameters are drawn on the CPU from ``generator`` (a ``torch.Generator``)
then moved to the batch's device, so a seeded run gives the same augmentation on
every device. Without a generator the global RNG is used (never re-seeded here).
:class:`Compose` owns a seeded generator and hands it to its transforms.

Example:
    >>> augment = Compose([RandomCrop(padding=4), RandomHorizontalFlip()], seed=0)
    >>> images, labels = augment(images, labels)
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


class Transform:
    """Base class: validates the batch and routes masks; subclasses write `apply`."""

    def __call__(
        self,
        images: Tensor,
        targets: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor | tuple[Tensor, Tensor]:
        name = type(self).__name__
        if images.ndim != 4 or not images.is_floating_point():
            raise ValueError(
                f"{name}: images must be a float tensor of shape (N, C, H, W), got "
                f"{images.dtype} of shape {tuple(images.shape)}"
            )
        if targets is None:
            return self.apply(images, None, generator)[0]
        n, _, height, width = images.shape
        if targets.shape == (n,):  # class labels: nothing to transform
            return self.apply(images, None, generator)[0], targets
        if targets.shape == (n, height, width) and not targets.is_floating_point():
            return self.apply(images, targets, generator)
        raise ValueError(
            f"{name}: targets must be labels of shape ({n},) or integer masks of "
            f"shape ({n}, {height}, {width}), got {targets.dtype} of shape "
            f"{tuple(targets.shape)}"
        )

    def apply(
        self, images: Tensor, masks: Tensor | None, generator: torch.Generator | None
    ) -> tuple[Tensor, Tensor | None]:
        """Transform images (N, C, H, W) and, if given, masks (N, H, W)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


def _uniform(
    n: int, low: float, high: float, generator: torch.Generator | None, device
) -> Tensor:
    """n samples of U(low, high), drawn on the CPU, returned on device. Shape (N,)."""
    return (low + (high - low) * torch.rand(n, generator=generator)).to(device)


class Compose(Transform):
    """Apply transforms one after the other, drawing from one seeded generator.

    Args:
        transforms: the transforms, in order.
        seed: seed of the generator owned by this Compose; None uses the global
            RNG. A generator passed at call time takes precedence.
    """

    def __init__(self, transforms: Sequence[Transform], seed: int | None = None):
        self.transforms = list(transforms)
        self.seed = seed
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def apply(self, images, masks, generator):
        generator = generator if generator is not None else self.generator
        for transform in self.transforms:
            images, masks = transform.apply(images, masks, generator)
        return images, masks

    def __repr__(self) -> str:
        lines = "".join(f"    {t!r},\n" for t in self.transforms)
        return f"Compose([\n{lines}], seed={self.seed})"


class Normalize(Transform):
    """Standardise each channel: (x - mean[c]) / std[c]. Not random.

    Args:
        mean, std: per-channel statistics, length C (e.g. ``splits.mean``).
    """

    def __init__(self, mean: Sequence[float] | Tensor, std: Sequence[float] | Tensor):
        self.mean = torch.as_tensor(mean, dtype=torch.float32).flatten()
        self.std = torch.as_tensor(std, dtype=torch.float32).flatten()

    def apply(self, images, masks, generator):
        mean = self.mean.to(images).view(-1, 1, 1)  # (C, 1, 1) broadcasts over H, W
        std = self.std.to(images).view(-1, 1, 1)
        return (images - mean) / std, masks


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability p."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def apply(self, images, masks, generator):
        flip = _uniform(len(images), 0, 1, generator, images.device) < self.p  # (N,)
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        if masks is not None:
            masks = torch.where(flip[:, None, None], masks.flip(-1), masks)
        return images, masks


class RandomVerticalFlip(Transform):
    """Mirror each image upside down with probability p."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def apply(self, images, masks, generator):
        flip = _uniform(len(images), 0, 1, generator, images.device) < self.p  # (N,)
        images = torch.where(flip[:, None, None, None], images.flip(-2), images)
        if masks is not None:
            masks = torch.where(flip[:, None, None], masks.flip(-2), masks)
        return images, masks


class RandomCrop(Transform):
    """Pad each image, then cut a window at a random position.

    With the default ``size=None`` the window has the input's size, so the batch
    keeps its shape and each image is shifted by up to ``padding`` pixels: the
    classic CIFAR augmentation (pad 4, crop 32).

    Args:
        size: output (height, width) or one int for a square; None keeps H, W.
        padding: pixels added on every side before cropping.
        padding_mode: "constant" (fill with `fill`), "reflect" or "replicate".
        fill: value of constant padding in the images; masks are padded with
            ``mask_fill`` (background by default).
    """

    def __init__(
        self,
        size: int | tuple[int, int] | None = None,
        padding: int = 4,
        padding_mode: str = "constant",
        fill: float = 0.0,
        mask_fill: int = 0,
    ):
        if padding_mode not in ("constant", "reflect", "replicate"):
            raise ValueError(
                "RandomCrop: padding_mode must be 'constant', 'reflect' or "
                f"'replicate', got {padding_mode!r}"
            )
        self.size = (size, size) if isinstance(size, int) else size
        self.padding = padding
        self.padding_mode = padding_mode
        self.fill = fill
        self.mask_fill = mask_fill

    def apply(self, images, masks, generator):
        n, _, height, width = images.shape
        out_h, out_w = self.size or (height, width)
        pad = (self.padding,) * 4
        value = self.fill if self.padding_mode == "constant" else None
        padded = F.pad(images, pad, mode=self.padding_mode, value=value)
        if out_h > padded.shape[-2] or out_w > padded.shape[-1]:
            raise ValueError(
                f"RandomCrop: crop {out_h}x{out_w} is larger than the padded images "
                f"{padded.shape[-2]}x{padded.shape[-1]}"
            )
        # Top-left corner of each window, uniform over all valid positions.
        top = torch.randint(padded.shape[-2] - out_h + 1, (n,), generator=generator)
        left = torch.randint(padded.shape[-1] - out_w + 1, (n,), generator=generator)
        rows = (top[:, None] + torch.arange(out_h)).to(images.device)  # (N, H_out)
        cols = (left[:, None] + torch.arange(out_w)).to(images.device)  # (N, W_out)
        batch = torch.arange(n, device=images.device)[:, None, None]
        rows, cols = rows[:, :, None], cols[:, None, :]
        # Advanced indexing picks out[n, :, i, j] = padded[n, :, rows[n, i], cols[n, j]]
        images = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
        if masks is not None:
            masks = F.pad(
                masks[:, None].float(),  # padding modes other than constant need floats
                pad,
                mode=self.padding_mode,
                value=float(self.mask_fill) if value is not None else None,
            )[:, 0].long()  # (N, H + 2p, W + 2p)
            masks = masks[batch, rows, cols]
        return images.contiguous(), masks


class ColorJitter(Transform):
    """Randomly change brightness, contrast and saturation, per image.

    Each factor is drawn from U(max(0, 1 - x), 1 + x) and applied in this order:
    brightness scales the pixel values, contrast blends each image with its mean
    grey level, saturation blends each pixel with its own grey level (RGB only).
    Results are clipped to [0, 1].

    The jitter is defined on images in [0, 1]. For standardised batches, pass the
    statistics they were standardised with (``mean=splits.mean, std=splits.std``):
    the batch is mapped back to [0, 1], jittered and standardised again.
    """

    def __init__(
        self,
        brightness: float = 0.0,
        contrast: float = 0.0,
        saturation: float = 0.0,
        mean: Sequence[float] | Tensor | None = None,
        std: Sequence[float] | Tensor | None = None,
    ):
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        if (mean is None) != (std is None):
            raise ValueError("ColorJitter: pass both mean and std, or neither")
        self.normalize = None if mean is None else Normalize(mean, std)

    def apply(self, images, masks, generator):
        n, channels = images.shape[:2]
        if self.saturation and channels != 3:
            raise ValueError(
                f"ColorJitter: saturation needs RGB images (C=3), got C={channels}"
            )
        if self.normalize is not None:
            mean = self.normalize.mean.to(images).view(-1, 1, 1)
            images = images * self.normalize.std.to(images).view(-1, 1, 1) + mean

        def factor(amount: float) -> Tensor:  # (N, 1, 1, 1), one factor per image
            f = _uniform(n, max(0.0, 1 - amount), 1 + amount, generator, images.device)
            return f.view(n, 1, 1, 1)

        images = (images * factor(self.brightness)).clamp(0, 1)
        grey = _grey(images)  # (N, 1, H, W)
        mean_grey = grey.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
        images = _mix(images, mean_grey, factor(self.contrast))
        if channels == 3:
            images = _mix(images, _grey(images), factor(self.saturation))
        if self.normalize is not None:
            images = self.normalize.apply(images, None, None)[0]
        return images, masks


def _grey(images: Tensor) -> Tensor:
    """Luma of RGB images (ITU-R BT.601 weights), or the image itself if C=1."""
    if images.shape[1] == 1:
        return images
    weights = torch.tensor([0.299, 0.587, 0.114], device=images.device)
    return (images * weights.to(images).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)


def _mix(images: Tensor, other: Tensor, factor: Tensor) -> Tensor:
    """factor * images + (1 - factor) * other, clipped to [0, 1]."""
    return (factor * images + (1 - factor) * other).clamp(0, 1)
