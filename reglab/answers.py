"""What students must never see: the lines of an assignment's solutions and hidden tests."""

from pathlib import Path

import nbformat

from reglab import markers
from reglab.coursedir import Course
from reglab.nbgrader_ext import squeezed


def notebook_text(path: Path) -> str:
    """The source of every cell of a notebook, as a reader sees it (not JSON-escaped)."""
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)


def secret_lines(course: Course, assignment: str, min_length: int = 30,
                 regions: tuple[str, ...] = ("SOLUTION", "HIDDEN TESTS")) -> set[str]:
    """Distinctive lines of an assignment's solutions and hidden tests that its release lacks
    (in ``course``: its source and release folders)."""
    nb = nbformat.read(course.notebook("source", assignment), as_version=4)
    release = notebook_text(course.notebook("release", assignment))
    lines = set()
    for cell in nb.cells:
        for kind, body in markers.REGION.findall(cell.source + "\n"):
            for line in body.splitlines():
                line = line.strip()
                if kind in regions and len(line) >= min_length and line not in release:
                    lines.add(line)
    return lines


def hidden_test_lines(course: Course, assignment: str, min_length: int = 30) -> set[str]:
    """The lines of the hidden tests of ``assignment`` that feedback must not quote: those
    its release does not show, even with spaces and punctuation ignored (:func:`quoted`)."""
    release = squeezed(notebook_text(course.notebook("release", assignment)))
    return {line for line in secret_lines(course, assignment, min_length, ("HIDDEN TESTS",))
            if squeezed(line) not in release}


def solved_release(course: Course, assignment: str) -> nbformat.NotebookNode:
    """The release with each solution cell filled from the source, as a student who solved
    it would fill it."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(course.notebook("source", assignment), 4).cells
               if "nbgrader" in c.metadata}
    nb = nbformat.read(course.notebook("release", assignment), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = answers[meta["grade_id"]].splitlines()
            cell.source = "\n".join(line for line in lines if not markers.SOLUTION_LINE.match(line))
    return nb
