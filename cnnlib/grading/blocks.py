"""Assignment 6: grading the building blocks of VGG, NiN and GoogLeNet, which the
student builds from cnnlib.nn layers, against cnnlib's reference blocks.

A check calls the student's builder (``vgg_block(in_channels, out_channels,
num_convs)``, ``mlpconv(in_channels, channels, kernel_size)``, or the class
``InceptionModule(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5,
pool_proj)``) and grades what it returns, an ``nn.Module``, in four parts:

* "params": the same layers (matched by weight shape) and parameter count as the
  reference; a message lists each missing or unexpected layer by its role;
* "shape": the output shape on float64 inputs (with the reference's formula);
* "values": with the reference's weights copied in, the same output; when it
  differs, the first layer whose input or output differs is named;
* "random": all three on other configurations (hidden).

This module is the engine (``Block`` describes one kind of block, ``block_check``
runs the parts); the checks are in ``blocks_vgg_nin`` and ``blocks_inception``.
Builders may use anything but ``cnnlib.models``, where the reference blocks live.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from cnnlib.grading.block_match import (
    MODELS_DIR,
    Layer,
    copy_weights,
    first_wrong_layer,
    inventory_message,
    layers_of,
    match_layers,
    run_builder,
    trace,
)
from cnnlib.grading.cases import generator, randn
from cnnlib.grading.compare import GradingError, check_tensor_type, close
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts
from cnnlib.models.inception import Inception
from cnnlib.models.nin import mlpconv
from cnnlib.models.vgg import make_features

# Captured when the grader is imported, before any student code.
_BUILDERS = {"make_features": make_features, "mlpconv": mlpconv, "Inception": Inception}
_CODE = {
    "make_features": make_features.__code__,
    "mlpconv": mlpconv.__code__,
    "Inception": Inception.forward.__code__,
}


def builder(name: str) -> Callable:
    """A reference builder of cnnlib.models, checked to be the library's own."""
    fn = _BUILDERS[name]
    code = fn.forward.__code__ if isinstance(fn, type) else fn.__code__
    path = os.path.abspath(code.co_filename)
    if code is not _CODE[name] or not path.startswith(MODELS_DIR):
        raise GradingError(
            f"cnnlib.models' {name} has been replaced; the grader cannot trust its "
            "reference. Restart the kernel and run the notebook without replacing "
            "library code."
        )
    return fn


# -- one check, three kinds of block ---------------------------------------------------


class Block:
    """What a check knows about one kind of block (overridden per kind)."""

    name = "block"

    def reference(self, case: Case) -> torch.nn.Module:
        raise NotImplementedError

    def roles(self, case: Case) -> list[str]:
        raise NotImplementedError

    def formula(self, case: Case, x: torch.Size) -> str:
        raise NotImplementedError

    def wrong_shapes(self, case, x) -> list[tuple[str, tuple[int, ...]]]:
        return []

    def params_hint(self, case, student: list[Layer], reference: list[Layer]):
        return None

    def tail_hint(self, case, got, ref_trace, x) -> str | None:
        """All layers agree but the output differs: what comes after them."""
        return None

    def input_hint(self, case, i, got, ref_trace, x) -> str | None:
        """The input of reference layer i differs: what comes before it."""
        for k, output in ref_trace.outputs.items():
            if k != i and close(got, output, 1e-6, 1e-5):
                role = self.roles(case)[k]
                return f"there is no ReLU between {role} and {self.roles(case)[i]}"
        return None

    def forward_error_hint(self) -> str | None:
        return None


def _build(grader: Grader, case: Case, fn: Callable, block: Block) -> torch.nn.Module:
    what = grader.what
    try:
        module = run_builder(fn, list(case.tensors.values()), what=what)
    except GradingError as error:
        grader.fail(case, str(error))
    if not isinstance(module, torch.nn.Module):
        grader.fail(
            case,
            f"{what} returned {type(module).__qualname__}; return the block as an "
            "nn.Module (nn.Sequential(...) or an instance of your class)",
        )
    return module.double()


