"""digits() and mnist5k(): offline, stratified, normalised with training statistics."""

import pytest
import torch

from cnnlib.data import digits, mnist5k


def _all(splits, index):
    return torch.cat(
        [getattr(splits, name).tensors[index] for name in ("train", "val", "test")]
    )


def test_digits_shapes_sizes_and_classes():
    splits = digits()
    images, labels = splits.train.tensors
    assert images.shape[1:] == (1, 8, 8) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert (len(splits.train), len(splits.val), len(splits.test)) == (1258, 270, 269)
    assert splits.classes == [str(d) for d in range(10)]
    for part in (splits.train, splits.val, splits.test):
        counts = torch.bincount(part.tensors[1], minlength=10)
        assert counts.min() > 0.9 * counts.float().mean()  # stratified


def test_digits_raw_values_are_scaled_to_unit_range():
    raw = digits(normalize=False)
    images = _all(raw, 0)
    assert images.min() == 0 and images.max() == 1
    # 0..16 divided by 16: every value is a multiple of 1/16.
    assert torch.allclose(images * 16, (images * 16).round())


def test_digits_normalisation_uses_training_statistics():
    raw, normalized = digits(normalize=False), digits()
    x = raw.train.tensors[0]
    assert torch.allclose(normalized.mean, x.mean().view(1), atol=1e-6)
    assert torch.allclose(normalized.std, x.std(correction=0).view(1), atol=1e-6)
    expected = (raw.test.tensors[0] - normalized.mean) / normalized.std
    assert torch.allclose(normalized.test.tensors[0], expected, atol=1e-6)


def test_digits_split_depends_on_seed_only():
    a, b, c = digits(seed=0), digits(seed=0), digits(seed=1)
    assert torch.equal(a.test.tensors[0], b.test.tensors[0])
    assert not torch.equal(a.test.tensors[0], c.test.tensors[0])


def test_digits_flatten_for_mlps():
    splits = digits(flatten=True)
    assert splits.train.tensors[0].shape == (1258, 64)


@pytest.fixture(scope="module")
def mnist_splits():
    return mnist5k()


def test_mnist5k_sizes_balance_and_range(mnist_splits):
    sizes = [len(mnist_splits.train), len(mnist_splits.val), len(mnist_splits.test)]
    assert sizes == [3500, 750, 750]
    assert mnist_splits.input_shape == (1, 28, 28)
    assert torch.equal(
        torch.bincount(mnist_splits.test.tensors[1]), torch.full((10,), 75)
    )
    raw = mnist_splits.denormalize(mnist_splits.train.tensors[0])
    assert raw.min() > -1e-5 and raw.max() < 1 + 1e-5
    assert 0.05 < mnist_splits.mean.item() < 0.2  # mostly black background


def test_mnist5k_splits_are_disjoint(mnist_splits):
    train = mnist_splits.train.tensors[0].flatten(1)
    test = mnist_splits.test.tensors[0].flatten(1)
    # No test digit is an exact copy of a training digit.
    assert torch.cdist(test[:200], train).min() > 0


def test_mnist5k_pad_to_32_for_lenet(mnist_splits):
    padded = mnist5k(pad_to=32)
    images = padded.train.tensors[0]
    assert images.shape[1:] == (1, 32, 32)
    background = -padded.mean / padded.std  # a raw 0 after standardisation
    assert torch.allclose(images[:, :, :2], background.expand_as(images[:, :, :2]))
    # Zero padding adds background, so the training mean drops.
    assert padded.mean < mnist_splits.mean


def test_mnist5k_flatten_and_labels(mnist_splits):
    flat = mnist5k(flatten=True)
    assert flat.input_shape == (784,)
    assert torch.equal(flat.train.tensors[1], mnist_splits.train.tensors[1])
