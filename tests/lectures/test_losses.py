"""Softmax and loss examples of the lectures, recomputed with ``cnnlib.ops``."""

import math

import pytest
import torch

from cnnlib import ops
from tests.lectures._slides import grid

# Deck 001's three examples of class 1 (index 0), network outputs before softmax.
LOGITS = grid([[0.9, 0.2, 0.2], [0.2, 0.3, 0.2], [0.2, 0.9, 0.2]])
CLASS_1 = torch.tensor([0, 0, 0])


def test_deck001_cross_entropy_exercise_softmax_values():
    """001_555285b7037ab4ad.txt, "Exercice" on cross-entropy (lines 408-422): the
    softmax turns the three outputs into 0.5017 0.2491 0.2491, 0.3220 0.3559
    0.3220 and 0.2491 0.5017 0.2491 (4 decimals)."""
    probabilities = ops.softmax(LOGITS, dim=1)
    expected = grid(
        [[0.5017, 0.2491, 0.2491], [0.3220, 0.3559, 0.3220], [0.2491, 0.5017, 0.2491]]
    )
    torch.testing.assert_close(probabilities, expected, atol=5e-5, rtol=0)


def test_deck001_cross_entropy_exercise_losses():
    """001_555285b7037ab4ad.txt, "Exercice" on cross-entropy (lines 424-433): the
    cross-entropy of each example, -log of the probability of class 1.

    Erratum: the slide's 0.30, 0.49 and 0.60 are decimal logarithms
    (-log10(0.5017) = 0.2995). Cross-entropy, as cnnlib, torch and Keras compute
    it and as its gradient "softmax - target" assumes, uses the natural logarithm:
    0.69, 1.13 and 1.39. The slide's conclusion (the third example costs the most)
    holds in both bases, which differ by the factor ln(10).
    """
    losses = ops.cross_entropy(LOGITS, CLASS_1, reduction="none")
    torch.testing.assert_close(
        losses, grid([[0.6897, 1.1331, 1.3897]])[0], atol=5e-5, rtol=0
    )  # slide: 0.30, 0.49, 0.60
    in_base_10 = losses / math.log(10)
    assert [round(v, 2) for v in in_base_10.tolist()] == [0.30, 0.49, 0.60]
    assert torch.argmax(losses).item() == 2
    # "La fonction perte ... est la somme des entropies croisées"
    total = ops.cross_entropy(LOGITS, CLASS_1, reduction="sum")
    torch.testing.assert_close(total, losses.sum())


def test_deck001_cross_entropy_is_minus_sum_y_log_y_hat():
    """001_555285b7037ab4ad.txt, the loss slide (lines 394-396):
    l = -sum_k y_k log(y_hat_k) after the softmax, with one-hot targets y."""
    one_hot = torch.zeros(3, 3, dtype=torch.float64)
    one_hot[:, 0] = 1
    log_probabilities = ops.log_softmax(LOGITS, dim=1)
    from_one_hot = -(one_hot * log_probabilities).sum(dim=1)
    torch.testing.assert_close(
        ops.cross_entropy(LOGITS, CLASS_1, reduction="none"), from_one_hot
    )
    torch.testing.assert_close(
        ops.nll_loss(log_probabilities, CLASS_1, reduction="none"), from_one_hot
    )


def test_deck001_softmax_outputs_sum_to_one_and_keep_order(rng):
    """001_555285b7037ab4ad.txt, the softmax slide (lines 360-372): the last layer
    turns the K outputs into class probabilities."""
    scores = torch.randn(5, 10, generator=rng, dtype=torch.float64)
    probabilities = ops.softmax(scores, dim=1)
    assert bool((probabilities > 0).all())
    torch.testing.assert_close(
        probabilities.sum(dim=1), torch.ones(5, dtype=torch.float64)
    )
    assert torch.equal(probabilities.argsort(dim=1), scores.argsort(dim=1))


def test_deck002_binary_cross_entropy():
    """002_986ea5cd83fecb5a.txt, "LOSS FUNCTION - CLASSIFICATION" / "BINARY CROSS
    ENTROPY" (lines 1127-1131): -1/N sum [y log y~ + (1 - y) log(1 - y~)].

    Formula slip (not a value): the slide writes the factor -1/N on both sides of
    the equation ("-1/N L = -1/N sum ..."); the loss is the right-hand side.
    Example: y = (1, 0, 1), y~ = (0.9, 0.2, 0.6).
    """
    y_hat = torch.tensor([0.9, 0.2, 0.6], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    loss = ops.binary_cross_entropy(y_hat, y)
    expected = -(math.log(0.9) + math.log(1 - 0.2) + math.log(0.6)) / 3
    assert loss.item() == pytest.approx(expected, abs=1e-12)
    assert loss.item() == pytest.approx(0.27978, abs=1e-5)


def test_deck002_categorical_cross_entropy_over_10_digits(rng):
    """002_986ea5cd83fecb5a.txt, "CATEGORICAL CROSS ENTROPY" (lines 1133-1137) and
    the LeNet-5 softmax (line 1118): for digits y in {0, ..., 9} the loss is
    -1/N sum log y~^{y_i}, y~ the 10 outputs of the softmax.

    Slip: the slide writes y~ = [y~^0, ..., y~^10], eleven entries; with ten
    classes the vector ends at y~^9.
    """
    scores = torch.randn(4, 10, generator=rng, dtype=torch.float64)
    digits = torch.tensor([0, 3, 9, 9])
    probabilities = ops.softmax(scores, dim=1)
    assert probabilities.shape == (4, 10)  # y~^0 ... y~^9
    picked = probabilities[torch.arange(4), digits]
    torch.testing.assert_close(ops.cross_entropy(scores, digits), -picked.log().mean())


def test_deck001_mse_is_squared_norm_of_the_error():
    """001_555285b7037ab4ad.txt, the regression loss (lines 390-392):
    l = ||y - y_hat||^2 for one example; the loss averages it over examples.
    Example: y = (1, 2), y_hat = (1.5, 0) gives 0.25 + 4 = 4.25."""
    y = grid([[1.0, 2.0]])
    y_hat = grid([[1.5, 0.0]])
    assert ops.mse_loss(y_hat, y, reduction="sum").item() == 4.25
