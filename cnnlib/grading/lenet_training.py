"""Assignment 5: LeNet-5 trained on the student's conv2d and avg_pool2d.

``check_trains_lenet`` builds cnnlib's LeNet-5 with every convolution running the
student's conv2d and every subsampling layer the student's avg_pool2d (other
layers on torch's kernels), trains it with a fixed seed for a fixed budget (one
epoch over the 3,500 training digits of ``mnist5k``, padded to 32x32,
mini-batches of 32, Adam with learning rate 0.003) and measures its accuracy on
the 750 test digits, which the notebook never uses. With cnnlib's own ops it
reaches about 0.92; the threshold is 0.85. Every call of the student's functions
runs under the guard (no torch conv/pool kernels, no cnnlib), the backward pass
too; the calls are counted, so a model that silently falls back on other kernels
fails. Training stops with a message, naming the slow function, as soon as it is
on course to take more than ``TIME_LIMIT_S`` seconds of CPU time (the reference
takes about 2).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from cnnlib.grading.cases import generator
from cnnlib.grading.compare import GradingError
from cnnlib.grading.guard import run_student
from cnnlib.grading.lenet import Calls, fail, own_impls, student_lenet
from cnnlib.grading.runner import CheckResult

THRESHOLD = 0.85
TIME_LIMIT_S = 20.0
BATCH, LR, SEED = 32, 3e-3, 0


@contextlib.contextmanager
def _one_thread():
    """Run on one thread, then restore the setting. LeNet-5's layers are tiny:
    several threads wait for each other more than they compute, and on a busy
    machine a thread that is not scheduled stalls the others (ten times slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def check_trains_lenet(
    conv2d: Callable, avg_pool2d: Callable, part: str | None = None
) -> CheckResult:
    """Train LeNet-5 on the student's conv2d and avg_pool2d; grade its accuracy.

    One epoch over mnist5k's 3,500 training digits (32x32), mini-batches of 32,
    Adam (lr 0.003), fixed seed; then accuracy on the 750 test digits, at least
    0.85 (cnnlib's ops: about 0.92). Part: "training" (the only one) or None.
    """
    if part not in (None, "training"):
        raise ValueError(f"trains_lenet has no part {part!r}; choose 'training'")
    from cnnlib.data import mnist5k  # imported on use: slow to import

    splits = mnist5k(pad_to=32)
    with torch.random.fork_rng():  # the notebook's random state is left alone
        torch.manual_seed(SEED)
        model, conv, pool = student_lenet(conv2d, avg_pool2d)
    start = time.perf_counter()
    with own_impls(), _one_thread():
        steps = _train(model, *splits.train.tensors, conv, pool)
        test_images, test_labels = splits.test.tensors
        with torch.no_grad():
            model.eval()
            scores = torch.cat([model(chunk) for chunk in test_images.split(250)])
    seconds = time.perf_counter() - start
    accuracy = (scores.argmax(1) == test_labels).double().mean().item()
    forwards = steps + 3  # the training steps, and three test batches
    for stats, layers in ((conv, 3), (pool, 2)):
        if stats.calls != layers * forwards:
            fail(
                "trains_lenet",
                "training",
                f"{stats.what} ran {stats.calls} times "
                f"in {forwards} forward passes of a model with {layers} such "
                "layers: the layers did not all run it",
            )
    if accuracy < THRESHOLD:
        fail(
            "trains_lenet",
            "training",
            f"after one epoch ({steps} steps of "
            f"{BATCH} digits, {seconds:.1f} s), LeNet-5 on your functions "
            f"classifies {accuracy:.3f} of the {len(test_labels)} test digits "
            f"correctly, below {THRESHOLD}; with cnnlib's ops it reaches about 0.92",
            "your functions pass the value checks? Then look at the gradients "
            "(part 3): an output that autograd cannot trace back to the weights "
            "does not train",
        )
    return CheckResult(
        "trains_lenet", (f"test accuracy {accuracy:.3f} >= {THRESHOLD}",), steps
    )


def _train(model, images, labels, conv: Calls, pool: Calls) -> int:
    """One epoch of Adam; stops with a message when it would take too long.

    Time is the process's CPU time, not the wall clock, so that other programs
    busy on the same machine do not make a correct solution look slow. The
    estimate leaves out the first step, which pays one-time costs.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    order = torch.randperm(len(images), generator=generator(SEED))
    steps = math.ceil(len(images) / BATCH)
    start = time.process_time()
    after_first = start
    backward = Calls("the backward pass")
    for step in range(steps):
        batch = order[step * BATCH : (step + 1) * BATCH]
        failed = f"training step {step + 1} of {steps} failed"
        try:
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            begin = time.process_time()
            run_student(loss.backward, forbid=("conv", "pool"), what=backward.what)
            backward.seconds += time.process_time() - begin
        except GradingError as error:
            fail("trains_lenet", "training", f"{failed}:\n{error}")
        except Exception as error:  # noqa: BLE001  (an error in the next layer)
            message = f"{failed}: {type(error).__name__}: {error}"
            fail("trains_lenet", "training", message)
        if not torch.isfinite(loss):
            message = f"the loss is {loss.item()} at step {step + 1}"
            fail("trains_lenet", "training", message)
        optimizer.step()
        now = time.process_time()
        if step == 0:
            after_first = now
        elif step >= 5 or now - start > TIME_LIMIT_S:
            rate = (now - after_first) / step  # seconds per step after the first
            projected = now - start + rate * (steps - step - 1)
            if projected > TIME_LIMIT_S:
                _slow(step + 1, steps, projected, conv, pool, backward)
    return steps


def _slow(step, steps, projected, conv, pool, backward) -> None:
    slowest = max((conv, pool, backward), key=lambda s: s.seconds)
    hint = (
        f"{slowest.what} is too slow to train with: vectorise it (no Python loop "
        "over output positions or images; unfold or as_strided, then one einsum or "
        "reduction)"
    )
    if slowest is backward:
        hint = (
            "most of the time goes into the backward pass through your functions: "
            "autograd repeats every operation they record, so a loop over output "
            "positions is slow both ways; vectorise them"
        )
    fail(
        "trains_lenet",
        "training",
        f"training was stopped after {step} of {steps} steps: under the grader, "
        "which watches every tensor operation of your functions, one epoch would "
        f"take about {projected:.0f} s of computing, more than the "
        f"{TIME_LIMIT_S:.0f} s allowed (vectorised functions need about 2 s). So "
        f"far {conv.what} took {conv.seconds:.1f} s, {pool.what} "
        f"{pool.seconds:.1f} s, {backward.what} {backward.seconds:.1f} s.",
        hint,
    )
