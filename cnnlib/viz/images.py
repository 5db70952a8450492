"""Image grids: a batch of (N, C, H, W) tensors with their labels and predictions.

Every plotting function of ``cnnlib.viz`` builds a ``matplotlib.figure.Figure``
directly, without ``pyplot``: nothing global changes, figures are freed when no
longer referenced, and a notebook shows the returned figure once (as the cell's
value). In a script, save it with ``fig.savefig("images.png")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

Stats = Sequence[float] | Tensor | None


def denormalize(images: Tensor, mean: Stats = None, std: Stats = None) -> Tensor:
    """Undo ``(x - mean) / std`` channel by channel: ``x * std + mean``.

    Args:
        images: (N, C, H, W) or (C, H, W).
        mean, std: per-channel statistics (length C), or None for no change.
    """
    images = images.detach().float().cpu()
    if std is not None:
        images = images * torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)
    if mean is not None:
        images = images + torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    return images


def to_numpy_image(
    image: Tensor, mean: Stats = None, std: Stats = None, rescale: bool = False
) -> np.ndarray:
    """One image tensor as an array ``imshow`` understands.

    Args:
        image: (C, H, W) with C = 1 or 3, or (H, W).
        mean, std: undo a normalisation first (see ``denormalize``).
        rescale: stretch the values to [0, 1] (min to 0, max to 1) instead of
            clipping them; for images that are not in [0, 1], such as filters.

    Returns:
        (H, W) for one channel, (H, W, 3) for RGB; float values in [0, 1].
    """
    if image.dim() == 2:
        image = image.unsqueeze(0)  # (1, H, W)
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(
            "to_numpy_image: expected an image of shape (C, H, W) with C = 1 or 3, "
            f"or (H, W); got {tuple(image.shape)}"
        )
    image = denormalize(image, mean, std)
    if rescale:
        low, high = image.min(), image.max()
        image = (image - low) / (high - low) if high > low else image * 0
    array = image.clamp(0, 1).permute(1, 2, 0).numpy()  # (H, W, C)
    return array[..., 0] if array.shape[-1] == 1 else array


def grid_shape(n: int, ncols: int) -> tuple[int, int]:
    """(rows, cols) of a grid holding ``n`` panels, at most ``ncols`` per row."""
    cols = max(1, min(n, ncols))
    return math.ceil(n / cols), cols


def image_grid(n: int, ncols: int, panel_size: float = 1.4) -> tuple[Figure, list]:
    """A figure with ``n`` image axes (no ticks) in rows of ``ncols``."""
    rows, cols = grid_shape(n, ncols)
    fig = Figure(
        figsize=(panel_size * cols, panel_size * rows + 0.3), layout="constrained"
    )
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)  # the grid's unused trailing cells
    for ax in axes[:n]:
        ax.set_axis_off()
    return fig, list(axes[:n])


def _name(label: int, class_names: Sequence[str] | None) -> str:
    return class_names[label] if class_names is not None else str(label)


def show_images(
    images: Tensor,
    labels: Tensor | Sequence[int] | None = None,
    predictions: Tensor | Sequence[int] | None = None,
    *,
    class_names: Sequence[str] | None = None,
    mean: Stats = None,
    std: Stats = None,
    ncols: int = 8,
    max_images: int = 32,
    cmap: str = "gray",
) -> Figure:
    """Show a batch of images in a grid, titled with labels and predictions.

    With ``predictions``, each title reads "prediction (label)" in green when they
    agree and red when they do not.

    Args:
        images: (N, C, H, W) with C = 1 (grayscale) or 3 (RGB), or (N, H, W).
        labels: true classes (N,), optional.
        predictions: predicted classes (N,), optional.
        class_names: names for the class indices.
        mean, std: the normalisation of the images, undone for display.
        ncols: images per row.
        max_images: show at most this many (the first ones).
        cmap: colour map for one-channel images.

    Returns:
        The figure, one axes per image shown.

    Example:
        >>> import torch
        >>> fig = show_images(torch.rand(6, 3, 8, 8), labels=[0, 1, 2, 0, 1, 2])
        >>> len(fig.axes)
        6
    """
    if not isinstance(images, Tensor) or images.dim() not in (3, 4):
        raise ValueError(
            "show_images: images must be a tensor of shape (N, C, H, W) or (N, H, W)"
        )
    n = min(len(images), max_images)
    fig, axes = image_grid(n, ncols)
    for i, ax in enumerate(axes):
        ax.imshow(to_numpy_image(images[i], mean, std), cmap=cmap, vmin=0, vmax=1)
        if predictions is not None:
            pred = int(predictions[i])
            title = _name(pred, class_names)
            color = "black"
            if labels is not None:
                true = int(labels[i])
                title += f" ({_name(true, class_names)})"
                color = "tab:green" if pred == true else "tab:red"
            ax.set_title(title, fontsize=8, color=color)
        elif labels is not None:
            ax.set_title(_name(int(labels[i]), class_names), fontsize=8)
    return fig
