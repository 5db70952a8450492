"""The book builds offline with no warnings, and every page is what a reader needs.

The book is built once per test session, cold, into a temporary folder. The checks
read the built HTML: every page of the table of contents exists, no executed cell
shows an error, each chapter has a figure and exercises with collapsible answers,
internal links resolve, and math is typeset by the MathJax copy inside the site.
"""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")

pytestmark = pytest.mark.slow


def toc_files() -> list[str]:
    """Every page named in _toc.yml, without extension, root first."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


def chapter_files() -> list[str]:
    """Chapters proper (notebooks under chapters/); intro and appendices excluded."""
    return [f for f in toc_files() if f.startswith("chapters/")]


class _Page(HTMLParser):
    """Collects links, images, script sources and error outputs of one page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []
        self.scripts: list[str] = []
        self.classes: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        self.classes.extend((attrs.get("class") or "").split())
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="session")
def html(tmp_path_factory) -> Path:
    """Build book/ cold into a temporary folder and return its html/ directory."""
    out = tmp_path_factory.mktemp("book")
    command = [
        str(JUPYTER_BOOK), "build", str(BOOK), "--path-output", str(out),
        "--warningiserror", "--keep-going",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=2400)
    log = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, f"book build failed:\n{log}"
    # Sphinx prints "file:line: WARNING: message"; kernel log lines ("WARNING |")
    # are not about the book and are ignored.
    output = result.stdout + result.stderr
    sphinx_warnings = re.findall(r"^.*WARNING: .*$", output, re.M)
    assert not sphinx_warnings, "\n".join(sphinx_warnings)
    yield out / "_build" / "html"
    shutil.rmtree(out, ignore_errors=True)


def test_every_toc_page_is_built(html):
    missing = [f for f in toc_files() if not (html / f"{f}.html").is_file()]
    assert not missing, f"pages in _toc.yml missing from the HTML: {missing}"


def test_sources_carry_no_outputs():
    import json

    dirty = []
    for notebook in BOOK.rglob("*.ipynb"):
        if "_build" in notebook.parts:
            continue
        cells = json.loads(notebook.read_text())["cells"]
        if any(c.get("outputs") for c in cells if c["cell_type"] == "code"):
            dirty.append(str(notebook.relative_to(ROOT)))
    assert not dirty, f"notebook sources with outputs: {dirty}"


def test_no_cell_shows_an_error_or_stderr(html):
    bad = []
    for f in toc_files():
        classes = set(parse(html / f"{f}.html").classes)
        if classes & {"traceback", "stderr"}:
            bad.append(f)
    assert not bad, f"pages with an error output or stderr text: {bad}"


def test_every_figure_renders_as_an_image(html):
    """A Figure shown as text ("<Figure size 640x480 with 1 Axes>") was not drawn."""
    bad = [f for f in toc_files() if "Figure size" in (html / f"{f}.html").read_text()]
    assert not bad, f"pages where a figure printed as text instead of an image: {bad}"


@pytest.mark.parametrize("page", chapter_files())
def test_chapter_has_a_figure_and_exercises(html, page):
    parsed = parse(html / f"{page}.html")
    figures = [
        src for src in parsed.images if "_images/" in src or src.startswith("data:")
    ]
    assert figures, f"{page}: no figure"
    assert any(i.startswith("exercises") for i in parsed.ids), (
        f"{page}: no Exercises section"
    )
    assert "dropdown" in parsed.classes or "toggle" in parsed.classes, (
        f"{page}: answers are not in collapsible blocks"
    )


def test_internal_links_resolve(html):
    broken = []
    for page in html.rglob("*.html"):
        if "_static" in page.parts:
            continue
        for link in parse(page).links:
            url = urlparse(link)
            if url.scheme or link.startswith(("mailto:", "#", "javascript:")):
                continue
            target = (page.parent / unquote(url.path)).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(html)} -> {link}")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:20])


def test_math_needs_no_cdn(html):
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    for page in html.rglob("*.html"):
        for src in parse(page).scripts:
            assert not ("mathjax" in src.lower() and urlparse(src).scheme), (
                f"{page.relative_to(html)} loads MathJax from {src}"
            )
