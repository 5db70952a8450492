"""CIFAR-10 from its original python-pickle batches, for lab machines.

60,000 colour images of 32x32 pixels in 10 classes (airplane, ..., truck): five
training batches of 10,000 images, one test batch. The book and the tests never call
this (it needs a 163 MB download); they use the procedural
:func:`~cnnlib.data.shapes.make_shapes` instead.
"""

import tarfile
from pathlib import Path

import torch

from cnnlib.data.download import default_cache_dir, download_file
from cnnlib.data.readers import read_cifar_batch, read_cifar_meta
from cnnlib.data.splits import DatasetSplits, stratified_split

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  # of the .tar.gz, as published
CIFAR10_FOLDER = "cifar-10-batches-py"  # what the archive unpacks to


def cifar10(
    root: str | Path | None = None,
    *,
    download: bool = False,
    val_fraction: float = 0.1,
    seed: int = 0,
    normalize: bool = True,
) -> DatasetSplits:
    """CIFAR-10 as train/val/test splits: 45,000 / 5,000 / 10,000 by default.

    The official test batch is the test split; the validation split is a
    stratified share of the 50,000 training images. Images are float32
    (N, 3, 32, 32) scaled to [0, 1], then standardised per channel with the
    training split's mean and std unless ``normalize=False``.

    Args:
        root: folder holding ``cifar-10-batches-py/`` (default ``<cache>/cifar10``,
            see :func:`cnnlib.data.download.default_cache_dir`).
        download: download and unpack the archive (md5-checked) if it is missing.
        val_fraction: share of the training images held out for validation.
        seed: seed of the validation split.
    """
    root = Path(root) if root is not None else default_cache_dir() / "cifar10"
    folder = root / CIFAR10_FOLDER
    if not (folder / "batches.meta").exists():
        if not download:
            raise FileNotFoundError(
                f"cifar10: {folder} not found; unpack cifar-10-python.tar.gz into "
                f"{root} or call cifar10(download=True) on a machine that is online"
            )
        archive = download_file(
            CIFAR10_URL, "cifar-10-python.tar.gz", CIFAR10_MD5, root
        )
        _extract(archive, root)

    batches = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    images = torch.cat([b[0] for b in batches]).float() / 255  # (50000, 3, 32, 32)
    labels = torch.cat([b[1] for b in batches])
    test_images, test_labels = read_cifar_batch(folder / "test_batch")
    train, val = stratified_split(labels, (1 - val_fraction, val_fraction), seed)
    return DatasetSplits.from_tensors(
        (images[train], labels[train]),
        (images[val], labels[val]),
        (test_images.float() / 255, test_labels),
        read_cifar_meta(folder / "batches.meta"),
        normalize=normalize,
    )


def _extract(archive: Path, root: Path) -> None:
    """Unpack a .tar.gz into root, refusing members that would land outside it."""
    with tarfile.open(archive, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            tar.extractall(root, filter="data")
            return
        for member in tar.getmembers():
            target = (root / member.name).resolve()
            if not target.is_relative_to(root.resolve()) or member.issym():
                raise ValueError(f"cifar10: unsafe path {member.name!r} in {archive}")
        tar.extractall(root)
