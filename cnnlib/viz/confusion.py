"""Confusion matrix as a heat map: which classes the model mixes up."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor


def plot_confusion_matrix(
    cm: Tensor | np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    normalize: str | None = None,
    annotate: bool | None = None,
    cmap: str = "Blues",
) -> Figure:
    """Draw a confusion matrix: rows are true classes, columns predicted ones.

    Args:
        cm: (C, C) counts, e.g. from ``cnnlib.train.confusion_matrix``.
        class_names: tick labels (default 0 .. C-1).
        normalize: None (counts), "true" (each row sums to 1: recall on the
            diagonal), "pred" (each column sums to 1: precision on the diagonal)
            or "all" (the whole matrix sums to 1), as in scikit-learn.
        annotate: write the value in each cell; default when C <= 15.
        cmap: colour map of the cells.

    Returns:
        The figure: the matrix axes and its colour bar.

    Example:
        >>> import torch
        >>> fig = plot_confusion_matrix(torch.tensor([[5, 1], [2, 7]]), ["cat", "dog"])
        >>> len(fig.axes)
        2
    """
    values = np.asarray(cm.detach().cpu() if isinstance(cm, Tensor) else cm, float)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(
            f"plot_confusion_matrix: cm must be square (C, C), got {values.shape}"
        )
    axis = {"true": 1, "pred": 0, "all": None}
    if normalize is not None:
        if normalize not in axis:
            raise ValueError(
                "plot_confusion_matrix: normalize must be None, 'true', 'pred' or "
                f"'all', got {normalize!r}"
            )
        totals = values.sum(axis=axis[normalize], keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    n = len(values)
    names = list(class_names) if class_names is not None else [str(k) for k in range(n)]
    size = 1.5 + 0.45 * n
    fig = Figure(figsize=(size + 1, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap=cmap)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if annotate if annotate is not None else n <= 15:
        threshold = values.max() / 2  # white text on dark cells
        for i in range(n):
            for j in range(n):
                text = f"{values[i, j]:.2f}" if normalize else f"{values[i, j]:.0f}"
                color = "white" if values[i, j] > threshold else "black"
                ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    return fig
