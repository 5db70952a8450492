"""Assignment 7: a residual block with a projection shortcut.

The student's class is ``ResidualBlock(in_channels, out_channels, stride=1,
shortcut=True)``, an ``nn.Module`` built from ``cnnlib.nn`` layers:

    F(x) = bn2(conv2(relu(bn1(conv1(x)))))      conv1 3x3 stride S, conv2 3x3
    S(x) = x                                    when stride 1 and C_in == C_out
         = bn(conv1x1 stride S (x))             otherwise (option B, "projection")
    out  = relu(F(x) + S(x))                    (relu(F(x)) when shortcut=False)

with the layers named ``conv1, bn1, conv2, bn2, shortcut`` (``shortcut`` an
``nn.Sequential(conv, bn)`` for a projection), as in cnnlib's ``BasicBlock`` and
torchvision, so the grader can copy the reference's weights into it. The
reference is ``cnnlib.models.resnet_blocks.BasicBlock`` (``shortcut="none"`` for
the plain block), which the student's code must not use.

When the outputs differ, the check switches one path off in both blocks (zero
gamma and beta of the shortcut's batch norm, or of bn2) to say which path is
wrong.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch

from cnnlib import nn
from cnnlib.grading import diagnose as dx
from cnnlib.grading import module_checks as mod
from cnnlib.grading.cases import generator, randn, reference
from cnnlib.grading.compare import (
    GradingError,
    check_tensor_type,
    close,
    fmt_shape,
)
from cnnlib.grading.runner import Case, CheckResult, Grader, run_parts
from cnnlib.models import resnet_blocks
from cnnlib.models.resnet_blocks import BasicBlock

# Captured when the grader is imported, before any student code.
_REFERENCE_CODE = mod.capture(
    BasicBlock.__init__, BasicBlock.forward, resnet_blocks.make_shortcut
)


def _reference_functions() -> tuple:
    return (BasicBlock.__init__, BasicBlock.forward, resnet_blocks.make_shortcut)


NAMING = (
    "Name the layers conv1, bn1, conv2, bn2 and shortcut, as cnnlib's BasicBlock "
    "and torchvision do: shortcut = nn.Sequential(nn.Conv2d(C_in, C_out, 1, "
    "stride=stride, bias=False), nn.BatchNorm2d(C_out)) for a projection, "
    "nn.Identity() when the shapes match, and no shortcut for shortcut=False."
)
CONV_BIAS = (
    "a convolution followed by batch norm takes bias=False: batch norm subtracts "
    "the mean, which cancels any bias, and adds its own (beta)"
)
IDENTITY_HAS_NO_PARAMETERS = (
    "when stride is 1 and C_in == C_out the shortcut is the identity, "
    "S(x) = x: no convolution, no parameters"
)
PROJECTION_HAS_BN = (
    "the projection shortcut is a 1x1 convolution (stride S, no bias) followed "
    "by batch norm"
)
PLAIN_HAS_NO_SHORTCUT = "with shortcut=False the block is plain: no shortcut at all"
MAIN_PATH_WRONG = (
    "the shortcut is right (with the main path switched off, your block matches "
    "the reference); the main path is wrong: conv1 (3x3, stride S, padding 1) -> "
    "bn1 -> ReLU -> conv2 (3x3, stride 1, padding 1) -> bn2"
)
SHORTCUT_WRONG_PROJECTION = (
    "the main path is right (with the shortcut switched off, your block matches "
    "the reference); the shortcut is wrong: S(x) = bn(conv1x1(x)), a 1x1 "
    "convolution with stride S applied to the block's input x, then batch norm"
)
BOTH_WRONG = (
    "both paths differ from the reference, or the way they are combined: "
    "out = ReLU(F(x) + S(x)), F(x) = bn2(conv2(ReLU(bn1(conv1(x)))))"
)
PLAIN_WRONG = (
    "with shortcut=False the block is conv1 (3x3, stride S, padding 1) -> bn1 -> "
    "ReLU -> conv2 (3x3, padding 1) -> bn2 -> ReLU; a step of it differs from "
    "the reference"
)
NO_FINAL_RELU = "apply the ReLU after the addition: out = ReLU(F(x) + S(x))"
RELU_BEFORE_ADD = (
    "the ReLU comes after the addition, not before it: out = ReLU(F(x) + S(x)), "
    "where F ends with bn2 (no ReLU)"
)
STRIDE_ON_CONV2 = (
    "the stride belongs to the first 3x3 convolution (conv1), which "
    "downsamples; conv2 has stride 1"
)
SHORTCUT_WITHOUT_BN = "the projection shortcut ends with its batch norm: bn(conv1x1(x))"
PLAIN_ADDS_INPUT = (
    "with shortcut=False nothing is added: out = ReLU(F(x)), the plain block "
    "the residual one is compared with"
)
SHAPES_DIFFER = (
    "F(x) and S(x) must have the same shape to be added: the projection "
    "shortcut maps C_in to C_out channels with the same stride as conv1"
)
EVAL_MODE = (
    "your block differs in evaluation mode only: use cnnlib's BatchNorm2d layers "
    "(model.eval() makes them use their running statistics)"
)


def _out_size(size: int, stride: int) -> int:
    """A 3x3 convolution with padding 1 (or a 1x1 one): floor((H - 1)/S) + 1."""
    return (size - 1) // stride + 1


def _config(case: Case) -> tuple[int, int, int, bool]:
    e = case.extra
    return e["c_in"], e["c_out"], e["stride"], e["shortcut"]


def _block_case(
    label: str,
    c_in: int,
    c_out: int,
    stride: int,
    x: torch.Tensor,
    *,
    shortcut: bool = True,
    seed: int = 0,
    hidden: bool = True,
) -> Case:
    """x's shape shows in messages; the block's settings go in the label."""
    settings = f"ResidualBlock({c_in}, {c_out}, stride={stride}"
    settings += ")" if shortcut else ", shortcut=False)"
    extra = {
        "c_in": c_in,
        "c_out": c_out,
        "stride": stride,
        "shortcut": shortcut,
        "seed": seed,
    }
    return Case(f"{settings}, {label}", {"x": x}, hidden=hidden, extra=extra)


def _kwargs(case: Case) -> dict:
    c_in, c_out, stride, shortcut = _config(case)
    kwargs = {"stride": stride}
    if not shortcut:
        kwargs["shortcut"] = False
    return kwargs


def reference_block(case: Case) -> BasicBlock:
    """cnnlib's BasicBlock for the case, float64, with random weights and BN state."""
    c_in, c_out, stride, shortcut = _config(case)
    mod.ensure_unchanged("BasicBlock", _reference_functions(), _REFERENCE_CODE)
    block = BasicBlock(c_in, c_out, stride, "projection" if shortcut else "none")
    gen = generator(case.extra["seed"])
    with torch.no_grad():
        for name, tensor in block.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            fresh = torch.rand(tensor.shape, generator=gen, dtype=torch.float64)
            if name.endswith("running_var") or (
                name.endswith("weight") and tensor.dim() == 1
            ):
                tensor.copy_(fresh + 0.5)  # variances and gammas: positive
            elif tensor.dim() == 4:  # conv weights: He-like scale
                fan_in = tensor[0].numel()
                tensor.copy_((fresh - 0.5) * 2 * math.sqrt(3 / fan_in))
            else:  # betas and running means
                tensor.copy_(fresh - 0.5)
    return block.double()


