"""The website: builds with -W, every chapter executed cleanly, nothing secret inside."""

import re

import nbformat
import pytest

from reglab.course import ROOT
from tests.common import ASSIGNMENTS, HTML, chapters, secret_lines

# `book` (tests/conftest.py) builds the site once for this module and tests/test_browser.py.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("book")]


def test_book_builds_without_warnings(book):
    assert book.returncode == 0, (book.stdout + book.stderr)[-6000:]


@pytest.mark.parametrize("chapter", chapters(), ids=lambda p: p.stem)
def test_chapter_executed_without_errors_or_stderr(book, chapter):
    executed = ROOT / "_build" / "jupyter_execute" / "chapters" / chapter.name
    assert executed.exists(), f"{chapter.name} was not executed by the build"
    nb = nbformat.read(executed, as_version=4)
    shown = [c for c in nb.cells if c.cell_type == "code" and c.outputs]
    assert shown, f"{chapter.name} has no outputs in {executed.relative_to(ROOT)}"
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{chapter.name}: {out.get('evalue')}"
            assert out.get("name") != "stderr", f"{chapter.name} wrote to stderr: {out.text[:300]}"
    assert (HTML / "chapters" / f"{chapter.stem}.html").exists()
    assert (HTML / "_sources" / "chapters" / chapter.name).exists(), "no .ipynb download"


def test_solutions_exercises_and_tests_are_not_in_the_site(book):
    for folder in ("solutions", "exercises", "tests"):
        assert not (HTML / folder).exists(), f"{folder}/ was rendered into the site"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_or_hidden_test_in_the_site(book, assignment):
    secrets = secret_lines(assignment)
    for path in HTML.rglob("*"):
        if path.suffix in {".html", ".ipynb", ".txt", ".js", ".md"} and path.is_file():
            text = path.read_text(errors="ignore")
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{path.relative_to(HTML)} contains {leaked[:2]}"


def test_controls_are_self_contained(book):
    """Each chapter page has its slider, and no page loads scripts or styles from a CDN."""
    for chapter in chapters():
        page = (HTML / "chapters" / f"{chapter.stem}.html").read_text()
        assert "reglab-explorer" in page, f"{chapter.stem}: no explorer control"
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is not bundled"
    for path in HTML.rglob("*.html"):
        page = path.read_text()
        external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', page)
        assert not external, f"{path.relative_to(HTML)} loads from the network: {external}"
