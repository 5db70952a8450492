"""make_loaders: sizes, reproducible shuffling, evaluation order."""

import torch

from cnnlib.data import DatasetSplits, make_loaders


def tiny_splits(n: int = 50) -> DatasetSplits:
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1)
    labels = torch.arange(n) % 5
    part = (images, labels)
    return DatasetSplits.from_tensors(part, part, part, list("abcde"), normalize=False)


def epoch_order(loader) -> list[int]:
    return [int(v) for x, _ in loader for v in x.flatten()]


def test_loaders_cover_each_split_with_the_requested_batches():
    loaders = make_loaders(tiny_splits(), batch_size=16, eval_batch_size=25)
    assert [len(x) for x, _ in loaders.train] == [16, 16, 16, 2]
    assert [len(x) for x, _ in loaders.val] == [25, 25]
    assert sorted(epoch_order(loaders.train)) == list(range(50))
    dropped = make_loaders(tiny_splits(), batch_size=16, drop_last=True)
    assert len(dropped.train) == 3


def test_training_order_is_shuffled_reproducibly_by_seed():
    splits = tiny_splits()
    a = make_loaders(splits, batch_size=10, seed=0).train
    b = make_loaders(splits, batch_size=10, seed=0).train
    c = make_loaders(splits, batch_size=10, seed=1).train
    torch.manual_seed(99)  # the global RNG plays no part
    epoch_a, epoch_b = epoch_order(a), epoch_order(b)
    assert epoch_a == epoch_b
    assert epoch_a != list(range(50))
    assert epoch_a != epoch_order(c)
    second_a, second_b = epoch_order(a), epoch_order(b)
    assert second_a != epoch_a  # a new order every epoch...
    assert second_a == second_b  # ... in the same sequence for the same seed


def test_evaluation_loaders_keep_dataset_order():
    loaders = make_loaders(tiny_splits(), batch_size=8)
    assert epoch_order(loaders.val) == list(range(50))
    assert epoch_order(loaders.test) == list(range(50))


def test_pin_memory_follows_cuda_by_default():
    loaders = make_loaders(tiny_splits(), batch_size=8)
    assert loaders.train.pin_memory == torch.cuda.is_available()
    assert make_loaders(tiny_splits(), pin_memory=False).val.pin_memory is False
