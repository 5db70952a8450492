"""Training arithmetic and normalisation claims of deck 001, checked with cnnlib."""

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from cnnlib import ops


def test_deck001_batches_and_iterations_200_examples():
    """001_555285b7037ab4ad.txt, "Terminologie" / "Exercice" (lines 676-692): 200
    training examples, batches of 5, 1000 epochs: 40 batches per epoch and
    40,000 iterations (one iteration = one batch seen)."""
    loader = DataLoader(TensorDataset(torch.zeros(200, 1)), batch_size=5)
    epochs = 1000
    assert len(loader) == 40
    assert len(loader) * epochs == 40_000


def test_deck001_vgg16_learning_rate_divided_by_10_three_times():
    """001_555285b7037ab4ad.txt, "VGG16" training recipe (lines 1541-1555): the
    learning rate starts at 0.01 and is divided by 10 three times, ending at
    0.00001."""
    rate = 0.01
    for _ in range(3):
        rate /= 10
    assert rate == pytest.approx(1e-5)


def test_deck001_batch_norm_standardises_each_input(rng):
    """001_555285b7037ab4ad.txt, "La batch normalisation" (lines 694-704): each
    input x_k is replaced by (x_k - mu_k) / sigma_k, mean and standard deviation
    over the batch; at test time statistics estimated on the whole training set
    are used instead (lines 732-736)."""
    x = 3 + 2 * torch.randn(64, 5, generator=rng, dtype=torch.float64)
    y = ops.batch_norm(x, None, None, training=True, eps=0.0)
    torch.testing.assert_close(y.mean(dim=0), torch.zeros(5, dtype=torch.float64))
    torch.testing.assert_close(
        y.std(dim=0, unbiased=False), torch.ones(5, dtype=torch.float64)
    )
    mu = torch.full((5,), 3.0, dtype=torch.float64)
    var = torch.full((5,), 4.0, dtype=torch.float64)
    at_test = ops.batch_norm(x, mu, var, training=False, eps=0.0)
    torch.testing.assert_close(at_test, (x - 3) / 2)


def test_deck001_dropout_removes_neurons_in_training_only():
    """001_555285b7037ab4ad.txt, "Le dropout" (lines 745-754): during training
    neurons are removed at random; at test time all are used."""
    x = torch.ones(10_000, dtype=torch.float64)
    assert torch.equal(ops.dropout(x, p=0.5, training=False), x)
    torch.manual_seed(0)
    dropped = ops.dropout(x, p=0.5, training=True)
    assert (dropped == 0).double().mean().item() == pytest.approx(0.5, abs=0.03)


def test_deck001_minibatch_gradient_is_the_batch_average(rng):
    """001_555285b7037ab4ad.txt, "Descente de gradient par mini-batch" (lines
    644-651): the update after each mini-batch uses the gradient averaged over
    that batch.

    Formula slip: the slide keeps the factor 1/N of full-batch descent (N is the
    size of the whole training set, line 388) in front of the sum over the batch;
    the average over a batch of B examples divides by B.
    """
    logits = torch.randn(4, 3, generator=rng, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([0, 2, 1, 0])
    ops.cross_entropy(logits, targets, reduction="mean").backward()
    batch_mean = logits.grad.clone()
    logits.grad = None
    ops.cross_entropy(logits, targets, reduction="sum").backward()
    torch.testing.assert_close(batch_mean, logits.grad / 4)