def _student(grader: Grader, case: Case, cls) -> torch.nn.Module:
    c_in, c_out, _, _ = _config(case)
    block = mod.build(grader, case, cls, c_in, c_out, **_kwargs(case))
    return block.double()


def _state_hints(case: Case) -> Callable[[set[str], set[str]], list[str]]:
    _, _, _, shortcut = _config(case)

    def hints(missing: set[str], unexpected: set[str]) -> list[str]:
        found = []
        if any(k.endswith("bias") and "bn" not in k for k in unexpected) and any(
            k.startswith(("conv1.bias", "conv2.bias", "shortcut.0.bias"))
            for k in unexpected
        ):
            found.append(CONV_BIAS)
        if any(k.startswith("shortcut") for k in unexpected) and not any(
            k.startswith("shortcut") for k in missing
        ):
            found.append(
                IDENTITY_HAS_NO_PARAMETERS if shortcut else PLAIN_HAS_NO_SHORTCUT
            )
        if any(k.startswith("shortcut.1") for k in missing) and not any(
            k.startswith("shortcut.1") for k in unexpected
        ):
            found.append(PROJECTION_HAS_BN)
        return found

    return hints


def _run(block: torch.nn.Module, x: torch.Tensor, training: bool) -> object:
    block.train(training)
    return mod.run_module(block, (x,), what="your ResidualBlock")


