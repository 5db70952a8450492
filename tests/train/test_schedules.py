"""Closed-form schedules against torch's StepLR and ExponentialLR."""

import math

import pytest
import torch

from cnnlib.train.schedules import (
    ExponentialDecay,
    StepDecay,
    exponential_decay,
    step_decay,
)


def rates(make_scheduler, epochs=10, lr=0.1):
    """The learning rate in force during each epoch, stepping once per epoch."""
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_step_decay_matches_torch_steplr():
    ours = rates(lambda o: StepDecay(o, step_size=3, gamma=0.5))
    torchs = rates(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5))
    assert ours == pytest.approx(torchs, rel=1e-12)
    assert ours[:4] == pytest.approx([0.1, 0.1, 0.1, 0.05])


def test_exponential_decay_matches_torch_exponentiallr():
    ours = rates(lambda o: ExponentialDecay(o, gamma=0.8))
    torchs = rates(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8))
    assert ours == pytest.approx(torchs, rel=1e-12)


def test_exponential_decay_beta_is_gamma_exp_minus_beta():
    by_beta = rates(lambda o: ExponentialDecay(o, beta=0.3))
    by_gamma = rates(lambda o: ExponentialDecay(o, gamma=math.exp(-0.3)))
    assert by_beta == pytest.approx(by_gamma, rel=1e-12)
    assert by_beta[4] == pytest.approx(0.1 * math.exp(-0.3 * 4))


def test_functions_follow_the_formulas():
    assert [step_decay(k, 1.0, 0.1, 2) for k in range(5)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01]
    )
    assert exponential_decay(3, 2.0, beta=0.5) == pytest.approx(2 * math.exp(-1.5))
    assert exponential_decay(3, 2.0, gamma=0.5) == pytest.approx(0.25)


def test_functions_work_with_lambdalr():
    ours = rates(
        lambda o: torch.optim.lr_scheduler.LambdaLR(
            o, lambda k: step_decay(k, 1, 0.5, 2)
        )
    )
    assert ours[:5] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="exactly one of beta or gamma"):
        exponential_decay(1, 1.0)
    with pytest.raises(ValueError, match="step_size"):
        step_decay(1, 1.0, step_size=0)
