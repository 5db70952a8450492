"""Smoke run of benchmarks/bench_training.py --quick: every task end to end."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_training.py"


@pytest.mark.timeout(120)
def test_quick_benchmark_runs_every_task_and_prints_the_table(capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_training", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_training", bench)  # for its dataclasses
    spec.loader.exec_module(bench)
    assert bench.main(["--quick", "--threads", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    rows = [line for line in table if "not judged (--quick)" in line]
    tasks = [row.split()[0] for row in rows]
    assert tasks == ["digits", "mnist5k", "shapes", "shapes", "unet"]
    assert all(" acc " in row or " IoU " in row for row in rows)
