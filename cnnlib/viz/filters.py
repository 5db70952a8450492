"""Convolution filters as pictures: what the first layer has learned to look for.

First-layer filters of a trained CNN look like oriented edges, colour blobs and
gratings (AlexNet's figure 3); a layer that still shows noise has not learned.
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure
from torch import Tensor

from cnnlib.viz.images import image_grid, to_numpy_image


def conv_weight(source: Tensor | torch.nn.Module) -> Tensor:
    """The (C_out, C_in, KH, KW) weight of a conv layer, or of a model's first one."""
    if isinstance(source, Tensor):
        weight = source
    else:
        weight = next(
            (
                m.weight
                for m in source.modules()
                if isinstance(getattr(m, "weight", None), Tensor)
                and m.weight.dim() == 4
            ),
            None,
        )
        if weight is None:
            raise ValueError("show_filters: the module has no 4-D conv weight")
    if weight.dim() != 4:
        raise ValueError(
            "show_filters: expected a conv weight of shape (C_out, C_in, KH, KW), "
            f"got {tuple(weight.shape)}"
        )
    return weight.detach().float().cpu()


def show_filters(
    source: Tensor | torch.nn.Module,
    *,
    mode: str = "auto",
    max_filters: int = 64,
    max_channels: int = 8,
    ncols: int = 8,
) -> Figure:
    """Show conv filters as RGB patches or as one grayscale patch per channel.

    Args:
        source: a conv weight (C_out, C_in, KH, KW), a conv layer, or a model (its
            first conv layer is shown).
        mode: "rgb" (one colour patch per filter, needs C_in = 3), "channels" (one
            row per filter, one patch per input channel), or "auto" (rgb when
            C_in = 3, else channels).
        max_filters: show at most this many filters.
        max_channels: in "channels" mode, show at most this many input channels.
        ncols: filters per row in "rgb" mode.

    Each RGB patch is stretched to its own [min, max] so that its pattern is
    visible; in "channels" mode all patches share one symmetric colour scale
    (blue negative, red positive), so magnitudes can be compared.

    Returns:
        The figure: one axes per filter ("rgb") or per (filter, channel) pair.

    Example:
        >>> import torch
        >>> fig = show_filters(torch.nn.Conv2d(3, 6, 5))
        >>> len(fig.axes)
        6
    """
    weight = conv_weight(source)
    c_out, c_in = weight.shape[:2]
    if mode == "auto":
        mode = "rgb" if c_in == 3 else "channels"
    n = min(c_out, max_filters)
    if mode == "rgb":
        if c_in != 3:
            raise ValueError(f"show_filters: mode='rgb' needs C_in = 3, got {c_in}")
        fig, axes = image_grid(n, ncols, panel_size=0.9)
        for i, ax in enumerate(axes):
            ax.imshow(to_numpy_image(weight[i], rescale=True))
        return fig
    if mode != "channels":
        raise ValueError(
            f"show_filters: mode must be auto, rgb or channels, got {mode!r}"
        )
    channels = min(c_in, max_channels)
    limit = weight[:n, :channels].abs().max().item() or 1.0
    fig = Figure(figsize=(0.8 * channels, 0.8 * n), layout="constrained")
    axes = fig.subplots(n, channels, squeeze=False)
    for i in range(n):
        for j in range(channels):
            ax = axes[i, j]
            ax.imshow(weight[i, j].numpy(), cmap="bwr", vmin=-limit, vmax=limit)
            ax.set_axis_off()
    return fig
