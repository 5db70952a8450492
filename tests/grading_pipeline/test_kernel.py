"""The hardened grading kernel (cnnlib/grading/kernel.py), without nbgrader."""

from __future__ import annotations

import subprocess
import sys
import types

import nbformat
import pytest
from nbclient import NotebookClient

from cnnlib.grading.kernel import Snapshot


@pytest.fixture
def fake_package(monkeypatch):
    """A package `fakegrader` with a submodule, a function and a class."""
    pkg = types.ModuleType("fakegrader")
    sub = types.ModuleType("fakegrader.core")
    exec(
        "LIMIT = 3\n"
        "def check(x):\n    return x < LIMIT\n"
        "class Grader:\n    def grade(self, x):\n        return check(x)\n",
        sub.__dict__,
    )
    sub.check.__module__ = sub.Grader.__module__ = "fakegrader.core"
    pkg.core, pkg.check = sub, sub.check
    monkeypatch.setitem(sys.modules, "fakegrader", pkg)
    monkeypatch.setitem(sys.modules, "fakegrader.core", sub)
    return pkg


class Shell:
    def showtraceback(self):
        return "shown"


def test_snapshot_restores_what_student_code_patched(fake_package):
    shell = Shell()
    snapshot = Snapshot(("fakegrader",), instance=shell)
    core, check = fake_package.core, fake_package.check
    # the patches a student could make in a solution cell
    core.LIMIT = 100
    core.extra = "added"
    fake_package.check = lambda x: True
    check.__code__ = (lambda x: True).__code__
    core.Grader.grade = lambda self, x: True
    shell.showtraceback = lambda: None
    sys.modules["fakegrader.core"] = types.ModuleType("fake")
    assert check(50) and core.Grader().grade(50)

    snapshot.restore()
    assert sys.modules["fakegrader.core"] is core
    assert core.LIMIT == 3 and not hasattr(core, "extra")
    assert fake_package.check is check and not check(50)
    assert not core.Grader().grade(50)
    assert shell.showtraceback() == "shown"


def test_memory_cap_turns_a_bomb_into_an_error():
    code = (
        "from cnnlib.grading.kernel import cap_memory\n"
        "cap_memory(400 * 2**20)\n"
        "hoard = [bytearray(50 * 2**20) for _ in range(40)]\n"  # 2 GB, if not stopped
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0 and "MemoryError" in proc.stderr


@pytest.mark.slow
def test_grading_kernel_end_to_end(monkeypatch):
    """Warnings are no failures, tracebacks show no test source, checks are restored."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("CNNLIB_GRADING_THREADS", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(c)
        for c in (
            "import sys, warnings\nfrom cnnlib.grading import check_relu",
            "warnings.warn('old', DeprecationWarning)\nprint('!', file=sys.stderr)",
            "check_relu = lambda *args, **kwargs: None  # a student's 'fix'",
            "# test\nsecret = 'hidden test line'\ncheck_relu(abs, part='values')",
            "import torch\nprint('threads', torch.get_num_threads())",
        )
    ]
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        extra_arguments=["--IPKernelApp.extensions=cnnlib.grading.kernel"],
    ).execute()
    noisy, test = nb.cells[1].outputs, nb.cells[3].outputs
    assert [o.get("name") for o in noisy] == ["stdout"] * len(noisy)
    assert "DeprecationWarning" in "".join(o.text for o in noisy)
    (error,) = [o for o in test if o.output_type == "error"]
    assert error.ename == "GradingError"  # the real check ran, not the student's lambda
    assert "hidden test line" not in "".join(error.traceback)
    # torch was imported with the extension, before OMP_NUM_THREADS could act
    assert nb.cells[4].outputs[0].text == "threads 1\n"