def _paths(ref: BasicBlock, x: torch.Tensor, training: bool):
    """F(x) and S(x) of the reference (S None for a plain block)."""
    ref = copy.deepcopy(ref).train(training)
    with torch.no_grad():
        main = ref.bn2(ref.conv2(ref.relu(ref.bn1(ref.conv1(x)))))
        if ref.shortcut is None:
            return main, None, None
        side = ref.shortcut(x)
        bare = None
        if isinstance(ref.shortcut, nn.Sequential):
            bare = ref.shortcut[0](x)
    return main, side, bare


def _mistakes(case: Case, ref: BasicBlock, x: torch.Tensor, training: bool):
    relu = reference("relu")
    _, _, stride, shortcut = _config(case)
    main, side, bare = _paths(ref, x, training)
    wrong = []
    if side is None:
        wrong.append((NO_FINAL_RELU, lambda: main))
        if main.shape == x.shape:
            wrong.append((PLAIN_ADDS_INPUT, lambda: relu(main + x)))
    else:
        wrong.append((NO_FINAL_RELU, lambda: main + side))
        wrong.append((RELU_BEFORE_ADD, lambda: relu(main) + side))
        if bare is not None:
            wrong.append((SHORTCUT_WITHOUT_BN, lambda: relu(main + bare)))
    if stride > 1:

        def moved():
            other = copy.deepcopy(ref).train(training)
            other.conv1.stride, other.conv2.stride = (1, 1), (stride, stride)
            with torch.no_grad():
                return other(x)

        wrong.append((STRIDE_ON_CONV2, moved))
    return wrong


def _switched_off(state: dict, keys: tuple[str, ...]) -> dict:
    """A copy of a state dict with the gammas and betas in ``keys`` set to zero."""
    state = {k: v.clone() for k, v in state.items()}
    for key in keys:
        state[key].zero_()
    return state


def _which_path(
    cls, case: Case, ref: BasicBlock, x: torch.Tensor, training: bool
) -> str | None:
    """Switch off one path in both blocks to find the wrong one."""
    state = ref.state_dict()
    projection = isinstance(ref.shortcut, nn.Sequential)

    def agrees(keys: tuple[str, ...]) -> bool | None:
        try:
            grader = Grader("residual_block", "diagnosis", (), "your ResidualBlock")
            student = _student(grader, case, cls)
            variant = _switched_off(state, keys)
            student.load_state_dict(variant)
            other = copy.deepcopy(ref)
            other.load_state_dict(variant)
            got = _run(student, x, training)
            with torch.no_grad():
                want = other.train(training)(x)
            return check_tensor_type(got, "output") is None and close(
                got, want, 1e-6, 1e-5
            )
        except (GradingError, RuntimeError, ValueError):
            return None

    if ref.shortcut is None:
        return PLAIN_WRONG
    if projection and agrees(("shortcut.1.weight", "shortcut.1.bias")):
        return SHORTCUT_WRONG_PROJECTION
    if agrees(("bn2.weight", "bn2.bias")):
        return MAIN_PATH_WRONG
    return BOTH_WRONG


