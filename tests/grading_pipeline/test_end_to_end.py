"""The whole grading pipeline, with the real nbgrader commands, on a copy of the course.

In a temporary course directory (its own gradebook, submitted/, autograded/ and
feedback/), the test generates the release, places the submissions of
``submissions.catalogue()`` under submitted/<student>/<assignment>/, autogrades them
one by one (timing each), generates the feedback, exports the grades to CSV and
regrades one assignment. It proves that:

* the reference solutions get every autograded point, the release as handed out none;
* each canonical mistake costs exactly the test cells it should, with the check's
  message in the feedback;
* hostile submissions (an infinite loop, a memory bomb, calls to the reference, an
  object whose == is always true, patched numpy.testing/torch.testing, an edited and a
  deleted test cell, a notebook that is not JSON) cost only the points they affect,
  and the batch finishes;
* the feedback shows no hidden test, the gradebook stays intact, and regrading gives
  identical scores.

Cells time out after 30 s here (CNNLIB_GRADING_TIMEOUT) and the kernel's memory is
capped at 1.5 GiB (CNNLIB_GRADING_MEMORY_MB). Seconds per submission are printed.
"""

from __future__ import annotations

import csv
import html
import re
import sqlite3
from dataclasses import dataclass, field

import nbformat
import pytest

from cnnlib.grading.parallel import autograde_class
from cnnlib.grading.report import class_scores, plot_score_distribution
from tests.grading_pipeline.course import (
    ASSIGNMENTS,
    Course,
    Result,
    nbgrader_cell,
    source_notebook,
)
from tests.grading_pipeline.submissions import A3, Submission, catalogue

# grading every submission happens in the first test's fixture: allow it time on a
# busy 2-core machine (about 6 minutes when the machine is quiet)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

TIMEOUT_S = 30
JOBS = 2
MEMORY_MB = 1536
SUBMISSIONS = catalogue()


@dataclass
class Graded:
    course: Course
    autograde: dict[tuple[str, str], Result] = field(default_factory=dict)
    grades: dict[tuple[str, str], dict] = field(default_factory=dict)
    regrades: dict[tuple[str, str], dict] = field(default_factory=dict)
    feedback: dict[str, Result] = field(default_factory=dict)
    export: Result | None = None
    regrade: Result | None = None


def autograded_cells(assignment: str) -> dict[str, float]:
    """grade_id -> points of every autograded (code) test cell of the source."""
    nb = nbformat.read(source_notebook(assignment), 4)
    return {
        nbgrader_cell(c)["grade_id"]: float(nbgrader_cell(c)["points"])
        for c in nb.cells
        if nbgrader_cell(c).get("grade") and c.cell_type == "code"
    }


def max_score(assignment: str) -> float:
    """Points of all graded cells of the source notebook, written answers included."""
    nb = nbformat.read(source_notebook(assignment), 4)
    return sum(
        float(nbgrader_cell(c)["points"])
        for c in nb.cells
        if nbgrader_cell(c).get("grade")
    )


def hidden_lines(assignment: str) -> list[str]:
    """Lines of the hidden test regions that appear nowhere in the release."""
    nb = nbformat.read(source_notebook(assignment), 4)
    release = nbformat.read(
        source_notebook(assignment).parents[2]
        / "exercises"
        / assignment
        / f"{assignment}.ipynb",
        4,
    )
    visible = "\n".join(c.source for c in release.cells)
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip() and line.strip() not in visible:
                lines.append(line.strip())
    return lines


