"""Smoke test of benchmarks/bench_ops.py: it runs, and its memory probe is honest."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_ops.py"
OPS = ("conv2d", "max_pool2d", "batch_norm", "conv_transpose2d")


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_ops", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


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


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="peak memory probe needs Linux"
)
def test_peak_memory_probe_sees_a_known_allocation():
    bench = load_bench()
    kept = []
    size = 48 * 2**20  # bytes, well above malloc's largest mmap threshold (32 MiB)

    def step():
        kept.append(torch.ones(size // 4))  # float32 ones: every page is touched

    peak = bench.peak_bytes(step, torch.device("cpu"))
    assert 0.95 * size <= peak <= 1.25 * size
