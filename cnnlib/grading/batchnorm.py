"""Assignment 7: batch normalisation, forward, in training and in evaluation mode.

The student's function is

    batch_norm(x, gamma, beta, running_mean, running_var, training,
               momentum=0.1, eps=1e-5) -> (out, new_running_mean, new_running_var)

x is (N, C) or (N, C, H, W) float64; gamma, beta, running_mean, running_var are
(C,). Each channel is normalised over every value it has in the batch (dim 0,
and dims 2 and 3 for images): in training mode with the batch's mean and
*biased* variance (divide by n), in evaluation mode with the running ones;
then out = gamma * x_hat + beta. In training mode the running statistics move
towards the batch's: running = (1 - momentum) * running + momentum * batch,
where the variance stored is the *unbiased* one (divide by n - 1), as torch
does. In evaluation mode they are returned unchanged. The function returns new
tensors and leaves its inputs alone (torch updates the buffers in place; a
function that returns them is easier to read and to test).

Forbids torch's normalisation kernels (F.batch_norm, nn.BatchNorm2d,
F.layer_norm, F.instance_norm, ...) and cnnlib; mean, var, sqrt and
broadcasting are allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator, randn, reference
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts

_OUTPUTS = ("out", "running_mean", "running_var")

UNBIASED_IN_NORMALISATION = (
    "you normalised with the unbiased variance (divide by n - 1); batch norm "
    "normalises with the batch's biased variance, mean((x - mean)^2), as in the "
    "paper and torch (torch.var(..., unbiased=False) or correction=0). Only the "
    "running variance stores the unbiased one"
)
EVAL_BATCH_STATS = (
    "in evaluation mode you used the statistics of the batch; use the running "
    "mean and variance instead (the model's output must not depend on the other "
    "images of the batch)"
)
TRAIN_RUNNING_STATS = (
    "in training mode normalise with this batch's mean and variance; the running "
    "statistics are only updated, and used in evaluation mode"
)
MOMENTUM_BACKWARDS = (
    "momentum backwards: the new running statistic is "
    "(1 - momentum) * running + momentum * batch statistic (momentum is the "
    "weight of the new batch, 0.1 by default, as in torch)"
)
RUNNING_VAR_BIASED = (
    "the running variance stores the unbiased variance of the batch, "
    "var * n / (n - 1) with n the number of values per channel, as torch does; "
    "you stored the biased one"
)
RUNNING_REPLACED = (
    "the running statistic is a moving average: "
    "(1 - momentum) * running + momentum * batch statistic; you replaced it by "
    "the batch's"
)
RUNNING_NOT_UPDATED = (
    "in training mode the running statistics are updated: return "
    "(1 - momentum) * running + momentum * batch statistic, not the old values"
)
RUNNING_UPDATED_IN_EVAL = (
    "in evaluation mode the running statistics are used, not updated: return "
    "them unchanged"
)
UNBIASED_N = (
    "n in var * n / (n - 1) counts every value of the channel: N * H * W for "
    "images, not N"
)
NO_EPS = "add eps to the variance inside the square root: sqrt(var + eps)"
EPS_OUTSIDE = "eps goes inside the square root: (x - mean) / sqrt(var + eps)"
DIVIDED_BY_VAR = "divide by the standard deviation sqrt(var + eps), not by the variance"
GAMMA_BETA_SWAPPED = "gamma scales and beta shifts: out = gamma * x_hat + beta"
NO_AFFINE = "you forgot gamma and beta: out = gamma * x_hat + beta"


def _stat_dims(x: torch.Tensor) -> tuple[int, ...]:
    """Every dimension but the channel one: (0,) or (0, 2, 3)."""
    return (0, *range(2, x.dim()))


def _per_channel(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (C,) tensor viewed to broadcast over x: (1, C) or (1, C, 1, 1)."""
    return v.reshape(1, -1, *([1] * (x.dim() - 2)))


def _wrong_axes(x: torch.Tensor) -> list[tuple[int, ...]]:
    """Reductions a student might pick instead of _stat_dims(x)."""
    if x.dim() == 2:
        return [(1,), (0, 1)]
    return [(0,), (2, 3), (1, 2, 3), (0, 1, 2, 3), (0, 1)]


def wrong_axes_hint(dims: tuple[int, ...]) -> str:
    return (
        f"statistics over the wrong axes: you averaged over dims {dims}; batch norm "
        "averages each channel over the batch (and over every position of an "
        "image): dim 0 for (N, C), dims (0, 2, 3) for (N, C, H, W)"
    )


def _formula(
    x, gamma, beta, mean, var, eps, *, sqrt=True, eps_inside=True, affine=True
):
    """gamma (x - mean) / sqrt(var + eps) + beta, with full-shape or (C,) stats."""
    if mean.dim() == 1:
        mean, var = _per_channel(mean, x), _per_channel(var, x)
    if not sqrt:
        scale = var + eps
    elif eps_inside:
        scale = torch.sqrt(var + eps)
    else:
        scale = torch.sqrt(var) + eps
    x_hat = (x - mean) / scale
    if not affine:
        return x_hat
    return _per_channel(gamma, x) * x_hat + _per_channel(beta, x)


