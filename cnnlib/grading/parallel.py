"""Autograde a whole class in parallel: one ``nbgrader autograde`` process per student.

``nbgrader autograde ASSIGNMENT`` grades the submissions one after the other. Each
submission runs in its own kernel and spends almost all its time executing the
student's notebook, so a class grades several times faster when several students
are graded at once. This module runs ``nbgrader autograde ASSIGNMENT --student ID``
for every student with a submission, ``jobs`` at a time, all writing to the course's
one gradebook (SQLite serialises the short writes at the start and the end of each
run; a run that still meets a locked database is retried).

Each grading kernel gets ``OMP_NUM_THREADS = cores // jobs`` (unless set), so that
``jobs`` kernels training networks do not fight over the cores. Memory: each kernel
may use up to ``CNNLIB_GRADING_MEMORY_MB`` (4 GiB by default); choose ``jobs`` so
that ``jobs x`` that fits in the machine's memory.

From the course directory (the repository root)::

    python -m cnnlib.grading.parallel 05_lenet_own_ops --jobs 8

prints one line per student (seconds, success) and the class's total: wall time,
the sum of the per-student times, and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

#: What nbgrader prints when SQLite's lock wait ran out; such a run is retried.
LOCKED = "database is locked"


@dataclass(frozen=True)
class GradingRun:
    """One student's ``nbgrader autograde`` process."""

    student: str
    returncode: int
    seconds: float
    output: str
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class ClassGrading:
    """Every student of one assignment, graded ``jobs`` at a time."""

    assignment: str
    jobs: int
    runs: tuple[GradingRun, ...]
    wall_seconds: float

    @property
    def serial_seconds(self) -> float:
        """The sum of the per-student times: roughly what one job would take."""
        return sum(run.seconds for run in self.runs)

    @property
    def speedup(self) -> float:
        return self.serial_seconds / self.wall_seconds if self.wall_seconds else 1.0

    def report(self) -> str:
        lines = [
            f"{run.student:24s} {run.seconds:6.1f} s  "
            + ("ok" if run.ok else f"FAILED (exit {run.returncode})")
            for run in self.runs
        ]
        n = len(self.runs)
        failed = sum(not run.ok for run in self.runs)
        lines.append(
            f"{self.assignment}: {n} submissions, {failed} failed, {self.jobs} jobs"
        )
        lines.append(
            f"{self.wall_seconds:.1f} s wall, {self.serial_seconds:.1f} s of grading "
            f"({self.serial_seconds / max(n, 1):.1f} s per submission), "
            f"speed-up {self.speedup:.2f}x"
        )
        return "\n".join(lines)


def submitted_students(course_dir: str | Path, assignment: str) -> list[str]:
    """Students with a folder ``submitted/STUDENT/ASSIGNMENT/``, sorted."""
    submitted = Path(course_dir) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def _environment(jobs: int, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    # nbgrader calls `alembic` by name: put this interpreter's scripts first
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))
    return env


def _grade_one(
    course_dir: Path,
    assignment: str,
    student: str,
    env: dict[str, str],
    force: bool,
    retries: int,
) -> GradingRun:
    cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment]
    cmd += ["--student", student] + (["--force"] if force else [])
    start = time.perf_counter()
    for attempt in range(1, retries + 2):
        proc = subprocess.run(
            cmd, cwd=course_dir, env=env, capture_output=True, text=True
        )
        output = proc.stdout + proc.stderr
        if LOCKED not in output or attempt > retries:
            break
        time.sleep(1.0 * attempt)
        if "--force" not in cmd:  # a failed attempt may leave a partial autograded copy
            cmd.append("--force")
    return GradingRun(
        student, proc.returncode, time.perf_counter() - start, output, attempt
    )


def autograde_class(
    assignment: str,
    *,
    course_dir: str | Path = ".",
    students: Sequence[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    retries: int = 2,
    env: Mapping[str, str] | None = None,
) -> ClassGrading:
    """Autograde ``assignment`` for every student (or ``students``), ``jobs`` at a time.

    Args:
        assignment: the assignment's name, as in ``solutions/NAME``.
        course_dir: the nbgrader course directory (with ``nbgrader_config.py``).
        students: whom to grade; default every student with a submission.
        jobs: how many students at once; default the number of CPU cores.
        force: regrade students already graded (``nbgrader autograde --force``).
        retries: extra attempts for a run that met a locked gradebook.
        env: extra environment variables for nbgrader (e.g.
            ``{"CNNLIB_GRADING_TIMEOUT": "30"}``).

    Returns:
        a :class:`ClassGrading` with one :class:`GradingRun` per student, in the
        order of ``students``.
    """
    course_dir = Path(course_dir).resolve()
    if not (course_dir / "nbgrader_config.py").is_file():
        raise FileNotFoundError(
            f"autograde_class: course_dir {course_dir} has no nbgrader_config.py; "
            "run from the course directory (the repository root)"
        )
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise ValueError(f"autograde_class: jobs must be at least 1, got {jobs}")
    if students is None:
        students = submitted_students(course_dir, assignment)
    env = _environment(jobs, env)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        runs = pool.map(
            lambda s: _grade_one(course_dir, assignment, s, env, force, retries),
            students,
        )
        runs = tuple(runs)
    return ClassGrading(assignment, jobs, runs, time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cnnlib.grading.parallel",
        description="Autograde every submission of an assignment, several at once.",
    )
    parser.add_argument("assignment")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="default: cores")
    parser.add_argument("--student", action="append", help="grade only these")
    parser.add_argument("--force", action="store_true", help="regrade")
    parser.add_argument("--course-dir", default=".")
    args = parser.parse_args(argv)
    result = autograde_class(
        args.assignment,
        course_dir=args.course_dir,
        students=args.student,
        jobs=args.jobs,
        force=args.force,
    )
    print(result.report())
    for run in result.runs:
        if not run.ok:
            print(f"\n--- {run.student} ---\n{run.output[-2000:]}", file=sys.stderr)
    return 0 if all(run.ok for run in result.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
