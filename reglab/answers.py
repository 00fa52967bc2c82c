"""What students must never see: the lines of an assignment's solutions and hidden tests."""

from pathlib import Path

import nbformat

from reglab import markers
from reglab.course import ROOT
from reglab.nbgrader_ext import squeezed


def notebook_text(path: Path) -> str:
    """The source of every cell of a notebook, as a reader sees it (not JSON-escaped)."""
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)


def secret_lines(assignment: str, min_length: int = 30,
                 regions: tuple[str, ...] = ("SOLUTION", "HIDDEN TESTS"),
                 course: Path = ROOT) -> set[str]:
    """Distinctive lines of an assignment's solutions and hidden tests that the release lacks
    (in ``course``: its solutions/ and exercises/)."""
    source = course / "solutions" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(source, as_version=4)
    release = notebook_text(course / "exercises" / assignment / f"{assignment}.ipynb")
    lines = set()
    for cell in nb.cells:
        for kind, body in markers.REGION.findall(cell.source + "\n"):
            for line in body.splitlines():
                line = line.strip()
                if kind in regions and len(line) >= min_length and line not in release:
                    lines.add(line)
    return lines


def hidden_test_lines(assignment: str, min_length: int = 30, course: Path = ROOT) -> set[str]:
    """The lines of the hidden tests of ``assignment`` that feedback must not quote: those
    its release does not show, even with spaces and punctuation ignored (:func:`quoted`)."""
    release = squeezed(notebook_text(course / "exercises" / assignment / f"{assignment}.ipynb"))
    return {line for line in secret_lines(assignment, min_length, ("HIDDEN TESTS",), course)
            if squeezed(line) not in release}


def solved_release(assignment: str) -> nbformat.NotebookNode:
    """The release with each solution cell filled from solutions/, as a student who solved it."""
    def cells(folder: str) -> list:
        return nbformat.read(ROOT / folder / assignment / f"{assignment}.ipynb", 4).cells

    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in cells("solutions")
               if "nbgrader" in c.metadata}
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = answers[meta["grade_id"]].splitlines()
            cell.source = "\n".join(line for line in lines if not markers.SOLUTION_LINE.match(line))
    return nb
