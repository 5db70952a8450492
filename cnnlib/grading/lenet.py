"""Assignment 5: LeNet-5 running on the student's conv2d and avg_pool2d.

``check_my_lenet5`` grades the student's model builder: ``cnnlib.models.lenet5()``
with every convolution (C1, C3, C5) running the student's conv2d and every
subsampling layer (S2, S4) the student's avg_pool2d, through the layers' ``impl``.
The helpers here (a guarded, counted, timed impl; LeNet-5 on the student's
functions) also serve ``cnnlib.grading.lenet_training``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from cnnlib import nn
from cnnlib.grading.block_match import (
    MODELS_DIR,
    copy_weights,
    layers_of,
    match_layers,
)
from cnnlib.grading.cases import generator, randn
from cnnlib.grading.compare import GradingError, check_tensor_type, close, find_mismatch
from cnnlib.grading.guard import _error_message, run_student
from cnnlib.grading.runner import CheckResult
from cnnlib.models.lenet import lenet5
from cnnlib.nn._impl import _OVERRIDE

_LENET5 = lenet5
_LENET5_CODE = lenet5.__code__
N_PARAMS = 61_706
NAMES = {nn.Conv2d: ("C1", "C3", "C5"), nn.AvgPool2d: ("S2", "S4")}


@contextlib.contextmanager
def own_impls():
    """Inside, every layer runs its own impl, even if the notebook left an
    ``nn.use_impl`` block open (which would silently replace the student's ops)."""
    token = _OVERRIDE.set(None)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def _reference_lenet5() -> torch.nn.Module:
    path = os.path.abspath(_LENET5.__code__.co_filename)
    if _LENET5.__code__ is not _LENET5_CODE or not path.startswith(MODELS_DIR):
        raise GradingError(
            "cnnlib.models.lenet5 has been replaced; restart the kernel and run the "
            "notebook without replacing library code."
        )
    return _LENET5()


def fail(check: str, part: str, message: str, hint: str | None = None) -> None:
    text = f'{check}, part "{part}"\n{message}'
    raise GradingError(f"{text}\nHint: {hint}" if hint else text)


@dataclass
class Calls:
    """How often, and for how long, one student function ran."""

    what: str
    calls: int = 0
    seconds: float = 0.0


def _guarded(fn: Callable, family: str, stats: Calls, expected) -> Callable:
    """The student's function as a layer's impl: guarded, counted, timed, and its
    output checked (type, dtype, shape) before the next layer sees it."""

    def impl(*args):
        stats.calls += 1
        start = time.process_time()  # CPU time: other programs do not count
        try:
            result = run_student(fn, args, forbid=(family,), what=stats.what).result
        finally:
            stats.seconds += time.process_time() - start
        x = args[0]
        wrong = check_tensor_type(result, "the output")
        if wrong is None and result.dtype != x.dtype:
            raise GradingError(
                f"{stats.what} got x {tuple(x.shape)} in {x.dtype} from the layer and "
                f"returned {result.dtype}: keep the input's dtype (the model trains "
                "in float32; create tensors with dtype=x.dtype)"
            )
        if wrong is None and tuple(result.shape) != expected(*args):
            raise GradingError(
                f"{stats.what} got x {tuple(x.shape)} from the layer and returned "
                f"shape {tuple(result.shape)}, expected {expected(*args)}"
            )
        if wrong is not None:
            raise GradingError(f"{stats.what}: {wrong.message}")
        return result

    return impl


def _conv_shape(x, weight, bias, stride, padding, dilation, groups=1):
    sizes = [
        (x.shape[2 + a] + 2 * padding[a] - dilation[a] * (weight.shape[2 + a] - 1) - 1)
        // stride[a]
        + 1
        for a in range(2)
    ]
    return (x.shape[0], weight.shape[0], *sizes)


def _pool_shape(x, kernel_size, stride, *rest):
    k = (kernel_size,) * 2 if isinstance(kernel_size, int) else kernel_size
    s = (stride,) * 2 if isinstance(stride, int) else stride
    return (*x.shape[:2], *((x.shape[2 + a] - k[a]) // s[a] + 1 for a in range(2)))


def student_lenet(conv2d, avg_pool2d) -> tuple[torch.nn.Module, Calls, Calls]:
    """cnnlib's LeNet-5 on the student's functions (native kernels elsewhere)."""
    model = _reference_lenet5()
    conv, pool = Calls("your conv2d"), Calls("your avg_pool2d")
    nn.set_impl(model, "native")
    nn.set_impl(model, _guarded(conv2d, "conv", conv, _conv_shape), only=nn.Conv2d)
    nn.set_impl(
        model, _guarded(avg_pool2d, "pool", pool, _pool_shape), only=nn.AvgPool2d
    )
    return model, conv, pool


# -- the student's model -------------------------------------------------------------


def _build(build: Callable, check: str, part: str) -> torch.nn.Module:
    try:
        model = build()
    except Exception as error:  # noqa: BLE001  (reported to the student)
        fail(check, part, _error_message(error, "your my_lenet5"))
    if not isinstance(model, torch.nn.Module):
        fail(
            check,
            part,
            f"your my_lenet5 returned {type(model).__qualname__}, not an nn.Module",
        )
    return model


def _named_layers(model: torch.nn.Module) -> list[tuple[str, str, torch.nn.Module]]:
    """(paper name, attribute path, layer) of the convolution and pooling layers."""
    found, seen = [], {kind: 0 for kind in NAMES}
    for path, module in model.named_modules():
        for kind, names in NAMES.items():
            if isinstance(module, kind):
                i = seen[kind]
                seen[kind] += 1
                found.append((names[i] if i < len(names) else "?", path, module))
    return found


def _count_calls(model, x, functions: dict[str, Callable]) -> dict[str, int]:
    """How many times each function's code ran during ``model(x)``."""
    codes = {getattr(fn, "__code__", None): name for name, fn in functions.items()}
    counts = dict.fromkeys(functions, 0)

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            counts[codes[frame.f_code]] += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        with torch.no_grad():
            model(x)
    finally:
        sys.setprofile(previous)
    return counts


def check_my_lenet5(
    build: Callable, conv2d: Callable, avg_pool2d: Callable, part: str | None = None
) -> CheckResult:
    """Grade ``build() -> LeNet-5 whose layers run the student's functions``.

    Parts: "layers" (61,706 parameters; C1, C3, C5 run conv2d and S2, S4 run
    avg_pool2d, each once per forward pass, and no ``use_impl`` block overrides
    them), "forward" (with cnnlib's LeNet-5 weights copied in, the same logits as
    cnnlib's LeNet-5 on a batch of float32 images), or None.
    """
    check = "my_lenet5"
    names = ["layers", "forward"] if part is None else [part]
    if any(name not in ("layers", "forward") for name in names):
        raise ValueError(f"{check} has no part {part!r}; choose 'layers', 'forward'")
    x = randn(generator(1801), 4, 1, 32, 32).float()
    for name in names:
        model = _build(build, check, name)
        if name == "layers":
            _grade_layers(model, x, conv2d, avg_pool2d, check)
        else:
            _grade_forward(model, x, conv2d, avg_pool2d, check)
    return CheckResult(check, tuple(names), len(names))


def _grade_layers(model, x, conv2d, avg_pool2d, check) -> None:
    count = sum(p.numel() for p in model.parameters())
    if count != N_PARAMS:
        fail(
            check,
            "layers",
            f"your model has {count:,} parameters; LeNet-5 "
            f"(models.lenet5()) has {N_PARAMS:,}",
        )
    layers = _named_layers(model)
    kinds = [type(layer).__name__ for _, _, layer in layers]
    if kinds.count("Conv2d") != 3 or kinds.count("AvgPool2d") != 2:
        fail(
            check,
            "layers",
            f"your model has {kinds.count('Conv2d')} nn.Conv2d and "
            f"{kinds.count('AvgPool2d')} nn.AvgPool2d layers; LeNet-5 has 3 and 2",
            "build it with models.lenet5(): the paper's LeNet-5 subsamples by "
            "averaging",
        )
    for paper, path, layer in layers:
        mine = "conv2d" if isinstance(layer, nn.Conv2d) else "avg_pool2d"
        if isinstance(layer.impl, str):
            fail(
                check,
                "layers",
                f"{paper} ({path}) runs impl={layer.impl!r}, not your {mine}",
                f"give it your function: impl={mine}, or "
                f"nn.set_impl(model, {mine}, only=nn.{type(layer).__name__})",
            )
        if layer.active_impl is not layer.impl:
            fail(
                check,
                "layers",
                f"{paper} ({path}) would run "
                f"impl={layer.active_impl!r}: an nn.use_impl(...) block is still "
                "active",
                "restart the kernel, and use nn.use_impl only in a `with` block",
            )
    counts = _count_calls(model, x, {"conv2d": conv2d, "avg_pool2d": avg_pool2d})
    for fn, want, layer_names in (
        ("conv2d", 3, "C1, C3, C5"),
        ("avg_pool2d", 2, "S2, S4"),
    ):
        if counts[fn] != want:
            fail(
                check,
                "layers",
                f"one forward pass of your model ran your {fn} "
                f"{counts[fn]} times; it should run once in each of {layer_names}",
                f"set the layers' impl to {fn} itself",
            )


def _grade_forward(model, x, conv2d, avg_pool2d, check) -> None:
    reference = _reference_lenet5().eval()
    match = match_layers(layers_of(model), layers_of(reference))
    if not match.complete:
        fail(
            check,
            "forward",
            "your model's layers are not LeNet-5's: use models.lenet5()",
        )
    copy_weights(model, reference, match)
    # run the student's model on its own impls, each call guarded
    saved = {}
    for paper, path, layer in _named_layers(model):
        if isinstance(layer.impl, str):
            fail(
                check,
                "forward",
                f"{paper} ({path}) runs impl={layer.impl!r}, not "
                'your function (see the part "layers")',
            )
        conv = isinstance(layer, nn.Conv2d)
        stats = Calls("your conv2d" if conv else "your avg_pool2d")
        family, shape = ("conv", _conv_shape) if conv else ("pool", _pool_shape)
        saved[layer] = layer.impl
        layer.impl = _guarded(layer.impl, family, stats, shape)
    outputs: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    try:
        with own_impls():
            got = _traced(model.eval(), x, outputs, 0)
    except GradingError as error:
        fail(check, "forward", str(error))
    finally:
        for layer, impl in saved.items():
            layer.impl = impl
    with nn.use_impl("native"):
        want = _traced(reference, x, outputs, 1)
    mismatch = find_mismatch(got, want, name="logits", atol=1e-4, rtol=1e-4)
    if mismatch is None:
        return
    wrong = next(
        (n for n, (a, b) in outputs.items() if not close(a, b, 1e-4, 1e-4)), None
    )
    hint = None
    if wrong is not None:
        fn = "conv2d" if wrong.startswith("C") else "avg_pool2d"
        hint = f"the first layer whose output differs is {wrong}, which runs your {fn}"
    fail(
        check,
        "forward",
        "with cnnlib's LeNet-5 weights copied in, on a batch of "
        f"{x.shape[0]} float32 images: {mismatch.message}",
        hint,
    )


def _traced(model, x, outputs, slot) -> torch.Tensor:
    handles = []
    for paper, _, layer in _named_layers(model):

        def hook(mod, args, out, paper=paper):
            pair = list(outputs.get(paper, (None, None)))
            pair[slot] = out.detach()
            outputs[paper] = tuple(pair)

        handles.append(layer.register_forward_hook(hook))
    try:
        with torch.no_grad():
            return model(x)
    finally:
        for handle in handles:
            handle.remove()
