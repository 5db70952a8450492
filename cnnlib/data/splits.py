"""Train/validation/test splits, with statistics measured on the training split only.

Every dataset in ``cnnlib.data`` ends up as a :class:`DatasetSplits`: three
``TensorDataset`` objects plus the per-channel mean and standard deviation of the
*training* images. Computing the statistics on the training split alone matters: the
validation and test images stand for data the model has never seen, so nothing about
them may leak into training, not even their average brightness.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import TensorDataset


@dataclass
class DatasetSplits:
    """A dataset cut into train, validation and test sets.

    Attributes:
        train, val, test: ``TensorDataset(images, targets)``. Images are float32 of
            shape (N, C, H, W), or (N, C*H*W) when flattened. Targets are int64:
            class labels of shape (N,), or segmentation masks of shape (N, H, W).
        classes: class names; ``classes[k]`` is the name of label k.
        mean, std: per-channel mean and standard deviation of the training images
            before normalisation, shape (C,).
        normalized: True if every split was standardised with (mean, std), i.e.
            ``images = (raw - mean) / std`` channel by channel.

    Example:
        >>> splits = digits()
        >>> images, labels = splits.train.tensors
        >>> images.shape, splits.num_classes
        (torch.Size([1258, 1, 8, 8]), 10)
    """

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    classes: list[str]
    mean: Tensor
    std: Tensor
    normalized: bool = True

    @property
    def num_classes(self) -> int:
        """Number of classes (segmentation: including the background)."""
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input image: (C, H, W), or (C*H*W,) when flattened."""
        return tuple(self.train.tensors[0].shape[1:])

    def denormalize(self, images: Tensor) -> Tensor:
        """Undo the standardisation, e.g. to display images in their [0, 1] range.

        Args:
            images: (N, C, H, W) or (C, H, W), standardised with this split's stats.
        """
        if not self.normalized:
            return images
        shape = (-1, 1, 1)  # broadcast the (C,) statistics over H and W
        return images * self.std.to(images).view(shape) + self.mean.to(images).view(
            shape
        )

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{name}={len(getattr(self, name))}" for name in ("train", "val", "test")
        )
        return (
            f"DatasetSplits({sizes}, input_shape={self.input_shape}, "
            f"classes={self.num_classes}, normalized={self.normalized})"
        )

    @classmethod
    def from_tensors(
        cls,
        train: tuple[Tensor, Tensor],
        val: tuple[Tensor, Tensor],
        test: tuple[Tensor, Tensor],
        classes: Sequence[str],
        *,
        normalize: bool = True,
        pad_to: int | None = None,
        flatten: bool = False,
    ) -> "DatasetSplits":
        """Build splits from (images, targets) pairs: pad, measure, standardise.

        Args:
            train, val, test: (images (N, C, H, W) float in [0, 1], targets int64).
            classes: class names.
            normalize: standardise every split with the training mean and std.
            pad_to: zero-pad images (and masks) symmetrically to pad_to x pad_to,
                e.g. 32 for LeNet-5, whose paper pads 28x28 MNIST digits to 32x32.
            flatten: reshape images to (N, C*H*W) for a multilayer perceptron.
        """
        parts = []
        for name, (images, targets) in zip(
            ("train", "val", "test"), (train, val, test), strict=True
        ):
            if images.ndim != 4:
                raise ValueError(
                    f"DatasetSplits.from_tensors: {name} images must have shape "
                    f"(N, C, H, W), got {tuple(images.shape)}"
                )
            if len(images) != len(targets):
                raise ValueError(
                    f"DatasetSplits.from_tensors: {name} has {len(images)} images "
                    f"but {len(targets)} targets"
                )
            if pad_to is not None:
                images, targets = _pad(images, targets, pad_to)
            parts.append([images.float(), targets.long()])

        # Statistics of the training images only, one value per channel.
        std, mean = torch.std_mean(parts[0][0], dim=(0, 2, 3), correction=0)
        std = std.clamp(min=1e-8)  # a constant channel must not divide by zero
        for part in parts:
            if normalize:
                part[0] = (part[0] - mean.view(-1, 1, 1)) / std.view(-1, 1, 1)
            if flatten:
                part[0] = part[0].flatten(start_dim=1)  # (N, C*H*W)
        datasets = [TensorDataset(images, targets) for images, targets in parts]
        return cls(*datasets, list(classes), mean, std, normalized=normalize)


