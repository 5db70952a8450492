"""Learning-rate schedules from the lectures: step decay and exponential decay.

With k the epoch index (0 for the first epoch) and lr_0 the initial rate:

* step decay:        lr_k = lr_0 * gamma ** floor(k / s)
  (the rate is multiplied by gamma every s epochs: VGG divided it by 10, gamma=0.1);
* exponential decay: lr_k = lr_0 * exp(-beta * k) = lr_0 * gamma ** k,
  with gamma = exp(-beta) (the lecture writes lambda_it = lambda_0 e^(-beta it)).

Each schedule comes twice: as a plain function of the epoch, to compute or plot,
and as a ``torch.optim.lr_scheduler.LRScheduler`` that drives any torch optimizer
when ``scheduler.step()`` is called once per epoch (``fit`` does that). They give
the same rates as torch's ``StepLR`` and ``ExponentialLR``, but are computed from
the closed-form formula above instead of by repeated multiplication.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.SGD([w], lr=0.1)
    >>> sched = StepDecay(opt, step_size=2, gamma=0.5)
    >>> rates = []
    >>> for epoch in range(5):
    ...     rates.append(opt.param_groups[0]["lr"])
    ...     opt.step()
    ...     sched.step()
    >>> rates
    [0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


def step_decay(
    epoch: int, lr0: float, gamma: float = 0.1, step_size: int = 10
) -> float:
    """lr_k = lr0 * gamma ** floor(k / step_size).

    Args:
        epoch: k, the epoch index (0-based).
        lr0: initial learning rate.
        gamma: factor applied every ``step_size`` epochs (0 < gamma <= 1 to decay).
        step_size: s, epochs between two drops.

    Example:
        >>> [step_decay(k, 1.0, gamma=0.5, step_size=2) for k in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    if step_size < 1:
        raise ValueError(f"step_decay: step_size must be >= 1, got {step_size}")
    return lr0 * gamma ** (epoch // step_size)


def exponential_decay(
    epoch: int, lr0: float, beta: float | None = None, gamma: float | None = None
) -> float:
    """lr_k = lr0 * exp(-beta * k), or equivalently lr0 * gamma ** k.

    Give exactly one of ``beta`` (the lecture's decay rate) or ``gamma`` (torch's
    ``ExponentialLR`` factor); they are related by gamma = exp(-beta).

    Example:
        >>> round(exponential_decay(2, 1.0, beta=math.log(2)), 6)
        0.25
        >>> exponential_decay(2, 1.0, gamma=0.5)
        0.25
    """
    if (beta is None) == (gamma is None):
        raise ValueError("exponential_decay: give exactly one of beta or gamma")
    if beta is not None:
        return lr0 * math.exp(-beta * epoch)
    return lr0 * gamma**epoch


class StepDecay(LRScheduler):
    """Step decay for any optimizer: lr_k = lr_0 * gamma ** floor(k / step_size).

    lr_0 is each parameter group's learning rate when the scheduler is created.
    Call ``step()`` once at the end of every epoch.

    Args:
        optimizer: any ``torch.optim.Optimizer``.
        step_size: epochs between two drops.
        gamma: multiplicative factor of each drop.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        step_size: int,
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        if step_size < 1:
            raise ValueError(f"StepDecay: step_size must be >= 1, got {step_size}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            step_decay(self.last_epoch, lr0, self.gamma, self.step_size)
            for lr0 in self.base_lrs
        ]


class ExponentialDecay(LRScheduler):
    """Exponential decay for any optimizer: lr_k = lr_0 exp(-beta k) = lr_0 gamma^k.

    Give exactly one of ``beta`` or ``gamma`` (gamma = exp(-beta)). Call ``step()``
    once at the end of every epoch.

    Args:
        optimizer: any ``torch.optim.Optimizer``.
        beta: decay rate of the lecture's formula.
        gamma: per-epoch factor, as in ``torch.optim.lr_scheduler.ExponentialLR``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        beta: float | None = None,
        gamma: float | None = None,
        last_epoch: int = -1,
    ) -> None:
        if (beta is None) == (gamma is None):
            raise ValueError("ExponentialDecay: give exactly one of beta or gamma")
        self.beta = beta
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            exponential_decay(self.last_epoch, lr0, self.beta, self.gamma)
            for lr0 in self.base_lrs
        ]
