"""DataLoaders for a DatasetSplits, with reproducible shuffling.

Augmentation is *not* done here: it runs on whole batches, on the training device,
in the training loop (see :mod:`cnnlib.data.transforms`). A plain loop reads:

    loaders = make_loaders(splits, batch_size=128, seed=0)
    augment = Compose([RandomCrop(padding=2), RandomHorizontalFlip()], seed=0)
    for images, targets in loaders.train:
        images, targets = images.to(device), targets.to(device)
        images, targets = augment(images, targets)  # training batches only
        ...

which is what ``cnnlib.train.fit(model, loaders.train, loaders.val,
transform=augment)`` does for you.
"""

from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, Dataset

from cnnlib.data.splits import DatasetSplits


class Loaders(NamedTuple):
    """The three DataLoaders of a DatasetSplits."""

    train: DataLoader
    val: DataLoader
    test: DataLoader


def make_loaders(
    splits: DatasetSplits,
    batch_size: int = 64,
    *,
    eval_batch_size: int | None = None,
    seed: int = 0,
    num_workers: int = 0,
    pin_memory: bool | None = None,
    drop_last: bool = False,
) -> Loaders:
    """Build train/val/test DataLoaders; only the training one shuffles.

    Args:
        splits: e.g. ``mnist5k()`` or ``shapes_splits()``.
        batch_size: training batch size.
        eval_batch_size: batch size of val/test (default: batch_size). Evaluation
            keeps no activations for backpropagation, so it can be larger.
        seed: seed of the shuffling generator. The order of the training set is
            different at every epoch, and the sequence of epochs is the same for
            the same seed.
        num_workers: loader processes. The datasets are in-memory tensors, so 0
            (load in the main process) is usually fastest.
        pin_memory: page-lock batches for faster asynchronous copies to a GPU
            (``.to(device, non_blocking=True)``); default: True when CUDA is
            available.
        drop_last: drop the last, smaller training batch (keeps batch norm
            statistics from a tiny batch out of training).
    """
    if batch_size < 1:
        raise ValueError(f"make_loaders: batch_size must be >= 1, got {batch_size}")
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    eval_batch_size = eval_batch_size or batch_size
    common = {
        "num_workers": num_workers,
        "pin_memory": pin_memory,
        "persistent_workers": num_workers > 0,  # don't respawn workers every epoch
    }

    def evaluation(dataset: Dataset) -> DataLoader:
        return DataLoader(dataset, batch_size=eval_batch_size, shuffle=False, **common)

    train = DataLoader(
        splits.train,
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        drop_last=drop_last,
        **common,
    )
    return Loaders(train, evaluation(splits.val), evaluation(splits.test))
