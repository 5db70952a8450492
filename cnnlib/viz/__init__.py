"""Plots of the course: training curves, images, filters, feature maps, saliency, masks.

Every function returns a ``matplotlib.figure.Figure`` built without ``pyplot``:
nothing is shown or changed globally; a notebook displays the returned figure,
a script saves it with ``fig.savefig(path)``.

* ``plot_history``: loss and metrics per epoch (``fit``'s ``History``);
* ``show_images``: image grids with labels and predictions;
* ``show_filters``: first-layer conv filters;
* ``feature_maps`` / ``show_feature_maps``: any layer's output, via hooks;
* ``saliency``, ``class_activation_map``, ``show_heatmaps``: where a model looks;
* ``activation_maximisation``: the image a filter responds to most;
* ``overlay_mask``: segmentation masks over images;
* ``plot_confusion_matrix``: which classes are confused.
"""

from cnnlib.viz.confusion import plot_confusion_matrix
from cnnlib.viz.curves import plot_history
from cnnlib.viz.features import feature_maps, find_layer, show_feature_maps
from cnnlib.viz.filters import show_filters
from cnnlib.viz.images import denormalize, show_images, to_numpy_image
from cnnlib.viz.maximisation import (
    activation_maximisation,
    show_activation_maximisation,
)
from cnnlib.viz.saliency import class_activation_map, saliency, show_heatmaps
from cnnlib.viz.segmentation import class_colors, mask_to_rgb, overlay_mask

__all__ = [
    "activation_maximisation",
    "class_activation_map",
    "class_colors",
    "denormalize",
    "feature_maps",
    "find_layer",
    "mask_to_rgb",
    "overlay_mask",
    "plot_confusion_matrix",
    "plot_history",
    "saliency",
    "show_activation_maximisation",
    "show_feature_maps",
    "show_filters",
    "show_heatmaps",
    "show_images",
    "to_numpy_image",
]
