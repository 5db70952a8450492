"""Perceptron, logistic/softmax regression and the MLP."""

import torch

from cnnlib import models, nn
from tests.models.helpers import assert_scratch_matches_native, count_params


def test_perceptron_is_one_linear_layer():
    model = models.perceptron(2)
    assert count_params(model) == 2 + 1  # w1, w2, b
    assert model(torch.randn(5, 2)).shape == (5, 1)
    assert models.perceptron(64, num_classes=3)(torch.randn(4, 1, 8, 8)).shape == (4, 3)


def test_logistic_regression_heads():
    logits = models.logistic_regression(64, num_classes=10)
    assert count_params(logits) == 64 * 10 + 10
    assert not isinstance(logits[-1], nn.Softmax)
    probs = models.logistic_regression(64, num_classes=10, probabilities=True)
    p = probs(torch.randn(3, 64))
    assert torch.allclose(p.sum(1), torch.ones(3))
    binary = models.logistic_regression(4, probabilities=True)
    q = binary(torch.randn(6, 4))
    assert q.shape == (6, 1) and ((q > 0) & (q < 1)).all()


def test_mlp_parameter_count_and_shape():
    model = models.mlp(28 * 28, hidden_sizes=(128, 64), num_classes=10)
    assert count_params(model) == (784 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10)
    assert model(torch.randn(4, 1, 28, 28)).shape == (4, 10)


def test_mlp_activation_and_dropout():
    model = models.mlp(8, (16, 16), 3, activation=nn.Tanh, dropout=0.5)
    kinds = [type(m) for m in model]
    assert kinds.count(nn.Tanh) == 2 and kinds.count(nn.Dropout) == 2
    no_hidden = models.mlp(8, (), 3)
    assert count_params(no_hidden) == 8 * 3 + 3


def test_scratch_matches_native():
    assert_scratch_matches_native(models.mlp(64, (32, 16), 10, dropout=0.2), (4, 64))
    probs = models.logistic_regression(64, 10, probabilities=True)
    assert_scratch_matches_native(probs, (4, 1, 8, 8))
