"""A throwaway copy of the nbgrader course, and the real nbgrader commands run in it.

The repository root is the nbgrader course directory; tests copy what nbgrader
needs (``nbgrader_config.py`` and ``solutions/``) into a temporary folder, so that
each run has its own gradebook, ``submitted/``, ``autograded/`` and ``feedback/``,
and never touches the instructor's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def source_notebook(assignment: str) -> Path:
    return ROOT / "solutions" / assignment / f"{assignment}.ipynb"


def release_notebook(assignment: str) -> Path:
    return ROOT / "exercises" / assignment / f"{assignment}.ipynb"


def nbgrader_cell(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


@dataclass
class Result:
    """What an nbgrader command did."""

    args: list[str]
    returncode: int
    seconds: float
    output: str


class Course:
    """An nbgrader course directory in ``path``, with its own gradebook."""

    def __init__(self, path: Path, env: dict[str, str] | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "nbgrader_config.py", self.path / "nbgrader_config.py")
        shutil.copytree(ROOT / "solutions", self.path / "solutions")
        bin_dir = str(Path(sys.executable).parent)  # nbgrader calls `alembic` by name
        self.env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
        self.env.update(env or {})

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.path / 'gradebook.db'}"

    def nbgrader(self, *args: str, timeout: float = 600, check: bool = True) -> Result:
        cmd = [sys.executable, "-m", "nbgrader", *args]
        start = time.perf_counter()
        proc = subprocess.run(
            cmd,
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = Result(
            list(args),
            proc.returncode,
            time.perf_counter() - start,
            proc.stdout + proc.stderr,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"nbgrader {' '.join(args)} failed:\n{result.output[-5000:]}"
            )
        return result

    def generate(self, assignment: str) -> Path:
        self.nbgrader("generate_assignment", assignment, "--force")
        return self.path / "exercises" / assignment / f"{assignment}.ipynb"

    def generate_all(self) -> dict[str, Path]:
        """Every assignment's release, in one nbgrader call (same as one call each)."""
        self.nbgrader("generate_assignment", "*", "--force")
        return {a: self.path / "exercises" / a / f"{a}.ipynb" for a in ASSIGNMENTS}

    def submit(self, student: str, assignment: str, notebook: str | dict) -> Path:
        """Place a notebook (text, or a notebook dict) as a student's submission."""
        folder = self.path / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{assignment}.ipynb"
        if isinstance(notebook, str):
            path.write_text(notebook)
        else:
            nbformat.write(nbformat.from_dict(notebook), path)
        return path

    def autograde(self, assignment: str, student: str, force: bool = False) -> Result:
        args = ["autograde", assignment, "--student", student]
        return self.nbgrader(*args, *(["--force"] if force else []), check=False)

    def feedback_html(self, student: str, assignment: str) -> Path:
        return self.path / "feedback" / student / assignment / f"{assignment}.html"

    def grades(
        self, assignment: str, student: str
    ) -> dict[str, tuple[float | None, float]]:
        """grade_id -> (autograded score or None, max score), one student."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            nb = gb.find_submission_notebook(assignment, assignment, student)
            return {g.name: (g.auto_score, g.max_score) for g in nb.grades}


def filled_notebook(
    assignment: str,
    overrides: dict[str, str] | None = None,
    release: Path | None = None,
) -> dict:
    """The release notebook as a student hands it in: every solution cell filled.

    Solution cells get the solution notebook's code (without the BEGIN/END SOLUTION
    marker lines) unless ``overrides`` gives their new source by grade_id.
    """
    overrides = dict(overrides or {})
    solutions = {
        nbgrader_cell(c)["grade_id"]: c["source"]
        for c in nbformat.read(source_notebook(assignment), 4).cells
        if nbgrader_cell(c).get("solution")
    }
    nb = nbformat.read(release or release_notebook(assignment), 4)
    for cell in nb["cells"]:
        meta = nbgrader_cell(cell)
        if not meta.get("solution"):
            continue
        grade_id = meta["grade_id"]
        src = overrides.pop(grade_id, None)
        if src is None:
            src = "\n".join(
                line
                for line in solutions[grade_id].split("\n")
                if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
            )
        cell["source"] = src
    assert not overrides, f"no solution cells named {sorted(overrides)}"
    return nb


def solution_source(assignment: str, grade_id: str) -> str:
    """The reference code of one solution cell, without the marker lines."""
    nb = filled_notebook(assignment)
    return next(
        c["source"] for c in nb["cells"] if nbgrader_cell(c).get("grade_id") == grade_id
    )


def edited(assignment: str, grade_id: str, *replacements: tuple[str, str]) -> str:
    """One solution cell with small textual edits (each must apply exactly once)."""
    src = solution_source(assignment, grade_id)
    for old, new in replacements:
        assert src.count(old) == 1, f"{grade_id}: {old!r} found {src.count(old)} times"
        src = src.replace(old, new)
    return src
