"""Read a class's scores out of the nbgrader gradebook, and plot them per question.

After ``nbgrader autograde`` (and any manual grading in formgrader), the gradebook
holds one score per student and graded cell. ``class_scores`` turns it into a table
(one row per student, one column per graded cell, in notebook order), and
``plot_score_distribution`` shows, for every question, how many students got full
marks, part of them, none, or still wait for a human grader: the quickest way to
see which question the class found hard, or which test is broken.

Example, from the course directory::

    from cnnlib.grading.report import class_scores, plot_score_distribution
    scores = class_scores("gradebook.db", "03_convolution")
    plot_score_distribution(scores).savefig("03_scores.png")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


@dataclass(frozen=True)
class ClassScores:
    """One assignment's scores: ``scores[student][cell]``; NaN = not graded yet.

    ``not_graded`` lists the students with a submission but no grades at all: their
    notebook could not be graded (not valid JSON, deleted cells nbgrader could not
    restore, ...). Look at nbgrader's log for them; they are left out of the table.
    """

    assignment: str
    scores: pd.DataFrame  # index: student id; columns: grade ids in notebook order
    max_scores: pd.Series  # grade id -> points
    needs_manual: pd.DataFrame  # True where a human has not graded the cell yet
    not_graded: tuple[str, ...] = ()

    @property
    def totals(self) -> pd.Series:
        """Each student's total (cells still to grade by hand count 0)."""
        return self.scores.fillna(0).sum(axis=1)

    def summary(self) -> pd.DataFrame:
        """Per question: points, mean score, share of full / partial / zero marks."""
        full = self.scores.eq(self.max_scores) & ~self.needs_manual
        zero = self.scores.eq(0) & ~self.needs_manual
        pending = self.needs_manual
        partial = ~(full | zero | pending)
        return pd.DataFrame(
            {
                "points": self.max_scores,
                "mean": self.scores.mean(),
                "full": full.mean(),
                "partial": partial.mean(),
                "zero": zero.mean(),
                "to grade": pending.mean(),
            }
        )


def _db_url(gradebook: str | Path) -> str:
    text = str(gradebook)
    if "://" in text:
        return text
    path = Path(gradebook)
    if not path.is_file():
        raise FileNotFoundError(f"class_scores: gradebook {path} does not exist")
    return f"sqlite:///{path.resolve()}"


def class_scores(gradebook: str | Path, assignment: str) -> ClassScores:
    """Every submitted student's score on every graded cell of ``assignment``.

    Args:
        gradebook: the path of ``gradebook.db`` or an SQLAlchemy URL.
        assignment: the assignment's name.

    Scores are nbgrader's: the manual score where a grader set one, else the
    automatic one. Written answers that nobody has graded yet are NaN and flagged
    in ``needs_manual``.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(_db_url(gradebook)) as gb:
        try:
            assignment_row = gb.find_assignment(assignment)
        except MissingEntry:
            names = sorted(a.name for a in gb.assignments)
            raise KeyError(
                f"class_scores: no assignment {assignment!r} in the gradebook "
                f"(it has {names})"
            ) from None
        cells: list[str] = []
        max_scores: dict[str, float] = {}
        for notebook in assignment_row.notebooks:
            for cell in notebook.grade_cells:
                cells.append(cell.name)
                max_scores[cell.name] = float(cell.max_score)
        scores: dict[str, dict[str, float]] = {}
        pending: dict[str, dict[str, bool]] = {}
        not_graded: list[str] = []
        for submission in gb.assignment_submissions(assignment):
            student = submission.student.id
            grades = [g for notebook in submission.notebooks for g in notebook.grades]
            if all(g.auto_score is None and g.manual_score is None for g in grades):
                not_graded.append(student)  # autograde never got through it
                continue
            scores[student], pending[student] = {}, {}
            for grade in grades:
                # formgrader clears the flag when a grader saves a score
                waiting = bool(grade.needs_manual_grade) and grade.manual_score is None
                scores[student][grade.name] = np.nan if waiting else float(grade.score)
                pending[student][grade.name] = waiting
    students = sorted(scores)
    table = pd.DataFrame.from_dict(scores, orient="index").reindex(
        index=students, columns=cells
    )
    waiting = (
        pd.DataFrame.from_dict(pending, orient="index")
        .reindex(index=students, columns=cells)
        .fillna(False)
        .astype(bool)
    )
    return ClassScores(
        assignment,
        table,
        pd.Series(max_scores)[cells],
        waiting,
        tuple(sorted(not_graded)),
    )


def plot_score_distribution(result: ClassScores, figsize=None) -> Figure:
    """Per question, the share of students with full, partial, zero marks (left), and
    the histogram of the students' totals (right)."""
    summary = result.summary()
    n_cells = len(summary)
    if figsize is None:
        figsize = (11, max(3.0, 0.28 * n_cells + 1.2))
    fig = Figure(figsize=figsize, layout="constrained")
    ax, ax_total = fig.subplots(1, 2, width_ratios=(2.2, 1))
    colours = {
        "full": "#2e7d32",
        "partial": "#f9a825",
        "zero": "#c62828",
        "to grade": "#9e9e9e",
    }
    y = np.arange(n_cells)
    left = np.zeros(n_cells)
    for kind, colour in colours.items():
        share = summary[kind].to_numpy(dtype=float)
        ax.barh(y, share, left=left, color=colour, label=kind, height=0.8)
        left += share
    labels = [f"{name} ({points:g})" for name, points in summary["points"].items()]
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of students")
    ax.set_title(f"{result.assignment}: score per question (points)", pad=28)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=8)
    total = float(result.max_scores.sum())
    bins = np.linspace(0, total, min(int(total), 20) + 1)
    ax_total.hist(result.totals, bins=bins, color="#1565c0", edgecolor="white")
    ax_total.set_xlabel(f"total score (out of {total:g})")
    ax_total.set_ylabel("students")
    ax_total.yaxis.set_major_locator(MaxNLocator(integer=True))
    title = f"{len(result.scores)} students"
    if result.not_graded:
        title += f" ({len(result.not_graded)} more could not be graded)"
    ax_total.set_title(title)
    return fig
