"""From-scratch optimizers, step for step against torch.optim in float64."""

import copy

import pytest
import torch

from cnnlib.train import optim


def make_problem():
    """A small float64 MLP and a fixed regression batch."""
    gen = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ).double()
    x = torch.randn(16, 5, generator=gen, dtype=torch.float64)
    y = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    return model, x, y


def train(model, opt, x, y, steps=7):
    for i in range(steps):
        # A different loss each step (a minibatch stand-in) so the state matters.
        loss = ((model(x[i % 4 :: 2]) - y[i % 4 :: 2]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.01)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.8)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, weight_decay=0.1, eps=1e-6)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.05)),
]


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), CASES)
def test_parameters_equal_torch_after_several_steps(ours, theirs, kwargs):
    model, x, y = make_problem()
    twin = copy.deepcopy(model)
    start = torch.cat([p.detach().flatten() for p in model.parameters()]).clone()
    got = train(model, ours(model.parameters(), **kwargs), x, y)
    expected = train(twin, theirs(twin.parameters(), **kwargs), x, y)
    assert not torch.allclose(got, start)  # the parameters did move
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_parameters_without_gradient_are_left_alone():
    a = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    b = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = optim.Adam([a, b], lr=0.1)
    (a**2).sum().backward()
    opt.step()
    assert torch.equal(b, torch.ones(2, dtype=torch.float64))
    assert not torch.equal(a, torch.ones(2, dtype=torch.float64))


def test_state_dict_round_trip_resumes_identically():
    model, x, y = make_problem()
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, x, y, steps=3)
    twin = copy.deepcopy(model)
    twin_opt = optim.Adam(twin.parameters(), lr=0.01)
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    torch.testing.assert_close(train(model, opt, x, y), train(twin, twin_opt, x, y))


def test_bad_hyperparameters_are_refused():
    w = [torch.nn.Parameter(torch.zeros(1))]
    with pytest.raises(ValueError, match="SGD: lr"):
        optim.SGD(w, lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(w, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(w, betas=(0.9, 1.0))