def _grade_outputs(cls, grader: Grader, case: Case) -> None:
    """Copy the reference's weights; compare in training, then evaluation mode."""
    ref = reference_block(case)
    x = case.tensors["x"]
    state = ref.state_dict()
    for training in (True, False):
        student = _student(grader, case, cls)
        mod.load_reference_state(
            grader,
            case,
            student,
            state,
            "your ResidualBlock",
            NAMING,
            _state_hints(case),
        )
        got = mod.forward(
            grader,
            case,
            student.train(training),
            x,
            "your ResidualBlock",
            _shape_error_hint,
        )
        with torch.no_grad():
            expected = copy.deepcopy(ref).train(training)(x)
        mode = "training mode" if training else "evaluation mode (model.eval())"

        def hint(m, training=training):
            if m.stage != "values":
                return None
            found = dx.first_match(m.got, _mistakes(case, ref, x, training))
            if found is None and not training:
                found = EVAL_MODE
            return found or _which_path(cls, case, ref, x, training)

        grader.grade(
            case,
            got,
            expected,
            name=f"the output in {mode}",
            formula=_shape_formula(case),
            diagnose=hint,
        )


def _shape_error_hint(message: str) -> str | None:
    if "must match the size" in message or "The size of tensor" in message:
        return SHAPES_DIFFER
    return None


def _shape_formula(case: Case) -> str:
    c_in, c_out, s, _ = _config(case)
    n, _, h, w = case.tensors["x"].shape
    return (
        f"(N, C_out, H_out, W_out) with H_out = floor((H - 1)/S) + 1 = "
        f"floor(({h} - 1)/{s}) + 1 = {_out_size(h, s)}, W_out = "
        f"floor(({w} - 1)/{s}) + 1 = {_out_size(w, s)}"
    )


def _grade_shape(cls, grader: Grader, case: Case) -> None:
    c_in, c_out, s, _ = _config(case)
    x = case.tensors["x"]
    n, _, h, w = x.shape
    student = _student(grader, case, cls)
    got = mod.forward(grader, case, student, x, "your ResidualBlock", _shape_error_hint)
    wrong_type = check_tensor_type(got, "the output")
    if wrong_type is not None:
        grader.fail(case, wrong_type.message)
    want = (n, c_out, _out_size(h, s), _out_size(w, s))
    shape = tuple(got.shape)
    if shape != want:
        hint = None
        if shape == (n, c_out, h, w) and s > 1:
            hint = "the stride is ignored: conv1 and the shortcut have stride S"
        elif shape[1] != c_out:
            hint = "the block outputs C_out channels (conv1, conv2, the shortcut)"
        grader.fail(
            case,
            f"the output has shape {fmt_shape(shape)} but expected "
            f"{fmt_shape(want)}: {_shape_formula(case)}",
            hint,
        )
    if got.dtype != x.dtype:
        grader.fail(case, f"the output has dtype {got.dtype} but expected {x.dtype}")


def _grade_params(cls, grader: Grader, case: Case) -> None:
    c_in, c_out, s, shortcut = _config(case)
    student = _student(grader, case, cls)
    got = mod.count_parameters(student)
    ref = BasicBlock(c_in, c_out, s, "projection" if shortcut else "none")
    want = mod.count_parameters(ref)
    if got == want:
        return
    conv1, conv2, bn = 9 * c_in * c_out, 9 * c_out * c_out, 2 * c_out
    parts = [f"conv1 3*3*{c_in}*{c_out} = {conv1}", f"bn1 2*{c_out} = {bn}"]
    parts += [f"conv2 3*3*{c_out}*{c_out} = {conv2}", f"bn2 2*{c_out} = {bn}"]
    projection = isinstance(ref.shortcut, nn.Sequential)
    if projection:
        parts.append(f"shortcut 1*1*{c_in}*{c_out} + 2*{c_out} = {c_in * c_out + bn}")
    elif shortcut:
        parts.append("identity shortcut 0")
    extra_bias = 2 * c_out + (c_out if projection else 0)
    wrong = [
        (CONV_BIAS, want + extra_bias),
        (CONV_BIAS, want + 2 * c_out),
    ]
    if projection:
        wrong += [
            (PROJECTION_HAS_BN, want - bn),
            ("the projection is a 1x1 convolution, not 3x3", want + 8 * c_in * c_out),
            (
                "the block needs a projection shortcut when the shapes differ",
                want - c_in * c_out - bn,
            ),
        ]
    elif shortcut:
        wrong.append((IDENTITY_HAS_NO_PARAMETERS, want + c_in * c_out + bn))
    else:
        wrong.append((PLAIN_HAS_NO_SHORTCUT, want + c_in * c_out + bn))
    hint = next((h for h, v in wrong if v == got), None)
    grader.fail(
        case,
        f"your block has {got} parameters but expected {want}: " + ", ".join(parts),
        hint,
    )


