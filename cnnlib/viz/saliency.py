"""Where does the network look? Saliency maps and class activation maps (CAM).

* ``saliency`` (Simonyan et al. 2014): the gradient of a class score with respect
  to the input pixels. Pixels with a large gradient are those whose change would
  change the score most.
* ``class_activation_map`` (Zhou et al. 2016): for networks that end in global
  average pooling (GAP) followed by one linear layer, the class score is
  ``y_c = sum_k w_ck mean_xy f_k(x, y) + b_c``. Swapping the sum and the mean
  gives ``y_c = mean_xy M_c(x, y) + b_c`` with the map
  ``M_c(x, y) = sum_k w_ck f_k(x, y)``: the last conv feature maps f_k weighted by
  the classifier's weights for class c, which shows where class c was found.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor

from cnnlib.viz.features import Layer, capture, eval_mode, find_layer
from cnnlib.viz.images import Stats, image_grid, to_numpy_image

Target = int | Sequence[int] | Tensor | None


def _targets(target: Target, scores: Tensor) -> Tensor:
    """Class index per image (N,): given, or the predicted class when None."""
    if target is None:
        return scores.argmax(dim=1)
    target = torch.as_tensor(target, device=scores.device).long()
    return target.expand(scores.shape[0]) if target.dim() == 0 else target


def saliency(model: torch.nn.Module, x: Tensor, target: Target = None) -> Tensor:
    """Vanilla gradient saliency: |d score_target / d pixel|, max over colour channels.

    Args:
        model: a classifier returning scores (N, num_classes); run in eval mode.
        x: input batch (N, C, H, W).
        target: class per image (N,), one class for all, or None for the class
            the model predicts.

    Returns:
        Non-negative maps (N, H, W), on ``x``'s device.

    Reference: K. Simonyan, A. Vedaldi, A. Zisserman, "Deep inside convolutional
    networks: visualising image classification models and saliency maps", 2014.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
        >>> saliency(net, torch.randn(2, 3, 2, 2)).shape
        torch.Size([2, 2, 2])
    """
    if x.dim() != 4:
        raise ValueError(f"saliency: x must be (N, C, H, W), got {tuple(x.shape)}")
    x = x.detach().clone().requires_grad_(True)
    with eval_mode(model):
        scores = model(x)  # (N, num_classes)
    picked = scores.gather(1, _targets(target, scores).view(-1, 1))  # (N, 1)
    # Images are independent, so the gradient of the sum gives each image its own.
    (grad,) = torch.autograd.grad(picked.sum(), x)  # autograd.grad: no param.grad
    return grad.abs().amax(dim=1)  # (N, H, W)


def _is(module: torch.nn.Module, name: str) -> bool:
    """True for torch's and cnnlib's layer of that class name (e.g. "Linear")."""
    return type(module).__name__ == name and isinstance(module, torch.nn.Module)


def class_activation_map(
    model: torch.nn.Module,
    x: Tensor,
    target: Target = None,
    *,
    features: Layer | None = None,
    classifier: Layer | None = None,
    upsample: bool = True,
) -> Tensor:
    """Class activation maps M_c = sum_k w_ck f_k of a GAP network (Zhou et al. 2016).

    The model must compute ``features -> global average pooling -> (Flatten) ->
    Linear`` at its end, with nothing non-linear after the pooling.

    Args:
        model: the network, e.g. conv layers -> ``AdaptiveAvgPool2d(1)`` ->
            ``Flatten`` -> ``Linear``.
        x: input batch (N, C, H, W).
        target: class per image (N,), one class for all, or None for the class
            the model predicts.
        features: the layer whose *output* is the feature maps f (N, K, h, w), by
            name or module. Default: the *input* of the model's last
            ``AdaptiveAvgPool2d`` (torch's or cnnlib's).
        classifier: the linear layer with weight (num_classes, K). Default: the
            model's last ``Linear``. Without any Linear (NiN, whose last conv
            already has one map per class), the maps are the class maps.
        upsample: resize the maps bilinearly to the input's H x W.

    Returns:
        Maps (N, H, W) (or (N, h, w) without ``upsample``), with the
        property mean_xy M_c = score_c - bias_c (before upsampling).

    Reference: B. Zhou, A. Khosla, A. Lapedriza, A. Oliva, A. Torralba,
    "Learning deep features for discriminative localization", CVPR 2016.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(
        ...     torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
        ...     torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        ...     torch.nn.Linear(8, 5))
        >>> class_activation_map(net, torch.randn(2, 3, 16, 16)).shape
        torch.Size([2, 16, 16])
    """
    if features is None:
        pools = [m for m in model.modules() if _is(m, "AdaptiveAvgPool2d")]
        if not pools:
            raise ValueError(
                "class_activation_map: no AdaptiveAvgPool2d in the model; name the "
                "feature layer with features=..."
            )
        feature_module, key = pools[-1], "input"
    else:
        feature_module, key = find_layer(model, features), "output"
    if classifier is None:
        linears = [m for m in model.modules() if _is(m, "Linear")]
        linear = linears[-1] if linears else None
    else:
        linear = find_layer(model, classifier)

    with eval_mode(model), capture(feature_module) as seen, torch.no_grad():
        scores = model(x)  # (N, num_classes)
    maps = seen[key]  # (N, K, h, w)
    if maps.dim() != 4:
        raise ValueError(
            f"class_activation_map: feature maps must be (N, K, h, w), got "
            f"{tuple(maps.shape)}; point features= at the last conv block"
        )
    if linear is None:  # NiN: one map per class already
        weight = torch.eye(maps.shape[1], device=maps.device, dtype=maps.dtype)
    else:
        weight = linear.weight.detach()  # (num_classes, K)
    if weight.shape[1] != maps.shape[1]:
        raise ValueError(
            f"class_activation_map: the classifier takes {weight.shape[1]} features "
            f"but the feature maps have K={maps.shape[1]} channels; set features= "
            "and classifier= to the layers around the global average pooling"
        )
    w = weight[_targets(target, scores)]  # (N, K): the target class's weights
    cam = torch.einsum("nk,nkhw->nhw", w, maps)  # sum_k w_ck f_k(x, y)
    if upsample:
        size = x.shape[-2:]
        cam = F.interpolate(cam.unsqueeze(1), size=size, mode="bilinear")[:, 0]
    return cam


def show_heatmaps(
    images: Tensor,
    maps: Tensor,
    *,
    mean: Stats = None,
    std: Stats = None,
    alpha: float = 0.5,
    cmap: str = "jet",
    titles: Sequence[str] | None = None,
    ncols: int = 4,
) -> Figure:
    """Overlay one heat map (saliency, CAM) on each image.

    Args:
        images: (N, C, H, W) inputs, normalised with ``mean``/``std`` if given.
        maps: (N, H, W) maps; each is scaled to its own [min, max].
        alpha: opacity of the heat map.
        titles: one title per image, optional.

    Returns:
        The figure, one axes per image.

    Example:
        >>> import torch
        >>> len(show_heatmaps(torch.rand(3, 3, 8, 8), torch.rand(3, 8, 8)).axes)
        3
    """
    if maps.dim() != 3 or maps.shape[0] != images.shape[0]:
        raise ValueError(
            f"show_heatmaps: maps must be (N, H, W) with N={images.shape[0]}, got "
            f"{tuple(maps.shape)}"
        )
    fig, axes = image_grid(len(images), ncols, panel_size=2.0)
    for i, ax in enumerate(axes):
        ax.imshow(to_numpy_image(images[i], mean, std), cmap="gray")
        heat = maps[i].detach().float().cpu()
        heat = (heat - heat.min()) / (heat.max() - heat.min()).clamp(min=1e-12)
        ax.imshow(heat.numpy(), cmap=cmap, alpha=alpha, vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    return fig
