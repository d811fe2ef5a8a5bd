"""The book: builds with warnings as errors, publishes chapters and exercises, never solutions or hidden tests,
and asks nothing of the network."""

import html
import re

import nbformat
import pytest
from corpus import ASSIGNMENTS, REPO

pytestmark = pytest.mark.slow


def _text(page):
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_every_chapter_and_exercise_is_published(book):
    for chapter in sorted((REPO / "chapters").glob("*.ipynb")):
        assert (book / "chapters" / f"{chapter.stem}.html").exists(), chapter.name
    for assignment in ASSIGNMENTS:
        page = book / "exercises" / assignment / f"{assignment}.html"
        assert page.exists(), assignment
        assert "YOUR CODE HERE" in _text(page)
    assert (book / "glossary.html").exists() and (book / "bibliography.html").exists()


def test_no_solutions_tests_or_grading_files_are_published(book):
    published = {p.relative_to(book).parts[0] for p in book.rglob("*")}
    assert not published & {"solutions", "tests", ".grading", "benchmarks"}
    secret_lines = set()
    for assignment in ASSIGNMENTS:
        notebook = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
        for cell in notebook.cells:
            for marker in ("SOLUTION", "HIDDEN TESTS"):
                for block in re.findall(rf"### BEGIN {marker}\n(.*?)### END {marker}", cell.source, flags=re.S):
                    secret_lines.update(line.strip() for line in block.splitlines() if len(line.strip()) >= 30)
    assert secret_lines
    for page in book.rglob("*.html"):
        text = _text(page)
        leaked = sorted(line for line in secret_lines if line in text)
        assert not leaked, f"{page.relative_to(book)} publishes solution or hidden-test lines: {leaked[:3]}"


def test_pages_load_nothing_from_outside(book):
    outside = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)
    for page in book.rglob("*.html"):
        found = outside.findall(page.read_text(encoding="utf-8"))
        assert not found, f"{page.relative_to(book)} loads {found[:2]} from outside the site"


def test_math_is_rendered_by_a_local_mathjax(book):
    page = (book / "chapters" / "01_cross_correlation.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*src=\"([^\"]*mathjax[^\"]*)\"", page, flags=re.I)
    assert scripts and all(not s.startswith(("http", "//")) for s in scripts)
    assert all((book / "chapters" / s.split("?")[0]).resolve().exists() for s in scripts)


def test_chapters_hide_their_setup_open_with_the_title_and_describe_every_figure():
    for path in sorted((REPO / "chapters").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        setup, title = cells[0], cells[1]
        assert setup.cell_type == "code" and "remove-cell" in setup.metadata.get("tags", []), path.name
        assert "setup_notebook(keras=True)" in setup.source, path.name
        assert title.cell_type == "markdown" and title.source.startswith("# "), f"{path.name}: no title after the setup"
        for index, cell in enumerate(cells):
            pictures = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})
                        and "text/html" not in o["data"]]  # an animation's PNG is its fallback, described in the HTML
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            if pictures:
                # A sentence, not a file name: what the figure shows, for a reader who cannot see it.
                assert len(alt.split()) >= 8 and not re.search(r"\.(png|svg|jpe?g)$", alt), \
                    f"{path.name} cell {index}: figure without a meaningful alt text"
