"""Segmentation masks drawn over their images, one colour per class, with a legend."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from torch import Tensor

from cnnlib.viz.images import Stats, to_numpy_image


def class_colors(num_classes: int) -> np.ndarray:
    """A distinct RGB colour per class: (num_classes, 3) floats in [0, 1].

    Uses matplotlib's qualitative "tab10" palette (up to 10 classes), else "tab20".
    """
    palette = colormaps["tab10" if num_classes <= 10 else "tab20"]
    if num_classes > palette.N:
        raise ValueError(
            f"class_colors: at most {palette.N} classes, got {num_classes}"
        )
    return np.array([palette(i)[:3] for i in range(num_classes)])


def mask_to_rgb(mask: Tensor, colors: np.ndarray) -> np.ndarray:
    """Paint a label mask (H, W) with ``colors[label]``: returns (H, W, 3)."""
    return colors[mask.detach().cpu().long().numpy()]


def blend_mask(
    image: np.ndarray,
    mask: Tensor,
    colors: np.ndarray,
    alpha: float = 0.5,
    background: int | None = 0,
) -> np.ndarray:
    """(1 - alpha) * image + alpha * class colour, except on ``background`` pixels.

    Args:
        image: (H, W) grayscale or (H, W, 3) RGB array in [0, 1].
        mask: (H, W) class labels.
        colors: (num_classes, 3) colour table.
        alpha: opacity of the colours.
        background: label left uncoloured (None: colour every class).

    Returns:
        The blended (H, W, 3) RGB array, in [0, 1] (rounding can push a blend a
        hair past 1, which imshow would clip with a warning: it is clipped here).
    """
    rgb = np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image
    labels = mask.detach().cpu().long().numpy()
    painted = (1 - alpha) * rgb + alpha * colors[labels]
    if background is not None:
        keep = labels == background
        painted[keep] = rgb[keep]
    return np.clip(painted, 0.0, 1.0)


def overlay_mask(
    image: Tensor,
    mask: Tensor,
    prediction: Tensor | None = None,
    *,
    class_names: Sequence[str] | None = None,
    num_classes: int | None = None,
    mean: Stats = None,
    std: Stats = None,
    alpha: float = 0.5,
    background: int | None = 0,
) -> Figure:
    """Show an image with its mask (and a predicted mask) coloured by class.

    Args:
        image: (C, H, W) with C = 1 or 3, normalised with ``mean``/``std`` if given.
        mask: (H, W) true class labels.
        prediction: (H, W) predicted labels, or scores (C, H, W) whose argmax is
            taken; shown in a second panel when given.
        class_names: names for the legend; their number fixes the class count.
        num_classes: the class count when there are no names (default: the
            largest label seen + 1).
        alpha: opacity of the class colours.
        background: label drawn without colour (default 0); None colours all.

    Returns:
        The figure: one axes ("ground truth"), or two with ``prediction``.

    Example:
        >>> import torch
        >>> mask = torch.zeros(8, 8, dtype=torch.long)
        >>> mask[2:5, 2:5] = 1
        >>> fig = overlay_mask(torch.rand(3, 8, 8), mask, class_names=["bg", "cat"])
        >>> len(fig.axes)
        1
    """
    if mask.dim() != 2:
        raise ValueError(f"overlay_mask: mask must be (H, W), got {tuple(mask.shape)}")
    if prediction is not None and prediction.dim() == 3:
        prediction = prediction.argmax(dim=0)  # scores (C, H, W) -> labels (H, W)
    if class_names is not None:
        num_classes = len(class_names)
    elif num_classes is None:
        seen = [mask] if prediction is None else [mask, prediction]
        num_classes = int(max(m.max().item() for m in seen)) + 1
    colors = class_colors(num_classes)
    names = (
        list(class_names)
        if class_names is not None
        else [str(k) for k in range(num_classes)]
    )
    base = to_numpy_image(image, mean, std)
    panels = [("ground truth", mask)]
    if prediction is not None:
        panels.append(("prediction", prediction))
    fig = Figure(figsize=(3.2 * len(panels) + 1.2, 3.2), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, labels) in zip(axes, panels, strict=True):
        ax.imshow(blend_mask(base, labels, colors, alpha, background))
        ax.set_title(title)
        ax.set_axis_off()
    handles = [
        Patch(color=colors[k], label=names[k])
        for k in range(num_classes)
        if k != background
    ]
    fig.legend(handles=handles, loc="outside right center", fontsize=8)
    return fig