def _forward(grader, case, module, x, block) -> object:
    """The student's module on x, under the guard, recording its layers."""

    def run(mod, inp):
        return run_builder(mod, [inp], what=f"{grader.what}'s forward pass")

    try:
        return trace(module, x, run)
    except GradingError as error:
        grader.fail(case, str(error), block.forward_error_hint())


def _grade_shape(grader, case, got, expected_shape, block, x) -> None:
    wrong = check_tensor_type(got, "output")
    if wrong is not None:
        grader.fail(case, wrong.message)
    if tuple(got.shape) != tuple(expected_shape):
        hint = next(
            (h for h, s in block.wrong_shapes(case, x.shape) if tuple(got.shape) == s),
            None,
        )
        grader.fail(
            case,
            f"on an input of shape {tuple(x.shape)}, the output has shape "
            f"{tuple(got.shape)} but expected {tuple(expected_shape)}: "
            f"{block.formula(case, x.shape)}",
            hint,
        )


def _grade(block: Block, cases: list[tuple[Case, tuple[int, ...]]], kinds: tuple):
    """A part: build each case's block and grade ``kinds`` of "params", "shape",
    "values"."""

    def run(fn: Callable, grader: Grader) -> int:
        for case, x_shape in cases:
            student = _build(grader, case, fn, block)
            ref = block.reference(case).double()
            s_layers, r_layers = layers_of(student), layers_of(ref)
            match = match_layers(s_layers, r_layers)
            roles = block.roles(case)
            problem = inventory_message(
                student, ref, roles, match, f"your {block.name}"
            )
            if "params" in kinds and problem is not None:
                hint = block.params_hint(case, s_layers, r_layers)
                grader.fail(case, problem, hint)
            if "shape" not in kinds and "values" not in kinds:
                continue
            x = randn(generator(sum(x_shape)), *x_shape)
            if "values" in kinds:
                if problem is not None:
                    grader.fail(
                        case,
                        "the reference's weights cannot be copied into your "
                        f"{block.name}, whose layers differ:\n{problem}",
                        block.params_hint(case, s_layers, r_layers),
                    )
                copy_weights(student, ref, match)
            got, mine = _forward(grader, case, student, x, block)
            want, theirs = trace(ref, x)
            _grade_shape(grader, case, got, want.shape, block, x)
            if "values" not in kinds:
                continue
            if close(got, want, 1e-6, 1e-5):
                continue
            found = first_wrong_layer(match, mine, theirs)
            if found is None:
                hint = block.tail_hint(case, got, theirs, x)
                message = (
                    "every layer computes the right values, but the block's output "
                    "differs"
                )
            else:
                i, kind = found
                j = dict(match.pairs)[i]
                role = f"{roles[i]} (your layer {s_layers[j].name})"
                hint = None
                if kind == "unused":
                    message = f"{role} is never run by forward"
                elif kind == "input":
                    message = f"the input of {role} differs"
                    hint = block.input_hint(case, i, mine.inputs[j], theirs, x)
                else:
                    message = (
                        f"{role} gets the right input but gives another output: "
                        "check its padding and stride"
                    )
            grader.fail(
                case,
                f"on an input of shape {tuple(x.shape)}, with the reference's "
                f"weights copied into your layers: {message}",
                hint,
            )
        return len(cases)

    return run


def block_check(block, fn, part, public, hidden) -> CheckResult:
    """Run ``part`` of the check of ``block`` (public cases by part, hidden ones)."""
    parts = {
        "params": _grade(block, [(c, None) for c, _ in public["params"]], ("params",)),
        "shape": _grade(block, public["shape"], ("shape",)),
        "values": _grade(block, public["values"], ("values",)),
        "random": _grade(block, hidden, ("params", "shape", "values")),
    }
    return run_parts(
        block.name.replace(" ", "_"),
        parts,
        part,
        fn,
        forbid=(),
        what=f"your {block.name}",
    )