def bn_case(
    label: str,
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    *,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
    hidden: bool = True,
) -> Case:
    """A batch_norm case; training is always passed, the others when not default."""
    options: dict[str, object] = {"training": training}
    if momentum != 0.1:
        options["momentum"] = momentum
    if eps != 1e-5:
        options["eps"] = eps
    tensors = {
        "x": x,
        "gamma": gamma,
        "beta": beta,
        "running_mean": running_mean,
        "running_var": running_var,
    }
    return Case(label, tensors, options, hidden=hidden)


def _settings(case: Case) -> tuple[bool, float, float]:
    o = case.options
    return bool(o["training"]), float(o.get("momentum", 0.1)), float(o.get("eps", 1e-5))


def expected_batch_norm(case: Case) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(out, running_mean, running_var) by cnnlib.ops.batch_norm, on copies."""
    t = case.tensors
    training, momentum, eps = _settings(case)
    mean, var = t["running_mean"].clone(), t["running_var"].clone()
    out = reference("batch_norm")(
        t["x"],
        mean,
        var,
        t["gamma"],
        t["beta"],
        training=training,
        momentum=momentum,
        eps=eps,
    )
    return out, mean, var


def _out_mistakes(case: Case) -> list[dx.Candidate]:
    t = case.tensors
    x, gamma, beta = t["x"], t["gamma"], t["beta"]
    run_mean, run_var = t["running_mean"], t["running_var"]
    training, _, eps = _settings(case)
    dims = _stat_dims(x)

    def batch(correction=0, axes=dims):
        var, mean = torch.var_mean(x, dim=axes, correction=correction, keepdim=True)
        return mean, var

    def with_batch(**kw):
        return lambda: _formula(x, gamma, beta, *batch(), eps, **kw)

    def with_running(**kw):
        return lambda: _formula(x, gamma, beta, run_mean, run_var, eps, **kw)

    stats = with_batch if training else with_running
    wrong: list[dx.Candidate] = []
    if training:
        wrong.append(
            (
                UNBIASED_IN_NORMALISATION,
                lambda: _formula(x, gamma, beta, *batch(correction=1), eps),
            )
        )
        for axes in _wrong_axes(x):
            wrong.append(
                (
                    wrong_axes_hint(axes),
                    lambda axes=axes: _formula(x, gamma, beta, *batch(0, axes), eps),
                )
            )
        wrong.append((TRAIN_RUNNING_STATS, with_running()))
    else:
        wrong.append((EVAL_BATCH_STATS, with_batch()))
        wrong.append(
            (
                EVAL_BATCH_STATS,
                lambda: _formula(x, gamma, beta, *batch(correction=1), eps),
            )
        )
    mean, var = batch() if training else (run_mean, run_var)
    wrong += [
        (NO_EPS, lambda: _formula(x, gamma, beta, mean, var, 0.0)),
        (EPS_OUTSIDE, stats(eps_inside=False)),
        (DIVIDED_BY_VAR, stats(sqrt=False)),
        (GAMMA_BETA_SWAPPED, lambda: _formula(x, beta, gamma, mean, var, eps)),
        (NO_AFFINE, stats(affine=False)),
    ]
    return wrong


def _running_mistakes(case: Case, which: str) -> list[dx.Candidate]:
    """Wrong new running statistics (which: "running_mean" or "running_var")."""
    t = case.tensors
    x, old = t["x"], t[which]
    training, m, _ = _settings(case)
    if not training:
        updated = lambda: expected_batch_norm(_as_training(case))  # noqa: E731
        index = _OUTPUTS.index(which)
        return [(RUNNING_UPDATED_IN_EVAL, lambda: updated()[index])]
    dims = _stat_dims(x)
    n = x.numel() // x.shape[1]
    var_b, mean = torch.var_mean(x, dim=dims, correction=0)
    batch = mean if which == "running_mean" else var_b * n / (n - 1)
    wrong = [
        (MOMENTUM_BACKWARDS, lambda: m * old + (1 - m) * batch),
        (RUNNING_NOT_UPDATED, lambda: old),
        (RUNNING_REPLACED, lambda: batch),
    ]
    if which == "running_var":
        wrong.append((RUNNING_VAR_BIASED, lambda: (1 - m) * old + m * var_b))
        wrong.append((RUNNING_VAR_BIASED, lambda: m * old + (1 - m) * var_b))
        if x.dim() > 2 and x.shape[0] > 1:
            big_n = x.shape[0]
            wrong.append(
                (UNBIASED_N, lambda: (1 - m) * old + m * var_b * big_n / (big_n - 1))
            )
    return wrong


def _as_training(case: Case) -> Case:
    return Case(case.label, case.tensors, {**case.options, "training": True})


def grade_batch_norm(
    grader: Grader, case: Case, got: object, which: tuple[str, ...] = _OUTPUTS
) -> None:
    """Grade the returned (out, running_mean, running_var), the items in ``which``."""
    items = grader.unpack(case, got, _OUTPUTS)
    expected = expected_batch_norm(case)
    x = case.tensors["x"]
    channels = x.shape[1]
    for name in which:
        index = _OUTPUTS.index(name)
        if name == "out":
            formula = f"out has the shape of x, {tuple(x.shape)}"

            def wrong(case=case):
                return _out_mistakes(case)
        else:
            formula = f"{name} has one value per channel, shape (C,) = ({channels},)"

            def wrong(case=case, name=name):
                return _running_mistakes(case, name)

        grader.grade(
            case,
            items[index],
            expected[index],
            name=name,
            formula=formula,
            diagnose=lambda m, w=wrong: dx.by_stage(m, values=w),
        )


def _cases() -> dict[str, list[tuple[Case, tuple[str, ...]]]]:
    """The cases of each part, with the outputs each one grades."""
    gen = generator(801)

    def features(n: int, c: int) -> torch.Tensor:
        # channels with their own offset and scale, as real activations have
        shift = randn(gen, c, scale=2.0)
        scale = torch.rand(c, generator=gen, dtype=torch.float64) * 2 + 0.5
        return randn(gen, n, c) * scale + shift

    def images(n: int, c: int, h: int, w: int) -> torch.Tensor:
        shift = randn(gen, 1, c, 1, 1, scale=2.0)
        scale = torch.rand(1, c, 1, 1, generator=gen, dtype=torch.float64) * 2 + 0.5
        return randn(gen, n, c, h, w) * scale + shift

    def params(c: int, affine: bool = True):
        if not affine:
            one = torch.ones(c, dtype=torch.float64)
            return one, torch.zeros(c, dtype=torch.float64)
        gamma = torch.rand(c, generator=gen, dtype=torch.float64) * 1.5 + 0.5
        return gamma, randn(gen, c)

    def running(c: int):
        var = torch.rand(c, generator=gen, dtype=torch.float64) * 2 + 0.5
        return randn(gen, c), var

    def case(label, x, *, affine=True, **options):
        c = x.shape[1]
        return bn_case(label, x, *params(c, affine), *running(c), **options)

    tiny = features(6, 4)
    tiny[:, 2] = tiny[:, 2] * 1e-3  # a feature that barely varies: eps matters
    out, everything = ("out",), _OUTPUTS
    stats = ("running_mean", "running_var")
    return {
        "normalise": [
            (case("8 examples, 3 features", features(8, 3), affine=False,
                  training=True), out),
            (case("a feature with a tiny variance", tiny, affine=False,
                  training=True), out),
        ],
        "affine": [
            (case("gamma and beta", features(8, 3), training=True), out),
            (case("5 features", features(10, 5), training=True), out),
        ],
        "running": [
            (case("momentum 0.1", features(8, 3), training=True), stats),
            (case("4 examples, momentum 0.3", features(4, 5), training=True,
                  momentum=0.3), stats),
        ],
        "eval": [
            (case("running statistics", features(8, 3), training=False),
             everything),
            (case("one example, eps 0.01", features(1, 4), training=False,
                  eps=1e-2), everything),
        ],
        "channels_4d": [
            (case("(N, C, H, W), training", images(4, 3, 5, 6), training=True),
             everything),
            (case("(N, C, H, W), evaluation", images(2, 3, 4, 5),
                  training=False), everything),
        ],
        "random": [
            (case("(N, C), momentum 0.2, eps 0.001", features(7, 6),
                  training=True, momentum=0.2, eps=1e-3), everything),
            (case("(N, C, H, W), 1x1 images", images(5, 4, 1, 1),
                  training=True), everything),
            (case("(N, C, H, W), non-square", images(3, 2, 7, 4),
                  training=True, momentum=0.5), everything),
            (case("(N, C, H, W), evaluation", images(3, 5, 3, 2),
                  training=False), everything),
        ],
    }  # fmt: skip


def check_batch_norm(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(x, gamma, beta, running_mean, running_var, training,
    momentum=0.1, eps=1e-5) -> (out, running_mean, running_var)``.

    ``training`` is always passed by keyword, ``momentum`` and ``eps`` only when
    not the default. x is (N, C) or (N, C, H, W); the other inputs are (C,).

    Parts: "normalise" (training mode, gamma = 1 and beta = 0: batch mean and
    biased variance, eps), "affine" (gamma and beta), "running" (the new
    running statistics: momentum, unbiased variance), "eval" (running
    statistics used, and returned unchanged), "channels_4d" (images: one mean
    and variance per channel over N, H and W), "random" (hidden), or None.

    Forbids torch's normalisation kernels and cnnlib.
    """
    groups = _cases()

    def part_of(cases):
        def run(fn: Callable, grader: Grader) -> int:
            for case, which in cases:
                got = grader.call(fn, case).result
                grade_batch_norm(grader, case, got, which)
            return len(cases)

        return run

    parts = {name: part_of(cases) for name, cases in groups.items()}
    return run_parts(
        "batch_norm", parts, part, fn, forbid=("norm",), what="your batch_norm"
    )
