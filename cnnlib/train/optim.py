"""Gradient-descent optimizers written out: SGD (momentum, Nesterov), RMSProp, Adam.

Each is a ``torch.optim.Optimizer`` subclass, so it plugs into ``fit``, into
learning-rate schedulers and into checkpoints like torch's own, but its ``step``
is the update rule of the lecture, one line per equation. Notation, for one
parameter tensor w with gradient g = dL/dw at step t (t = 1, 2, ...):

* SGD:       v <- mu v + g;             w <- w - lr v
  (Nesterov: w <- w - lr (g + mu v), the gradient looked at "one step ahead")
* RMSProp:   s <- alpha s + (1 - alpha) g^2;   w <- w - lr g / (sqrt(s) + eps)
* Adam:      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
             m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t)
             w <- w - lr m_hat / (sqrt(v_hat) + eps)

Weight decay adds ``weight_decay * w`` to g first (L2 regularisation). The results
equal ``torch.optim.SGD``/``RMSprop``/``Adam`` with the same settings (tested step
for step in float64).

References: Polyak 1964 (momentum); Sutskever et al. 2013 (Nesterov momentum for
deep learning); Tieleman & Hinton 2012, Coursera lecture 6.5 (RMSProp); Kingma &
Ba 2015 (Adam).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor
from torch.optim import Optimizer

Params = Iterable[Tensor] | Iterable[dict]


def _check(name: str, **values: float) -> None:
    for arg, value in values.items():
        if value < 0:
            raise ValueError(f"{name}: {arg} must be >= 0, got {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov momentum.

    Args:
        params: the model's parameters (or parameter groups).
        lr: learning rate.
        momentum: mu, fraction of the previous velocity kept (0: plain SGD).
        weight_decay: L2 penalty coefficient added to the gradient.
        nesterov: use Nesterov's look-ahead form (needs momentum > 0).

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> (w**2).sum().backward()  # g = 2 w = 2
        >>> opt.step()
        >>> w.data
        tensor([0.8000])
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        _check("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        defaults = dict(
            lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Apply one update to every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad + group["weight_decay"] * w
                if mu > 0:
                    state = self.state[w]
                    if "velocity" not in state:
                        state["velocity"] = g.clone()  # v_1 = g_1
                    else:
                        state["velocity"].mul_(mu).add_(g)  # v <- mu v + g
                    v = state["velocity"]
                    g = g + mu * v if group["nesterov"] else v
                w.sub_(lr * g)  # w <- w - lr g
        return loss


class RMSprop(Optimizer):
    """RMSProp: divide the gradient by a running root mean square of its history.

    Args:
        params: the model's parameters (or parameter groups).
        lr: learning rate.
        alpha: decay of the running average of squared gradients.
        eps: added to the denominator so it is never 0.
        momentum: if > 0, a velocity accumulates the scaled steps (as in torch).
        weight_decay: L2 penalty coefficient added to the gradient.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        _check("RMSprop", lr=lr, alpha=alpha, eps=eps, momentum=momentum)
        _check("RMSprop", weight_decay=weight_decay)
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Apply one update to every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, alpha, mu = group["lr"], group["alpha"], group["momentum"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad + group["weight_decay"] * w
                state = self.state[w]
                if "square_avg" not in state:
                    state["square_avg"] = torch.zeros_like(w)
                s = state["square_avg"]
                s.mul_(alpha).add_((1 - alpha) * g * g)  # s <- a s + (1 - a) g^2
                scaled = g / (s.sqrt() + group["eps"])
                if mu > 0:
                    if "velocity" not in state:
                        state["velocity"] = torch.zeros_like(w)
                    scaled = state["velocity"].mul_(mu).add_(scaled)
                w.sub_(lr * scaled)
        return loss


class Adam(Optimizer):
    """Adam: momentum on the gradient and RMSProp scaling, both bias-corrected.

    The moments start at 0, so early averages are too small by the factor
    (1 - beta^t); dividing by it ("bias correction") fixes the first steps.

    Args:
        params: the model's parameters (or parameter groups).
        lr: learning rate.
        betas: (b1, b2), decays of the first and second moment averages.
        eps: added to the denominator so it is never 0.
        weight_decay: L2 penalty coefficient added to the gradient (as in
            ``torch.optim.Adam``; AdamW's decoupled decay is different).
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        _check("Adam", lr=lr, eps=eps, weight_decay=weight_decay)
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Apply one update to every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad + group["weight_decay"] * w
                state = self.state[w]
                if "step" not in state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(w)
                    state["exp_avg_sq"] = torch.zeros_like(w)
                state["step"] += 1
                t = state["step"]
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(b1).add_((1 - b1) * g)  # m <- b1 m + (1 - b1) g
                v.mul_(b2).add_((1 - b2) * g * g)  # v <- b2 v + (1 - b2) g^2
                m_hat = m / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                w.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        return loss
