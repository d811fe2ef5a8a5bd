"""The book's home page is for students, and launch buttons appear only for a configured deployment: without
one (the repository's _config.yml), no launch button, no thebe and no placeholder address is in the book."""

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from corpus import REPO

pytestmark = pytest.mark.slow

PLACEHOLDERS = re.compile(r"hub\.example\.org|mybinder|colab\.research|github\.com/convolutions-by-hand|"
                          r"github\.com/executablebooks/jupyter-book|unpkg\.com|thebe", re.I)


def _text(page):
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_no_launch_button_thebe_or_placeholder_without_a_deployment(book):
    for page in book.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        found = PLACEHOLDERS.findall(text)
        assert not found, f"{page.relative_to(book)} mentions {sorted(set(found))}"
        assert "launch-buttons" not in text, page.relative_to(book)
    # The theme's own script knows of thebe (dormant); sphinx-thebe's files must not be there at all.
    assert not [p.name for p in (book / "_static").rglob("*thebe*")]


def test_home_page_is_for_students(book):
    index = (book / "index.html").read_text(encoding="utf-8")
    assert "intro.html" in index
    home = book / "intro.html"
    text = _text(home)
    for needed in ("Get the student kit", "What you need to know first", "functional API", "Chapter 03",
                   "Do an exercise", "Submit", "original name", "Assignment List", "What feedback looks like"):
        assert needed in text, needed
    assert re.search(r'<a href="student-kit.zip"', home.read_text(encoding="utf-8"))
    for instructor in ("make test", "make release", "autograde", "127.0.0.1", "nbgrader_config", "pytest"):
        assert instructor not in text, f"the home page shows instructor material: {instructor!r}"
    assert not (book / "README.html").exists()


def test_a_configured_hub_gives_a_working_launch_button(tmp_path):
    # A one-exercise book with a deployment's addresses: the JupyterHub button opens the exercise there.
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["repository"]["url"] = "https://github.com/some-university/convolutions-course"
    config["launch_buttons"]["jupyterhub_url"] = "https://hub.some-university.edu"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                       "  - file: exercises/01_cross_correlation/01_cross_correlation\n")
    for name in ("intro.md", "references.bib"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "exercises" / "01_cross_correlation", tmp_path / "exercises" / "01_cross_correlation")
    completed = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(tmp_path), "--quiet"],
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    page = (tmp_path / "_build" / "html" / "exercises" / "01_cross_correlation" / "01_cross_correlation.html")
    links = re.findall(r'href="([^"]*hub\.some-university\.edu[^"]*)"', page.read_text(encoding="utf-8"))
    assert links and all("some-university/convolutions-course" in html.unescape(link) for link in links), links
    assert "thebe" not in page.read_text(encoding="utf-8").lower()
