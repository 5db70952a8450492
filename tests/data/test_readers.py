"""IDX and CIFAR readers, and the full-dataset loaders, on tiny files in tmp_path."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from cnnlib.data import cifar10, mnist, read_cifar_batch, read_cifar_meta, read_idx

IDX_CODES = {np.uint8: 0x08, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D}


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    """Write an IDX file by hand: magic, big-endian sizes, big-endian values."""
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_images_and_labels(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    write_idx(tmp_path / "images", images, compress)
    write_idx(tmp_path / "labels", labels, compress)
    read_images, read_labels = (
        read_idx(tmp_path / "images"),
        read_idx(tmp_path / "labels"),
    )
    assert read_images.dtype == torch.uint8 and read_images.shape == (5, 28, 28)
    assert torch.equal(read_images, torch.from_numpy(images))
    assert torch.equal(read_labels, torch.from_numpy(labels))


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32])
def test_read_idx_converts_big_endian_values(tmp_path, dtype):
    array = (np.arange(12).reshape(3, 4) * 1000 - 5000).astype(dtype)
    write_idx(tmp_path / "values.idx", array)
    assert np.array_equal(read_idx(tmp_path / "values.idx").numpy(), array)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(ValueError, match="read_idx: .*magic"):
        read_idx(tmp_path / "bad")
    truncated = struct.pack(">BBBBI", 0, 0, 0x08, 1, 10) + b"abc"
    (tmp_path / "short").write_bytes(truncated)
    with pytest.raises(ValueError, match="10 bytes of data.*3 bytes"):
        read_idx(tmp_path / "short")


def write_cifar_batch(path, images: np.ndarray, labels: list[int]) -> None:
    """A CIFAR python batch: a pickled dict with bytes keys, rows of R, G, B planes."""
    batch = {b"data": images.reshape(len(images), -1), b"labels": labels}
    path.write_bytes(pickle.dumps(batch))


def test_read_cifar_batch_keeps_channel_planes(tmp_path):
    images = np.zeros((4, 3, 32, 32), dtype=np.uint8)
    images[:, 0], images[:, 1], images[:, 2] = 10, 20, 30  # R, G, B planes
    images[1, :, 0, 5] = 255  # one marked pixel: row 0, column 5
    write_cifar_batch(tmp_path / "data_batch_1", images, [0, 1, 2, 3])
    read, labels = read_cifar_batch(tmp_path / "data_batch_1")
    assert read.shape == (4, 3, 32, 32) and read.dtype == torch.uint8
    assert read[0, :, 7, 7].tolist() == [10, 20, 30]
    assert read[1, :, 0, 5].tolist() == [255, 255, 255]
    assert labels.dtype == torch.int64 and labels.tolist() == [0, 1, 2, 3]


def test_read_cifar_meta_decodes_names(tmp_path):
    meta = {b"label_names": [b"airplane", b"automobile"], b"num_vis": 3072}
    (tmp_path / "batches.meta").write_bytes(pickle.dumps(meta))
    assert read_cifar_meta(tmp_path / "batches.meta") == ["airplane", "automobile"]
    (tmp_path / "not_a_batch").write_bytes(pickle.dumps({b"other": 1}))
    with pytest.raises(ValueError, match="read_cifar_batch: .*not a CIFAR batch"):
        read_cifar_batch(tmp_path / "not_a_batch")


def make_mnist_folder(folder, n_train: int = 100, n_test: int = 20) -> None:
    rng = np.random.default_rng(1)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, compress=True)
        # Labels uncompressed: mnist() accepts either form.
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)


def test_mnist_reads_idx_folder_and_keeps_official_test_split(tmp_path):
    make_mnist_folder(tmp_path)
    splits = mnist(tmp_path, val_fraction=0.2)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (80, 20, 20)
    assert torch.equal(torch.bincount(splits.val.tensors[1]), torch.full((10,), 2))
    assert splits.input_shape == (1, 28, 28)
    train = splits.train.tensors[0]
    assert torch.allclose(train.mean(), torch.tensor(0.0), atol=1e-5)


def test_mnist_missing_files_explain_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        mnist(tmp_path)


def make_cifar_folder(folder, per_batch: int = 10) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    names = [f"batch_{i}" for i in range(1, 6)]
    for name in [f"data_{n}" for n in names] + ["test_batch"]:
        images = rng.integers(0, 256, size=(per_batch, 3, 32, 32), dtype=np.uint8)
        write_cifar_batch(folder / name, images, [i % 10 for i in range(per_batch)])
    classes = [f"class{k}".encode() for k in range(10)]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": classes}))


def test_cifar10_reads_the_python_batches(tmp_path):
    make_cifar_folder(tmp_path / "cifar-10-batches-py")
    splits = cifar10(tmp_path, val_fraction=0.2)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (40, 10, 10)
    assert splits.classes == [f"class{k}" for k in range(10)]
    assert splits.input_shape == (3, 32, 32)
    assert splits.mean.shape == (3,) and (splits.mean > 0.4).all()


def test_cifar10_missing_folder_explains_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar10.*download=True"):
        cifar10(tmp_path)
