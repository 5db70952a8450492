"""The book builds offline, with no warnings, into a fresh output folder."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build book/ into a temporary folder (cold: no execution cache is shared)."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [
            str(JUPYTER_BOOK),
            "build",
            str(ROOT / "book"),
            "--path-output",
            str(out),
            "--warningiserror",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    yield out / "_build" / "html"
    shutil.rmtree(out, ignore_errors=True)


@pytest.mark.slow
def test_book_builds_with_an_index_page(built_book):
    assert (built_book / "index.html").is_file()


@pytest.mark.slow
def test_math_is_served_locally(built_book):
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").is_file()
