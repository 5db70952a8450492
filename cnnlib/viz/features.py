"""Feature maps: what a layer outputs for a given input, captured with a forward hook.

A forward hook is a function torch calls right after a module's ``forward``,
with the module, its inputs and its output. Registering one lets us read any
intermediate result of a network without changing the network's code.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from matplotlib.figure import Figure
from torch import Tensor

from cnnlib.viz.images import image_grid

Layer = str | torch.nn.Module


def find_layer(model: torch.nn.Module, layer: Layer) -> torch.nn.Module:
    """The submodule of ``model`` given by name (as in ``model.named_modules()``) or
    by the module itself.

    Args:
        model: the network.
        layer: e.g. ``"features.3"`` or ``model.features[3]``.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())
        >>> find_layer(net, "1")
        ReLU()
    """
    modules = dict(model.named_modules())
    if isinstance(layer, str):
        if layer not in modules:
            names = ", ".join(repr(n) for n in list(modules)[1:13])
            raise KeyError(
                f"find_layer: the model has no layer named {layer!r}; names look "
                f"like {names}, ... (see model.named_modules())"
            )
        return modules[layer]
    if isinstance(layer, torch.nn.Module):
        if not any(module is layer for module in modules.values()):
            raise ValueError(f"find_layer: {type(layer).__name__} is not in the model")
        return layer
    raise TypeError(
        f"find_layer: layer must be a name or a module, got {type(layer).__name__}"
    )


@contextmanager
def capture(module: torch.nn.Module):
    """Record ``module``'s first input and its output during the block, in a dict.

    Example:
        >>> import torch
        >>> relu = torch.nn.ReLU()
        >>> with capture(relu) as seen:
        ...     _ = relu(torch.tensor([-1.0, 2.0]))
        >>> seen["input"], seen["output"]
        (tensor([-1.,  2.]), tensor([0., 2.]))
    """
    seen: dict[str, Tensor] = {}

    def hook(module, inputs, output):
        seen["input"], seen["output"] = inputs[0], output

    handle = module.register_forward_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()  # a hook left behind would keep firing on every forward


@contextmanager
def eval_mode(model: torch.nn.Module):
    """Put ``model`` in eval mode during the block, then restore its mode."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def feature_maps(model: torch.nn.Module, layer: Layer, x: Tensor) -> Tensor:
    """The output of ``layer`` when ``model`` runs on ``x`` (in eval mode).

    Args:
        model: the network.
        layer: a name from ``model.named_modules()`` or the module itself.
        x: input batch (N, C, H, W); one image (C, H, W) is treated as N = 1.

    Returns:
        The layer's output, detached: (N, C_out, H_out, W_out) for a conv layer.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
        >>> feature_maps(net, "0", torch.randn(2, 3, 8, 8)).shape
        torch.Size([2, 4, 6, 6])
    """
    module = find_layer(model, layer)
    if x.dim() == 3:
        x = x.unsqueeze(0)  # (1, C, H, W)
    device = next(model.parameters(), x).device
    with eval_mode(model), capture(module) as seen, torch.no_grad():
        model(x.to(device))
    if "output" not in seen:
        raise RuntimeError(f"feature_maps: layer {layer!r} was not called by forward")
    return seen["output"].detach()


def show_feature_maps(
    model: torch.nn.Module,
    layer: Layer,
    x: Tensor,
    *,
    max_maps: int = 32,
    ncols: int = 8,
    cmap: str = "viridis",
) -> Figure:
    """Show the channels of ``layer``'s output for one input image.

    Early layers respond to edges and colours at every position; deeper maps are
    smaller and respond to larger, more specific patterns.

    Args:
        model, layer: as in ``feature_maps``.
        x: one image (C, H, W) or a batch whose first image is used.
        max_maps: show at most this many channels.
        ncols: maps per row.
        cmap: colour map; each map is scaled to its own min and max.

    Returns:
        The figure, one axes per map shown.
    """
    maps = feature_maps(model, layer, x[:1] if x.dim() == 4 else x)[0]  # (C, h, w)
    if maps.dim() != 3:
        raise ValueError(
            f"show_feature_maps: layer {layer!r} outputs shape {tuple(maps.shape)} "
            "per image; expected maps of shape (C, H, W) (a conv or pool layer)"
        )
    n = min(len(maps), max_maps)
    fig, axes = image_grid(n, ncols, panel_size=1.2)
    for i, ax in enumerate(axes):
        ax.imshow(maps[i].float().cpu().numpy(), cmap=cmap)
        ax.set_title(str(i), fontsize=7)
    return fig