def html_text(path) -> str:
    """The text of an HTML page: tags removed (code is split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    env = {
        "CNNLIB_GRADING_TIMEOUT": str(TIMEOUT_S),
        "CNNLIB_GRADING_MEMORY_MB": str(MEMORY_MB),
    }
    course = Course(tmp_path_factory.mktemp("course"), env=env)
    g = Graded(course)
    releases = course.generate_all()
    for sub in SUBMISSIONS:
        course.submit(sub.student, sub.assignment, sub.build(releases[sub.assignment]))
    # two students at a time, as an instructor would grade a class
    # (cnnlib.grading.parallel); the sequential regrade below must agree
    for assignment in ASSIGNMENTS:
        students = [s.student for s in SUBMISSIONS if s.assignment == assignment]
        graded = autograde_class(
            assignment, course_dir=course.path, students=students, jobs=JOBS, env=env
        )
        for run in graded.runs:
            g.autograde[assignment, run.student] = Result(
                ["autograde", assignment, "--student", run.student],
                run.returncode,
                run.seconds,
                run.output,
            )
    for sub in SUBMISSIONS:
        if not sub.broken:
            g.grades[sub.assignment, sub.student] = course.grades(
                sub.assignment, sub.student
            )
    for assignment in ASSIGNMENTS:
        g.feedback[assignment] = course.nbgrader(
            "generate_feedback", assignment, check=False
        )
    g.export = course.nbgrader("export", "--to", "grades.csv")
    # regrade a whole assignment sequentially, hostile submissions included
    g.regrade = course.nbgrader("autograde", A3, "--force", check=False)
    for sub in SUBMISSIONS:
        if sub.assignment == A3 and not sub.broken:
            g.regrades[A3, sub.student] = course.grades(A3, sub.student)
    return g


def test_seconds_per_submission(graded, capsys):
    with capsys.disabled():
        print("\n\nseconds per submission (nbgrader autograde, one student each):")
        for sub in SUBMISSIONS:
            r = graded.autograde[sub.assignment, sub.student]
            print(
                f"  {sub.assignment:22s} {sub.student:20s} {r.seconds:5.1f} s  "
                f"{sub.what}"
            )
        total = sum(r.seconds for r in graded.autograde.values())
        print(
            f"  total {total:.0f} s for {len(SUBMISSIONS)} submissions; "
            f"regrading {A3}: {graded.regrade.seconds:.0f} s\n"
        )


@pytest.mark.parametrize(
    "sub", SUBMISSIONS, ids=lambda s: f"{s.assignment}-{s.student}"
)
def test_each_submission_loses_exactly_the_expected_cells(graded, sub: Submission):
    if sub.broken:
        pytest.skip("graded by test_invalid_notebook_is_reported_and_isolated")
    result = graded.autograde[sub.assignment, sub.student]
    assert result.returncode == 0, result.output[-3000:]
    cells = autograded_cells(sub.assignment)
    grades = graded.grades[sub.assignment, sub.student]
    # every test cell of the source is graded, with its own maximum
    assert {k: grades[k][1] for k in cells} == cells
    failed = {k for k in cells if grades[k][0] != grades[k][1]}
    for k in failed:
        assert grades[k][0] == 0, f"{k}: partial score {grades[k][0]}"
    expected = set(cells) if sub.all_fail else sub.fails
    assert expected <= set(cells), f"unknown cells {expected - set(cells)}"
    assert failed == expected, (
        f"{sub.student}: unexpectedly failed {sorted(failed - expected)}, "
        f"unexpectedly passed {sorted(expected - failed)}"
    )


@pytest.mark.parametrize(
    "sub",
    [s for s in SUBMISSIONS if s.feedback],
    ids=lambda s: f"{s.assignment}-{s.student}",
)
def test_feedback_explains_the_failure(graded, sub: Submission):
    text = html_text(graded.course.feedback_html(sub.student, sub.assignment))
    for phrase in sub.feedback:
        assert phrase in text, f"{phrase!r} not in the feedback of {sub.student}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_no_hidden_test(graded, assignment):
    assert graded.feedback[assignment].returncode == 0, graded.feedback[
        assignment
    ].output[-3000:]
    secret = hidden_lines(assignment)
    assert secret, "every assignment has hidden tests"
    for sub in SUBMISSIONS:
        if sub.assignment != assignment or sub.broken:
            continue
        text = html_text(graded.course.feedback_html(sub.student, assignment))
        assert "HIDDEN TESTS" not in text
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{sub.student}'s feedback shows hidden lines {leaked}"
        # a failed hidden (random) case is described by its shapes, never its values
        for message in text.split("GradingError")[1:]:
            message = message.split("\n\n")[0]
            if "hidden case" in message:
                assert "expected: [" not in message and "got: " not in message, message


def test_invalid_notebook_is_reported_and_isolated(graded):
    result = graded.autograde[A3, "invalid_json"]
    assert result.returncode != 0
    assert "There was an error processing assignment" in result.output
    assert not (graded.course.path / "autograded" / "invalid_json").exists()


def test_gradebook_intact_and_exported(graded):
    db = graded.course.path / "gradebook.db"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = list(csv.DictReader(open(graded.course.path / "grades.csv")))
    got = {(r["assignment"], r["student_id"]) for r in rows}
    for sub in SUBMISSIONS:
        if not sub.broken:
            assert (sub.assignment, sub.student) in got
    for (
        r
    ) in rows:  # a student's maximum never grows: the edited cell's 50 points are gone
        assert float(r["max_score"]) == max_score(r["assignment"]), r


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_class_report_agrees_with_the_gradebook(graded, assignment):
    report = class_scores(graded.course.path / "gradebook.db", assignment)
    subs = [s for s in SUBMISSIONS if s.assignment == assignment and not s.broken]
    assert sorted(report.scores.index) == sorted(s.student for s in subs)
    broken = [s.student for s in SUBMISSIONS if s.assignment == assignment and s.broken]
    assert sorted(report.not_graded) == sorted(broken)
    assert list(report.max_scores.index) == [
        k for k in report.scores.columns
    ] and report.max_scores.sum() == max_score(assignment)
    for sub in subs:
        for cell, (auto, _) in graded.grades[assignment, sub.student].items():
            got = report.scores.loc[sub.student, cell]
            if report.needs_manual.loc[sub.student, cell]:
                assert got != got, (sub.student, cell)  # NaN: waits for a grader
            else:
                assert got == auto, (sub.student, cell, got, auto)
    shares = report.summary()[["full", "partial", "zero", "to grade"]].sum(axis=1)
    assert (shares.round(9) == 1).all()
    fig = plot_score_distribution(report)
    assert len(fig.axes) == 2


def test_regrading_gives_identical_scores(graded):
    assert graded.regrades, "assignment 3 was regraded"
    for key, grades in graded.regrades.items():
        assert grades == graded.grades[key], key
