"""The assignment notebooks: nbgrader format, stated points, and an up-to-date release.

The fast tests read the notebooks; ``test_release_is_up_to_date`` regenerates the
release with nbgrader into a temporary course and compares it with exercises/.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from tests.grading_pipeline.course import (
    ASSIGNMENTS,
    ROOT,
    Course,
    nbgrader_cell,
    release_notebook,
    source_notebook,
)

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def regions(source: str, begin: str, end: str) -> list[str]:
    """Lines strictly inside begin/end marker lines."""
    lines, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def test_one_notebook_per_assignment():
    assert ASSIGNMENTS == [
        "01_activations_losses",
        "02_backprop",
        "03_convolution",
        "04_backward_passes",
        "05_lenet_own_ops",
        "06_architecture_blocks",
        "07_batchnorm_residual",
        "08_unet_segmentation",
    ]
    for a in ASSIGNMENTS:
        assert [p.name for p in (ROOT / "solutions" / a).iterdir()] == [f"{a}.ipynb"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_format(assignment):
    nb = nbformat.read(source_notebook(assignment), 4)
    nbformat.validate(nb)
    ids = [nbgrader_cell(c)["grade_id"] for c in nb.cells if nbgrader_cell(c)]
    assert len(ids) == len(set(ids)), "grade ids are unique"
    for cell in nb.cells:
        meta = nbgrader_cell(cell)
        assert not cell.get("outputs") and not cell.get("execution_count"), "no outputs"
        assert not cell.get("attachments")
        if not meta:
            assert not any(m in cell.source for m in MARKERS), cell.source[:80]
            continue
        assert meta["schema_version"] == 3
        if meta.get("solution"):
            assert (
                "### BEGIN SOLUTION" in cell.source
                and "### END SOLUTION" in cell.source
            )
        if meta.get("grade") and cell.cell_type == "code":
            # a test cell: locked, its points on its first line
            assert meta["locked"] and not meta["solution"]
            points = int(meta["points"])
            unit = "point" if points == 1 else "points"
            assert f"({points} {unit}" in cell.source.split("\n")[0], cell.source[:120]
        if "BEGIN HIDDEN TESTS" in cell.source:
            assert meta.get("grade") and "### END HIDDEN TESTS" in cell.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_stated_in_the_text_add_up(assignment):
    """The "## Part k: ... (N points)" headings and the total match the cells."""
    nb = nbformat.read(source_notebook(assignment), 4)
    parts: list[list[int]] = []  # [stated, counted]
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not nbgrader_cell(cell):
            m = re.search(r"^## Part \d+: .*\((\d+) points", cell.source, re.M)
            if m:
                parts.append([int(m.group(1)), 0])
        if nbgrader_cell(cell).get("grade"):
            assert parts, "graded cells come after a part heading"
            parts[-1][1] += int(nbgrader_cell(cell)["points"])
    assert parts and all(stated == counted for stated, counted in parts), parts
    total = int(
        re.search(r"\*\*total\*\* \| \*\*(\d+)\*\*", nb.cells[0].source).group(1)
    )
    assert total == sum(counted for _, counted in parts)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_links_to_the_book_resolve(assignment):
    path = source_notebook(assignment)
    text = "\n".join(c.source for c in nbformat.read(path, 4).cells)
    links = re.findall(r"\]\((\.\./[^)#]+)", text)
    assert links, "each assignment links the chapters it practises"
    for link in links:
        assert (path.parent / link).resolve().exists(), link


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(assignment):
    source = nbformat.read(source_notebook(assignment), 4)
    release = nbformat.read(release_notebook(assignment), 4)
    text = "\n".join(c.source for c in release.cells)
    for marker in MARKERS:
        assert marker not in text
    for cell in release.cells:
        assert not cell.get("outputs") and not cell.get("execution_count"), "no outputs"
        assert not cell.get("attachments"), "no attachments"
    visible = {line.strip() for line in text.split("\n")}
    for cell in source.cells:
        secret = regions(cell.source, "BEGIN SOLUTION", "END SOLUTION")
        secret += regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        # lines that only the solution or a hidden test has (a bare "return out" may
        # also be written in a visible cell, so compare meaningful lines only)
        for line in secret:
            s = line.strip()
            if (
                len(s) > 12
                and not s.startswith("#")
                and s not in _visible_source(source)
            ):
                assert s not in visible, f"{assignment}: {s!r} is in the release"


def _visible_source(nb) -> set[str]:
    """Lines of the source notebook outside solution and hidden-test regions."""
    lines = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if any(m in line for m in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS")):
                inside = True
            elif any(m in line for m in ("END SOLUTION", "END HIDDEN TESTS")):
                inside = False
            elif not inside:
                lines.add(line.strip())
    return lines


@pytest.mark.slow
def test_release_is_up_to_date(tmp_path):
    """exercises/ is exactly what `make release` generates from solutions/ now."""
    course = Course(tmp_path / "course")
    stale = []
    for assignment, path in course.generate_all().items():
        fresh = json.loads(path.read_text())
        committed = json.loads(release_notebook(assignment).read_text())
        if fresh != committed:
            stale.append(assignment)
    assert not stale, f"exercises/ is stale for {stale}: run `make release`"
