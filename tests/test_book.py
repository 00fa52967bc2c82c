"""The website: builds with -W, every chapter executed cleanly, nothing secret inside."""

import re
import subprocess
import sys
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from reglab import bootstrap
from reglab.course import ROOT
from tests.support.common import ASSIGNMENTS, COURSE, HTML, chapters, secret_lines

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
    secrets = secret_lines(COURSE, assignment)
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
        external = re.findall(r'<(?:script|link)(?![^>]*rel="canonical")[^>]+(?:src|href)='
                              r'"((?:https?:)?//[^"]+)"', page)  # a canonical URL loads nothing
        assert not external, f"{path.relative_to(HTML)} loads from the network: {external}"


def _repository_paths(href: str, slug: str, branch: str) -> list[str] | None:
    """The repository paths a link of the site opens, or None when it is no repository link."""
    url = urlparse(unquote(href))
    tail = f"/{slug}/blob/{branch}/"
    if url.netloc == "github.com" and url.path.strip("/") == slug:
        return []
    if url.netloc in ("github.com", "colab.research.google.com") and tail in url.path:
        return [url.path.split(tail, 1)[1]]
    if url.netloc == "mybinder.org" and f"/v2/gh/{slug}/" in url.path:
        return [q.split("/tree/", 1)[1] for q in url.query.split("&") if "/tree/" in q]
    if slug in href:
        raise AssertionError(f"a link to the repository in an unknown form: {href}")
    return None


def test_every_repository_link_opens_the_student_distribution(book, tmp_path):
    """The repository button, launch buttons and assignment links open what students get."""
    dist = tmp_path / "students"
    done = subprocess.run([sys.executable, "-m", "reglab.grader", "distribute", str(dist)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    url, branch = bootstrap.repository()
    slug = urlparse(url).path.strip("/")
    opened = {}
    for page in HTML.rglob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text()):
            paths = _repository_paths(href, slug, branch)
            if paths is not None:
                opened.setdefault(href, (page.relative_to(HTML), paths))
    assert any(not paths for _, paths in opened.values()), f"no link to {url} on the site"
    assert any(p.startswith("exercises/") for _, ps in opened.values() for p in ps), \
        "no chapter links its assignment"
    for href, (page, paths) in opened.items():
        for path in paths:
            assert path.split("/")[0] not in ("solutions", "tests"), f"{page} links {href}"
            assert (dist / path).is_file(), \
                f"{page} links {href}, but the student repository has no {path}"
