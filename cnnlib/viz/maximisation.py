"""Activation maximisation: the input image that excites one filter the most.

Training changes the weights to lower the loss for fixed images; here the
weights are fixed and the *image* changes, by gradient ascent, to raise one
channel's mean activation. Left alone, the ascent produces high-frequency noise
that excites the filter but looks like nothing, so three regularisers keep the
image natural (Yosinski et al. 2015):

* an L2 penalty on the pixels keeps their values small;
* jitter: each step sees the image shifted by a few random pixels, so patterns
  must work at every position instead of exploiting one exact pixel grid;
* blur: every few steps a light Gaussian blur removes the highest frequencies.

References: D. Erhan, Y. Bengio, A. Courville, P. Vincent, "Visualizing
higher-layer features of a deep network", 2009; J. Yosinski, J. Clune, A. Nguyen,
T. Fuchs, H. Lipson, "Understanding neural networks through deep visualization",
2015.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor

from cnnlib.viz.features import Layer, capture, eval_mode, find_layer
from cnnlib.viz.images import image_grid, to_numpy_image


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Blur every channel of (N, C, H, W) with a Gaussian of std ``sigma`` pixels."""
    radius = max(1, math.ceil(2 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel_1d = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel_1d = kernel_1d / kernel_1d.sum()
    kernel = torch.outer(kernel_1d, kernel_1d)  # (K, K), separable Gaussian
    channels = x.shape[1]
    weight = kernel.expand(channels, 1, -1, -1)  # (C, 1, K, K): one per channel
    padded = F.pad(x, [radius] * 4, mode="reflect")
    return F.conv2d(padded, weight, groups=channels)


def _input_channels(model: torch.nn.Module) -> int:
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, Tensor) and weight.dim() == 4:
            return weight.shape[1]
    raise ValueError(
        "activation_maximisation: cannot infer the input channels (no conv layer "
        "found); pass in_channels="
    )


def activation_maximisation(
    model: torch.nn.Module,
    layer: Layer,
    channel: int,
    *,
    steps: int = 100,
    lr: float = 0.05,
    size: int | tuple[int, int] = 64,
    in_channels: int | None = None,
    l2: float = 1e-3,
    jitter: int = 2,
    blur_every: int = 4,
    blur_sigma: float = 0.5,
    seed: int = 0,
) -> Tensor:
    """Find an input image that maximises the mean activation of one channel.

    Args:
        model: the network (run in eval mode; its weights do not change).
        layer: the layer, by name or module, whose output channel is excited.
        channel: index of the channel (or unit, for a Linear layer's output).
        steps: gradient ascent steps.
        lr: step size of the ascent (Adam on the pixels: the step does not depend
            on the scale of the activation).
        size: image height and width (int) or (H, W).
        in_channels: input channels; default: those of the first conv layer.
        l2: weight of the L2 penalty ``l2 * mean(x ** 2)``.
        jitter: largest random shift, in pixels, applied at every step.
        blur_every: blur the image every this many steps (0: never).
        blur_sigma: standard deviation of that blur, in pixels.
        seed: seed of the initial noise and of the jitter.

    Returns:
        The image (C, H, W) in the network's input space (normalised like its
        training images); show it with ``show_images(..., mean=..., std=...)``
        or rescaled to [0, 1].

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
        >>> activation_maximisation(net, "0", channel=2, steps=5, size=16).shape
        torch.Size([3, 16, 16])
    """
    module = find_layer(model, layer)
    height, width = (size, size) if isinstance(size, int) else size
    channels = in_channels or _input_channels(model)
    param = next(model.parameters())
    gen = torch.Generator().manual_seed(seed)
    x = 0.1 * torch.randn(1, channels, height, width, generator=gen)
    x = x.to(device=param.device, dtype=param.dtype).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    with eval_mode(model), capture(module) as seen:
        for step in range(steps):
            dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=gen).tolist()
            model(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))
            activation = seen["output"][:, channel].mean()
            objective = activation - l2 * x.pow(2).mean()
            # autograd.grad, not backward: only the image gets a gradient.
            (grad,) = torch.autograd.grad(-objective, x)
            x.grad = grad
            optimizer.step()  # Adam minimises -objective: ascent on the objective
            if blur_every and (step + 1) % blur_every == 0:
                with torch.no_grad():
                    x.copy_(gaussian_blur(x, blur_sigma))
    return x.detach()[0].cpu()


def show_activation_maximisation(
    model: torch.nn.Module,
    layer: Layer,
    channels: Sequence[int],
    *,
    ncols: int = 8,
    **kwargs,
) -> Figure:
    """Run ``activation_maximisation`` for several channels and show the images.

    Args:
        model, layer: as in ``activation_maximisation``.
        channels: the channels to show, one panel each.
        ncols: panels per row.
        **kwargs: passed to ``activation_maximisation`` (steps, lr, size, ...).

    Each image is stretched to its own [min, max] for display.

    Returns:
        The figure, one axes per channel.
    """
    fig, axes = image_grid(len(channels), ncols, panel_size=1.5)
    for ax, channel in zip(axes, channels, strict=True):
        image = activation_maximisation(model, layer, channel, **kwargs)
        ax.imshow(to_numpy_image(image, rescale=True), cmap="gray")
        ax.set_title(f"channel {channel}", fontsize=8)
    return fig
