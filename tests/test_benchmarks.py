"""Smoke test of benchmarks/bench_ops.py: it runs, and its memory probe is honest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_ops.py"
OPS = ("conv2d", "max_pool2d", "batch_norm", "conv_transpose2d")


def test_quick_run_prints_a_row_per_case():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--device", "cpu", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    rows = [row for row in rows if row and row[0] in OPS]
    assert {row[0] for row in rows} == set(OPS)
    for row in rows:
        if "not implemented yet" in " ".join(row):
            assert row[0] != "conv2d"  # conv2d is written
            continue
        # scratch ms, native ms and their ratio are numbers, the ratio positive.
        scratch_ms, native_ms, ratio = (float(v) for v in row[-6:-3])
        assert scratch_ms > 0 and native_ms > 0
        assert ratio > 0


PROBE = """
import importlib.util, sys, torch
spec = importlib.util.spec_from_file_location("bench_ops", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = bench
spec.loader.exec_module(bench)
kept = []
size = 48 * 2**20  # bytes
def step():
    kept.append(torch.ones(size // 4))  # float32 ones: every page is touched
print(bench.peak_bytes(step, torch.device("cpu")))
"""


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="peak memory probe needs Linux"
)
def test_peak_memory_probe_sees_a_known_allocation():
    """The probe, in a fresh process as the benchmark runs it, sees a 48 MiB tensor.

    A fresh process matters: inside a long test worker, freed memory that the
    allocator kept can serve the allocation without raising the resident size.
    """
    size = 48 * 2**20
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(SCRIPT)],
        capture_output=True, text=True, timeout=120, env=env, check=True,
    )  # fmt: skip
    peak = int(result.stdout.split()[-1])
    assert 0.95 * size <= peak <= 1.25 * size