def _pad(images: Tensor, targets: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """Zero-pad (N, C, H, W) images, and (N, H, W) masks, to size x size."""
    height, width = images.shape[-2:]
    if size < height or size < width:
        raise ValueError(
            f"pad_to={size} is smaller than the images ({height}x{width}); "
            "pad_to must be at least the image size"
        )
    top, left = (size - height) // 2, (size - width) // 2
    padding = (left, size - width - left, top, size - height - top)
    images = F.pad(images, padding)
    if targets.ndim == 3:  # a segmentation mask grows with its image (background 0)
        targets = F.pad(targets, padding)
    return images, targets


def stratified_split(
    labels: Tensor, fractions: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0
) -> list[Tensor]:
    """Shuffle indices and cut them into parts with the same class proportions.

    Each class is cut separately (sizes rounded per class), so every part holds the
    classes in the same proportions as the whole dataset.

    Args:
        labels: (N,) integer class labels. Pass ``torch.zeros(N)`` for a plain
            random split.
        fractions: share of each part, summing to 1, e.g. (train, val, test).
        seed: seed of the private generator; the same seed gives the same split.

    Returns:
        One int64 index tensor per fraction, each in random order.
    """
    if labels.ndim != 1:
        raise ValueError(
            f"stratified_split: labels must have shape (N,), got {tuple(labels.shape)}"
        )
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"stratified_split: fractions must be >= 0 and sum to 1, got {fractions}"
        )
    generator = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    parts: list[list[Tensor]] = [[] for _ in fractions]
    for label in torch.unique(labels):
        members = torch.nonzero(labels == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        # Cumulative boundaries, rounded, so the sizes add up to the class size.
        bounds = [0]
        for fraction in fractions:
            bounds.append(bounds[-1] + fraction)
        cuts = [round(b * len(members)) for b in bounds]
        for part, start, stop in zip(parts, cuts[:-1], cuts[1:], strict=True):
            part.append(members[start:stop])
    result = []
    for part in parts:
        indices = torch.cat(part)
        result.append(indices[torch.randperm(len(indices), generator=generator)])
    return result


def make_splits(
    images: Tensor,
    targets: Tensor,
    classes: Sequence[str],
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    normalize: bool = True,
    pad_to: int | None = None,
    flatten: bool = False,
) -> DatasetSplits:
    """Split one labelled tensor dataset into stratified train/val/test sets.

    Class labels (N,) are stratified; segmentation masks (N, H, W) are split at
    random. Statistics come from the training split (see
    :meth:`DatasetSplits.from_tensors` for normalize, pad_to and flatten).

    Args:
        images: (N, C, H, W) float images, values in [0, 1].
        targets: (N,) int labels or (N, H, W) int masks.
        classes: class names.
        val_fraction, test_fraction: shares of the validation and test sets; the
            training set gets the rest.
        seed: seed of the split; the same seed gives the same split.
    """
    train_fraction = 1 - val_fraction - test_fraction
    if train_fraction <= 0 or val_fraction < 0 or test_fraction < 0:
        raise ValueError(
            "make_splits: val_fraction and test_fraction must be >= 0 and leave a "
            f"training set, got val_fraction={val_fraction}, "
            f"test_fraction={test_fraction}"
        )
    strata = targets if targets.ndim == 1 else torch.zeros(len(targets))
    fractions = (train_fraction, val_fraction, test_fraction)
    train, val, test = stratified_split(strata, fractions, seed)
    return DatasetSplits.from_tensors(
        (images[train], targets[train]),
        (images[val], targets[val]),
        (images[test], targets[test]),
        classes,
        normalize=normalize,
        pad_to=pad_to,
        flatten=flatten,
    )
