"""Grading student-built blocks: a guard against the reference builders, a layer
inventory matched by weight shape, weight copying and a layer-by-layer trace.

A builder such as ``vgg_block(in_channels, out_channels, num_convs)`` is meant to
use ``cnnlib.nn`` layers, so the function guard (which forbids all of cnnlib)
cannot watch it. ``run_builder`` watches it with the same three nets but allows
cnnlib's layers and ops; only ``cnnlib.models`` (where the reference blocks live)
is forbidden, whatever name it is reached by.

Layers are matched by the shape of their weight: the i-th reference layer of a
shape goes with the i-th student layer of that shape, so attribute names and
nesting do not matter. Once matched, the reference's weights are copied into the
student's layers, both modules run on the same input, and each matched layer's
input and output are compared, which tells which layer is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from cnnlib.grading.compare import GradingError, close
from cnnlib.grading.guard import (
    _error_message,
    _Watch,
    is_cnnlib_file,
    watched_call,
)

MODELS_DIR = (
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")
    + os.sep
)


class _BuilderWatch(_Watch):
    """The guard's watch, with cnnlib's layers and ops allowed (not its models)."""

    def _classify_code(self, frame):
        filename = frame.f_code.co_filename
        if is_cnnlib_file(filename) and not os.path.abspath(filename).startswith(
            MODELS_DIR
        ):
            return "skip", None
        return super()._classify_code(frame)


def run_builder(fn: Callable, args: Sequence[object] = (), *, what: str) -> object:
    """Call ``fn(*args)`` (a builder, or a module on an input) under the guard.

    Raises:
        GradingError: ``fn`` reached ``cnnlib.models``, switched the guard off, or
            raised (the message shows the student's frames only).
    """
    if not callable(fn):
        raise GradingError(f"{what} is not callable: got {type(fn).__name__}")
    watch = _BuilderWatch(())
    result, error = watched_call(watch, fn, args)
    violation = watch.violation
    if violation is not None and violation.family == "tamper":
        raise GradingError(
            f"{what} called {violation.call}, which switches off the grader's check "
            "for forbidden calls; remove it."
        )
    if violation is not None:
        raise GradingError(
            f"{what} called {violation.call}, cnnlib's reference implementation; "
            "build it yourself from cnnlib.nn layers (nn.Conv2d, nn.ReLU, "
            "nn.MaxPool2d, nn.Sequential, ...)."
        )
    if error is not None:
        raise GradingError(_error_message(error, what)) from None
    return result


# -- the layer inventory ---------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """A module that owns a ``weight`` parameter (a convolution, a linear layer...)."""

    name: str  # attribute path, e.g. "branch2.0.0"
    module: torch.nn.Module
    shape: tuple[int, ...]  # weight shape
    bias: bool


def layers_of(module: torch.nn.Module) -> list[Layer]:
    """Every submodule with its own ``weight`` parameter, in registration order."""
    found = []
    for name, sub in module.named_modules():
        weight = sub._parameters.get("weight")
        if isinstance(weight, torch.nn.Parameter):
            bias = sub._parameters.get("bias") is not None
            found.append(Layer(name or "(the module)", sub, tuple(weight.shape), bias))
    return found


def describe(shape: tuple[int, ...]) -> str:
    """'a 3x3 convolution 64 -> 128' or 'a linear layer 400 -> 120'."""
    if len(shape) == 4:
        return f"a {shape[2]}x{shape[3]} convolution {shape[1]} -> {shape[0]}"
    if len(shape) == 2:
        return f"a linear layer {shape[1]} -> {shape[0]}"
    return f"a layer with weight {shape}"


@dataclass
class Match:
    """Reference layers paired with the student's, by weight shape."""

    pairs: list[tuple[int, int]]  # (reference index, student index)
    missing: list[int]  # reference layers with no student layer of their shape
    extra: list[int]  # student layers with no reference layer of their shape
    no_bias: list[int]  # reference layers whose student layer lacks the bias
    extra_bias: list[int]  # reference layers without bias whose student has one

    @property
    def complete(self) -> bool:
        return not (self.missing or self.extra or self.no_bias or self.extra_bias)


def match_layers(student: list[Layer], reference: list[Layer]) -> Match:
    used: set[int] = set()
    pairs, missing = [], []
    for i, ref in enumerate(reference):
        j = next(
            (
                j
                for j, s in enumerate(student)
                if j not in used and s.shape == ref.shape
            ),
            None,
        )
        if j is None:
            missing.append(i)
        else:
            used.add(j)
            pairs.append((i, j))
    extra = [j for j in range(len(student)) if j not in used]
    no_bias = [i for i, j in pairs if reference[i].bias and not student[j].bias]
    extra_bias = [i for i, j in pairs if student[j].bias and not reference[i].bias]
    return Match(pairs, missing, extra, no_bias, extra_bias)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def inventory_message(
    student: torch.nn.Module,
    reference: torch.nn.Module,
    roles: list[str],
    match: Match,
    what: str,
) -> str | None:
    """What differs between the two modules' parameters, or None if nothing does."""
    s_layers, r_layers = layers_of(student), layers_of(reference)
    got, want = n_params(student), n_params(reference)
    if match.complete and got == want:
        return None
    lines = [f"{what} has {got:,} parameters but expected {want:,}"]
    if got == want:
        lines = [
            f"{what} has the right number of parameters, {want:,}, but not the "
            "right layers"
        ]
    for i in match.missing:
        lines.append(
            f"  missing: {roles[i]}, {describe(r_layers[i].shape)} "
            f"(weight {r_layers[i].shape})"
        )
    for j in match.extra:
        layer = s_layers[j]
        lines.append(
            f"  not in the reference: your layer {layer.name}, "
            f"{describe(layer.shape)} (weight {layer.shape})"
        )
    for i in match.no_bias:
        lines.append(f"  {roles[i]} has no bias; it should have one (bias=True)")
    for i in match.extra_bias:
        lines.append(f"  {roles[i]} has a bias; it should not (bias=False)")
    if match.complete:
        lines.append(
            "  every layer is right: the extra parameters belong to modules that are "
            "not in the reference (batch norm?)"
        )
    return "\n".join(lines)


def copy_weights(
    student: torch.nn.Module, reference: torch.nn.Module, match: Match
) -> None:
    """Copy each reference layer's weight and bias into its student layer."""
    s_layers, r_layers = layers_of(student), layers_of(reference)
    with torch.no_grad():
        for i, j in match.pairs:
            ref, mine = r_layers[i].module, s_layers[j].module
            mine.weight.copy_(ref.weight)
            if ref.bias is not None and getattr(mine, "bias", None) is not None:
                mine.bias.copy_(ref.bias)


# -- tracing ------------------------------------------------------------------------


@dataclass
class Trace:
    """The input and output of each layer in one forward pass (by layer index)."""

    inputs: dict[int, torch.Tensor]
    outputs: dict[int, torch.Tensor]


def trace(
    module: torch.nn.Module,
    x: torch.Tensor,
    run: Callable[[torch.nn.Module, torch.Tensor], object] | None = None,
) -> tuple[object, Trace]:
    """Run ``module`` on ``x`` (through ``run`` if given), recording every layer."""
    record = Trace({}, {})
    handles = []
    for index, layer in enumerate(layers_of(module)):

        def hook(mod, args, output, index=index):
            if args and isinstance(args[0], torch.Tensor):
                record.inputs.setdefault(index, args[0].detach().clone())
            if isinstance(output, torch.Tensor):
                record.outputs.setdefault(index, output.detach().clone())

        handles.append(layer.module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            out = run(module, x) if run is not None else module(x)
    finally:
        for handle in handles:
            handle.remove()
    return out, record


def first_wrong_layer(
    match: Match, student: Trace, reference: Trace
) -> tuple[int, str] | None:
    """(reference index, "input", "output" or "unused") of the first matched layer
    that differs, in the reference's order, or None when every layer agrees."""
    for i, j in sorted(match.pairs):
        for kind in ("input", "output"):
            mine = getattr(student, f"{kind}s").get(j)
            right = getattr(reference, f"{kind}s").get(i)
            if right is None:
                continue
            if mine is None:
                return i, "unused"
            if not close(mine, right, 1e-6, 1e-5):
                return i, kind
    return None
