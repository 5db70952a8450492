"""Grading benchmark: how long does autograding a class take, per assignment?

For every assignment in ``solutions/``, in a throwaway copy of the course, the script
releases the assignment, hands in ``--students`` copies of the reference solution
(the slowest case: every test runs to the end, training included) and one release
notebook as handed out, then autogrades them with the real ``nbgrader autograde``:
first one submission at a time, then ``--jobs`` at a time with
``cnnlib.grading.parallel``. It prints, per assignment, the seconds per submission
and the time a class of 300 would take, serially and in parallel, and writes the
figures to ``benchmarks/results/grading.json`` (read by the instructor's guide).

Usage::

    python benchmarks/bench_grading.py                      # every assignment
    python benchmarks/bench_grading.py --assignments 05_lenet_own_ops --jobs 4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlib.grading.parallel import autograde_class  # noqa: E402
from tests.grading_pipeline.course import ASSIGNMENTS, Course, filled_notebook  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "grading.json"
CLASS_SIZE = 300


def bench_assignment(
    course: Course, assignment: str, release: Path, students: int, jobs: int
) -> dict:
    solution = filled_notebook(assignment, release=release)
    names = [f"solution_{i:02d}" for i in range(students)]
    for name in names:
        course.submit(name, assignment, solution)
    course.submit("handed_out", assignment, nbformat.read(release, 4))

    serial = autograde_class(
        assignment, course_dir=course.path, students=names[:1] + ["handed_out"], jobs=1
    )
    parallel = autograde_class(
        assignment, course_dir=course.path, students=names, jobs=jobs, force=True
    )
    for run in serial.runs + parallel.runs:
        if not run.ok:
            raise RuntimeError(f"{assignment} {run.student}:\n{run.output[-3000:]}")
    solution_s, handed_out_s = (run.seconds for run in serial.runs)
    per_submission_parallel = parallel.wall_seconds / len(names)
    return {
        "assignment": assignment,
        "solution_s": round(solution_s, 1),
        "handed_out_s": round(handed_out_s, 1),
        "jobs": jobs,
        "students_in_parallel_run": len(names),
        "parallel_wall_s": round(parallel.wall_seconds, 1),
        "parallel_s_per_submission": round(per_submission_parallel, 1),
        "speedup": round(solution_s / per_submission_parallel, 2),
        "class_300_serial_min": round(CLASS_SIZE * solution_s / 60, 1),
        "class_300_parallel_min": round(CLASS_SIZE * per_submission_parallel / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", nargs="*", default=ASSIGNMENTS)
    parser.add_argument("--students", type=int, default=4, help="solutions per run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-save", action="store_true", help="do not write JSON")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        course = Course(Path(tmp))
        releases = course.generate_all()
        for assignment in args.assignments:
            row = bench_assignment(
                course, assignment, releases[assignment], args.students, args.jobs
            )
            rows.append(row)
            print(
                f"{assignment:24s} solution {row['solution_s']:5.1f} s, handed out "
                f"{row['handed_out_s']:5.1f} s; {row['jobs']} jobs: "
                f"{row['parallel_s_per_submission']:5.1f} s per submission "
                f"(x{row['speedup']:.2f}); a class of {CLASS_SIZE}: "
                f"{row['class_300_serial_min']:.0f} min serial, "
                f"{row['class_300_parallel_min']:.0f} min with {row['jobs']} jobs",
                flush=True,
            )
        shutil.rmtree(course.path / "submitted", ignore_errors=True)

    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        machine = {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d"),
        }
        RESULTS.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
        print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
