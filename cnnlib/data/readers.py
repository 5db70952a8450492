"""Readers for the file formats of the classic datasets: MNIST's IDX, CIFAR's pickles.

IDX (http://yann.lecun.com/exdb/mnist/) is a tiny binary format for n-dimensional
arrays: a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), each dimension as a big-endian uint32, then the values, big-endian, in
row-major order. MNIST ships its images (N, 28, 28) and labels (N,) as gzipped IDX.

CIFAR-10's "python version" (https://www.cs.toronto.edu/~kriz/cifar.html) stores
each batch of 10,000 images as a pickled dict: ``data`` is a uint8 array (N, 3072)
holding each 32x32 image's red, then green, then blue plane; ``labels`` is a list of
N ints. ``batches.meta`` holds the class names.
"""

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

# IDX type code -> big-endian NumPy dtype of the stored values.
_IDX_TYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def _read_bytes(path: str | Path) -> bytes:
    """File content, decompressed if it is gzip (recognised by its magic bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def read_idx(path: str | Path) -> Tensor:
    """Read an IDX file (raw or gzip-compressed) into a tensor.

    Args:
        path: e.g. ``train-images-idx3-ubyte.gz``.

    Returns:
        A tensor with the file's shape, e.g. (N, 28, 28) uint8 for MNIST images
        and (N,) uint8 for labels. Types: uint8, int8, int16, int32, float32,
        float64, as stored.
    """
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number)")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} has unknown IDX type code {type_code:#04x}")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header])  # big-endian uint32 sizes
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"read_idx: {path} declares shape {shape} ({expected} bytes of data) "
            f"but holds {len(data) - header} bytes"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    # Convert to the machine's byte order; torch only holds native-order arrays.
    return torch.from_numpy(values.astype(dtype.newbyteorder("=")))


def read_cifar_batch(path: str | Path) -> tuple[Tensor, Tensor]:
    """Read one CIFAR-10 (or CIFAR-100) python batch, e.g. ``data_batch_1``.

    Unpickling can run code: only read files from a source you trust (checked by
    :func:`cnnlib.data.download.download`'s checksum).

    Returns:
        images: (N, 3, 32, 32) uint8.
        labels: (N,) int64 (CIFAR-100: the fine labels).
    """
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    if not isinstance(batch, dict) or b"data" not in batch:
        raise ValueError(f"read_cifar_batch: {path} is not a CIFAR batch (no data)")
    label_key = b"labels" if b"labels" in batch else b"fine_labels"
    if label_key not in batch:
        raise ValueError(f"read_cifar_batch: {path} has no labels")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())  # (N, 3, H, W)
    labels = torch.tensor(batch[label_key], dtype=torch.long)
    if len(images) != len(labels):
        raise ValueError(
            f"read_cifar_batch: {path} has {len(images)} images, {len(labels)} labels"
        )
    return images, labels


def read_cifar_meta(path: str | Path) -> list[str]:
    """Class names from a CIFAR ``batches.meta`` file, index = label."""
    with open(path, "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    names = meta.get(b"label_names", meta.get(b"fine_label_names"))
    if names is None:
        raise ValueError(f"read_cifar_meta: {path} has no label names")
    return [name.decode() if isinstance(name, bytes) else name for name in names]