def _cases() -> dict[str, list[tuple[Case, str]]]:
    gen = generator(811)

    def x(*shape):
        return randn(gen, *shape)

    return {
        "shape": [
            (_block_case("odd image", 8, 16, 2, x(2, 8, 9, 10)), "shape"),
            (_block_case("same shape", 16, 16, 1, x(2, 16, 6, 7)), "shape"),
        ],
        "params": [
            (_block_case("projection", 8, 16, 2, x(1, 8, 4, 4)), "params"),
            (_block_case("identity", 16, 16, 1, x(1, 16, 4, 4)), "params"),
        ],
        "projection": [
            (_block_case("weights copied", 4, 8, 2, x(3, 4, 8, 7), seed=821),
             "outputs"),
        ],
        "identity": [
            (_block_case("weights copied", 6, 6, 1, x(3, 6, 5, 6), seed=822),
             "outputs"),
        ],
        "plain": [
            (_block_case("no shortcut", 4, 8, 2, x(2, 4, 6, 6), shortcut=False,
                         seed=823), "params"),
            (_block_case("no shortcut, weights copied", 4, 8, 2, x(2, 4, 6, 6),
                         shortcut=False, seed=823), "outputs"),
            (_block_case("no shortcut, same shape", 5, 5, 1, x(2, 5, 4, 5),
                         shortcut=False, seed=824), "outputs"),
        ],
        "random": [
            (_block_case("odd sizes", 3, 5, 2, x(2, 3, 7, 9), seed=825), "outputs"),
            (_block_case("projection without downsampling", 6, 4, 1,
                         x(2, 6, 5, 5), seed=826), "outputs"),
            (_block_case("projection, same channels", 4, 4, 2, x(3, 4, 6, 5),
                         seed=827), "outputs"),
        ],
    }  # fmt: skip


def check_residual_block(cls: object, part: str | None = None) -> CheckResult:
    """Grade ``cls(in_channels, out_channels, stride=1, shortcut=True)``, a
    residual block (an ``nn.Module``) with a projection shortcut.

    Parts: "shape" (output shape, with and without downsampling), "params"
    (parameter count equals the reference's), "projection" (same output as
    cnnlib's BasicBlock with its weights copied in, in training and evaluation
    mode: stride 2, C_in != C_out), "identity" (stride 1, C_in == C_out: the
    shortcut is x itself), "plain" (shortcut=False: no shortcut at all),
    "random" (hidden settings), or None.

    The layers must be named conv1, bn1, conv2, bn2 and shortcut (for the
    weight copy). Forbids cnnlib.models (BasicBlock, make_shortcut, ...).
    """
    graders = {
        "shape": _grade_shape,
        "params": _grade_params,
        "outputs": _grade_outputs,
    }

    def part_of(cases):
        def run(cls, grader: Grader) -> int:
            for case, kind in cases:
                graders[kind](cls, grader, case)
            return len(cases)

        return run

    parts = {name: part_of(cases) for name, cases in _cases().items()}
    return run_parts(
        "residual_block",
        parts,
        part,
        cls,
        forbid=(),
        what="your ResidualBlock",
    )
