"""Speed and peak memory of cnnlib.ops (scratch) against torch's native kernels.

Each case times one training step of the op: forward, then backward with a fixed
output gradient, in float32. Scratch and native steps alternate within one
process so that both see the same background load; the table shows the median
time of each and the median of the per-round ratios scratch/native.

Peak memory is the most memory the step holds at once beyond its inputs:

* CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``.
* CPU: measured by the operating system in a child process. Before each step the
  child resets the peak resident set size (Linux ``/proc/self/clear_refs``) and
  reads it back after the step (``VmHWM``). The child runs with
  ``MALLOC_MMAP_THRESHOLD_=65536`` so that every buffer over 64 KiB is its own
  mapping and is returned to the system when freed: the resident size then tracks
  the bytes alive, for torch's buffers and oneDNN's private ones alike. A
  warm-up step on a copy of the inputs first loads the libraries' code and builds
  oneDNN's kernels, which would otherwise count.

Usage:
    python benchmarks/bench_ops.py             # full sizes, a few minutes on 2 cores
    python benchmarks/bench_ops.py --quick     # tiny sizes, a smoke run
    python benchmarks/bench_ops.py --device cuda
    python benchmarks/bench_ops.py --threads 1  # on a machine busy with other jobs
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from cnnlib import ops  # noqa: E402


@dataclass
class Case:
    """One benchmark: ``make()`` builds inputs, returns (scratch step, native step)."""

    op: str
    label: str
    make: Callable[[], tuple[Callable[[], None], Callable[[], None]]]


def training_step(fn, inputs, grad_output):
    """A closure running forward + backward of ``fn`` on fresh gradients."""

    def step():
        for t in inputs:
            t.grad = None
        fn().backward(grad_output)

    return step


def conv2d_case(n, c_in, c_out, size, device):
    x = torch.randn(n, c_in, size, size, device=device, requires_grad=True)
    w = torch.randn(c_out, c_in, 3, 3, device=device, requires_grad=True)
    b = torch.randn(c_out, device=device, requires_grad=True)
    g = torch.randn(n, c_out, size, size, device=device)
    return tuple(
        training_step(lambda f=f: f(x, w, b, padding=1), (x, w, b), g)
        for f in (ops.conv2d, F.conv2d)
    )


def conv_transpose2d_case(n, c_in, c_out, size, kernel, padding, out_pad, device):
    x = torch.randn(n, c_in, size, size, device=device, requires_grad=True)
    w = torch.randn(c_in, c_out, kernel, kernel, device=device, requires_grad=True)
    b = torch.randn(c_out, device=device, requires_grad=True)
    out = (size - 1) * 2 - 2 * padding + kernel + out_pad
    g = torch.randn(n, c_out, out, out, device=device)
    kwargs = dict(stride=2, padding=padding, output_padding=out_pad)
    return tuple(
        training_step(lambda f=f: f(x, w, b, **kwargs), (x, w, b), g)
        for f in (ops.conv_transpose2d, F.conv_transpose2d)
    )


def max_pool2d_case(n, c, size, device):
    x = torch.randn(n, c, size, size, device=device, requires_grad=True)
    g = torch.randn(n, c, size // 2, size // 2, device=device)
    return tuple(
        training_step(lambda f=f: f(x, 2, 2), (x,), g)
        for f in (ops.max_pool2d, F.max_pool2d)
    )


def batch_norm_case(n, c, size, device):
    x = torch.randn(n, c, size, size, device=device, requires_grad=True)
    w = torch.randn(c, device=device, requires_grad=True)
    b = torch.randn(c, device=device, requires_grad=True)
    g = torch.randn(n, c, size, size, device=device)
    steps = []
    for f in (ops.batch_norm, F.batch_norm):
        # Each implementation updates its own running statistics.
        mean, var = torch.zeros(c, device=device), torch.ones(c, device=device)
        call = lambda f=f, m=mean, v=var: f(x, m, v, w, b, training=True)  # noqa: E731
        steps.append(training_step(call, (x, w, b), g))
    return tuple(steps)


def cases(device: torch.device, quick: bool) -> list[Case]:
    """The benchmark table; ``quick`` shrinks every size to a smoke test."""

    def conv(n, c_in, c_out, size):
        label = f"N={n} {c_in}->{c_out} {size}x{size} k3 p1"
        return Case("conv2d", label, partial(conv2d_case, n, c_in, c_out, size, device))

    def pool(n, c, size):
        label = f"N={n} C={c} {size}x{size} k2 s2"
        return Case("max_pool2d", label, partial(max_pool2d_case, n, c, size, device))

    def norm(n, c, size):
        label = f"N={n} C={c} {size}x{size} train"
        return Case("batch_norm", label, partial(batch_norm_case, n, c, size, device))

    def up(n, c_in, c_out, size, kernel, padding, out_pad):
        out = (size - 1) * 2 - 2 * padding + kernel + out_pad
        label = f"N={n} {c_in}->{c_out} {size}->{out} k{kernel} s2"
        label += f" p{padding} op{out_pad}" if padding or out_pad else ""
        args = (n, c_in, c_out, size, kernel, padding, out_pad, device)
        return Case("conv_transpose2d", label, partial(conv_transpose2d_case, *args))

    if quick:
        return [
            conv(2, 3, 8, 8),
            conv(2, 8, 8, 8),
            pool(2, 4, 8),
            norm(2, 4, 8),
            up(2, 8, 4, 4, 2, 0, 0),
        ]
    return [
        conv(64, 3, 64, 32),
        conv(64, 64, 64, 32),
        conv(64, 128, 128, 16),
        conv(32, 64, 64, 56),
        pool(64, 64, 32),
        norm(64, 64, 32),
        up(32, 64, 32, 16, 2, 0, 0),
        up(32, 64, 32, 16, 3, 1, 1),
    ]


# --- Timing -----------------------------------------------------------------------


def timed(step: Callable[[], None], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_case(case: Case, device: torch.device, repeats: int) -> dict | None:
    """Median times and ratio, or None when the scratch op is still a stub."""
    scratch, native = case.make()
    try:
        scratch()
    except NotImplementedError:
        return None
    for _ in range(2):  # warm-up: caches, oneDNN kernel generation, allocator
        scratch()
        native()
    times_s, times_n = [], []
    for round_ in range(repeats):
        # Alternate who goes first, so neither always runs on a warmer cache.
        if round_ % 2 == 0:
            times_s.append(timed(scratch, device))
            times_n.append(timed(native, device))
        else:
            times_n.append(timed(native, device))
            times_s.append(timed(scratch, device))
    ratios = [s / n for s, n in zip(times_s, times_n, strict=True)]
    return {
        "scratch_ms": 1e3 * statistics.median(times_s),
        "native_ms": 1e3 * statistics.median(times_n),
        "ratio": statistics.median(ratios),
    }


# --- Peak memory ------------------------------------------------------------------


def _proc_status(key: str) -> int:
    """A size from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_bytes(step: Callable[[], None], device: torch.device) -> int:
    """Most memory held at once during ``step``, beyond what existed before."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated(device) - before
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set size to the current size
    before = _proc_status("VmRSS")
    step()
    return _proc_status("VmHWM") - before


def memory_child(device: torch.device, quick: bool) -> None:
    """Measure every case once, each in a fresh state; print JSON lines."""
    for index, case in enumerate(cases(device, quick)):
        result = {}
        for name, which in (("scratch", 0), ("native", 1)):
            try:
                # Warm-up on a copy that is then freed: loads code, builds oneDNN's
                # kernels for these shapes; the measured step starts from scratch.
                case.make()[which]()
                result[name] = peak_bytes(case.make()[which], device)
            except NotImplementedError:
                result[name] = None
        print(json.dumps({"index": index, **result}), flush=True)


def measure_memory(device: torch.device, quick: bool, threads: int) -> dict[int, dict]:
    """Peak memory per case index; on CPU from a child process (see top)."""
    if device.type == "cuda":
        results = {}
        for index, case in enumerate(cases(device, quick)):
            results[index] = {}
            for name, which in (("scratch", 0), ("native", 1)):
                try:
                    results[index][name] = peak_bytes(case.make()[which], device)
                except NotImplementedError:
                    results[index][name] = None
        return results
    if not Path("/proc/self/clear_refs").exists():
        return {}  # not Linux: no way to reset the peak; report n/a
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    command = [sys.executable, __file__, "--memory-child", "--device", str(device)]
    command += ["--threads", str(threads)] + (["--quick"] if quick else [])
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    lines = [
        json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")
    ]
    return {line.pop("index"): line for line in lines}


# --- Report -----------------------------------------------------------------------


def mb(nbytes: int | None) -> str:
    return "n/a" if nbytes is None else f"{nbytes / 2**20:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed rounds per case"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (1 on a machine busy with other jobs: see the README)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip peak memory")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.memory_child:
        memory_child(device, args.quick)
        return
    repeats = args.repeats or (3 if args.quick else 7)

    threads = torch.get_num_threads()
    memory = {} if args.no_memory else measure_memory(device, args.quick, threads)
    on = f"cpu, {threads} threads" if device.type == "cpu" else str(device)
    print(
        f"cnnlib.ops vs torch native: forward+backward, float32, {on}, "
        f"torch {torch.__version__}, median of {repeats}"
    )
    header = (
        f"{'op':<17} {'case':<32} {'scratch ms':>10} {'native ms':>10} {'time x':>7}"
        f" {'scratch MB':>10} {'native MB':>10} {'mem x':>6}"
    )
    print(header)
    print("-" * len(header))
    for index, case in enumerate(cases(device, args.quick)):
        timing = time_case(case, device, repeats)
        if timing is None:
            print(f"{case.op:<17} {case.label:<32} not implemented yet")
            continue
        peak = memory.get(index, {})
        s_mem, n_mem = peak.get("scratch"), peak.get("native")
        mem_ratio = f"{s_mem / n_mem:.2f}" if s_mem and n_mem else "n/a"
        print(
            f"{case.op:<17} {case.label:<32} {timing['scratch_ms']:>10.2f}"
            f" {timing['native_ms']:>10.2f} {timing['ratio']:>7.2f}"
            f" {mb(s_mem):>10} {mb(n_mem):>10} {mem_ratio:>6}"
        )


if __name__ == "__main__":
    main()
