"""A simulated class, for the benchmark and the tests of the grader."""

import shutil
from pathlib import Path

import nbformat

from reglab.answers import solved_release
from reglab.coursedir import Course
from reglab.gradebook import GradingError


def simulate_class(source: Course, assignment: str, n: int, course_dir: Path) -> None:
    """Lay out a fresh course directory with ``n`` simulated submissions of ``assignment``
    of the ``source`` course (its source and release folders and configuration).

    Three in four are the solution, one in four the untouched release, in
    submitted/studentNNN/. Grade it with ``grade(assignment, course_dir, workers=1,
    sandbox=False)`` (one at a time) or ``workers=None`` (one worker per CPU).
    """
    course = Path(course_dir)
    if course.exists() and any(course.iterdir()):
        raise GradingError(f"{course} is not empty: simulate_class needs a fresh directory")
    for kind in ("source", "release"):
        folder = source.folder(kind).relative_to(source.root)
        shutil.copytree(source.folder(kind) / assignment, course / folder / assignment)
    shutil.copy(source.root / "nbgrader_config.py", course)
    solved = solved_release(source, assignment)
    release = nbformat.read(source.notebook("release", assignment), 4)
    for i in range(n):
        folder = course / "submitted" / f"student{i:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(release if i % 4 == 3 else solved, folder / f"{assignment}.ipynb")
