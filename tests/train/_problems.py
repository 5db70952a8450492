"""Tiny, fast, separable problems shared by the training tests."""

import torch
from torch.utils.data import DataLoader, TensorDataset


def images(n: int = 96, seed: int = 0) -> TensorDataset:
    """(N, 1, 6, 6) noise images; class 1 when the left half is brighter."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 6, 6, generator=gen)
    y = (x[..., :3].sum(dim=(1, 2, 3)) > x[..., 3:].sum(dim=(1, 2, 3))).long()
    return TensorDataset(x, y)


def loader(dataset: TensorDataset, batch_size: int = 16, shuffle: bool = False):
    gen = torch.Generator().manual_seed(0)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=gen)


def small_cnn(seed: int = 0) -> torch.nn.Module:
    """Conv -> ReLU -> Linear on 6x6 inputs, 2 classes (~300 parameters)."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 2),
    )


def masks(n: int = 32, seed: int = 0) -> TensorDataset:
    """(N, 1, 8, 8) images and (N, 8, 8) masks: a pixel is class 1 where it is > 0."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=gen)
    return TensorDataset(x, (x[:, 0] > 0).long())
