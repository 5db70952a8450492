"""nbgrader configuration: the repository root is the course directory.

solutions/NAME/ holds the instructor notebooks (solutions and hidden tests);
`nbgrader generate_assignment NAME` (or `make release`) writes the student release
to exercises/NAME/. Grading state (submitted/, autograded/, feedback/,
gradebook.db, exchange/) stays out of git; see .gitignore.

Grading, for instructors, from this directory (with .venv/bin on PATH: nbgrader
runs `alembic` by name):

    nbgrader collect NAME  (or copy notebooks to submitted/STUDENT/NAME/)
    nbgrader autograde NAME
    nbgrader generate_feedback NAME
    nbgrader export --to grades.csv

Two environment variables tune the grading kernel (tests use them):
CNNLIB_GRADING_TIMEOUT (seconds per cell, default 60) and CNNLIB_GRADING_MEMORY_MB
(memory cap of the kernel, default 4096; see cnnlib/grading/kernel.py).
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821  (injected by nbgrader)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.root = "."

# --- Autograde ------------------------------------------------------------------
# A cell that runs longer than this is interrupted and fails; the next cell runs.
c.Execute.timeout = int(os.environ.get("CNNLIB_GRADING_TIMEOUT", "60"))
c.Execute.interrupt_on_timeout = True
# Always the same kernel, whatever the submitted notebook's metadata says (this
# environment's ipykernel), started with the extension that caps its memory, keeps
# warnings from failing a cell, keeps hidden test lines out of tracebacks and puts
# the grader back before every cell (cnnlib/grading/kernel.py).
c.Execute.kernel_name = "python3"
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.extensions=cnnlib.grading.kernel",
]
# A deleted test cell is put back and run, so it is graded like any other; an edited
# one is restored from the gradebook (nbgrader does that for every locked cell).
c.OverwriteCells.add_missing_cells = True

# --- Feedback -------------------------------------------------------------------
# The autograded notebook holds the hidden tests (they ran); the feedback does not.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
