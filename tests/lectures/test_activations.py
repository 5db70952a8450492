"""Activation functions and their derivatives as deck 001 states them, checked with
``cnnlib.ops`` (the derivatives come from cnnlib's own backward passes)."""

import pytest
import torch

from cnnlib import ops

POINTS = torch.tensor([-3.0, -1.0, -0.25, 0.5, 2.0, 4.0], dtype=torch.float64)


def derivative(f, x: torch.Tensor) -> torch.Tensor:
    """df/dx at each point, from cnnlib's backward pass."""
    x = x.clone().requires_grad_()
    f(x).sum().backward()
    return x.grad


@pytest.mark.parametrize("lam", [1.0, 2.0, 0.5])
def test_deck001_sigmoid_with_slope_lambda_and_its_derivative(lam):
    """001_555285b7037ab4ad.txt, "Différentes fonctions d'activations possibles" /
    "Sigmoïde" (lines 468-473): f(x) = 1 / (1 + exp(-lambda x)).

    Erratum (formula): the slide writes f'(x) = lambda e^(-lambda x) /
    (1 + e^(-lambda x))^2 = f(x)(1 - f(x)). The middle expression is right, but
    it equals lambda f(x)(1 - f(x)); the factor lambda is lost in the last step,
    which holds only for lambda = 1.
    """

    def f(x):
        return ops.sigmoid(lam * x)

    fx = f(POINTS)
    torch.testing.assert_close(fx, 1 / (1 + torch.exp(-lam * POINTS)))
    grad = derivative(f, POINTS)
    torch.testing.assert_close(grad, lam * fx * (1 - fx))
    middle = lam * torch.exp(-lam * POINTS) / (1 + torch.exp(-lam * POINTS)) ** 2
    torch.testing.assert_close(grad, middle)
    if lam != 1.0:
        assert not torch.allclose(grad, fx * (1 - fx))


def test_deck001_sigmoid_saturates_and_is_not_centred():
    """001_555285b7037ab4ad.txt, "Deux inconvénients" (lines 478-481): the
    gradient vanishes for large activations; the output (0.5 at 0) is not
    centred."""
    assert ops.sigmoid(torch.zeros(1)).item() == 0.5
    grad = derivative(ops.sigmoid, torch.tensor([0.0, 10.0], dtype=torch.float64))
    assert grad[0].item() == 0.25
    assert grad[1].item() < 1e-4


def test_deck001_tanh_derivative_is_one_minus_f_squared():
    """001_555285b7037ab4ad.txt, "Tangente hyperbolique" (lines 483-497):
    f'(x) = 1 - f(x)^2; the output is centred (tanh(0) = 0)."""
    fx = ops.tanh(POINTS)
    torch.testing.assert_close(derivative(ops.tanh, POINTS), 1 - fx**2)
    assert ops.tanh(torch.zeros(1)).item() == 0.0


def test_deck001_relu_and_its_derivative():
    """001_555285b7037ab4ad.txt, "RELU (REctified Linear Unit)" (lines 501-505):
    f(x) = max(0, x), f'(x) = 0 for x <= 0 and 1 for x > 0."""
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0], dtype=torch.float64)
    assert ops.relu(x).tolist() == [0.0, 0.0, 0.0, 0.5, 3.0]
    assert derivative(ops.relu, x).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_deck001_leaky_relu_alpha_0_01():
    """001_555285b7037ab4ad.txt, "LeakyRELU" (lines 520-522):
    f(x) = max(alpha x, x) with alpha = 0.01."""
    y = ops.leaky_relu(POINTS, negative_slope=0.01)
    torch.testing.assert_close(y, torch.maximum(0.01 * POINTS, POINTS))
    grad = derivative(lambda x: ops.leaky_relu(x, negative_slope=0.01), POINTS)
    torch.testing.assert_close(grad, torch.where(POINTS > 0, 1.0, 0.01).double())
