"""A simulated class, for the benchmark and the tests of the grader."""

import shutil
from pathlib import Path

import nbformat

from reglab.answers import solved_release
from reglab.course import ROOT
from reglab.gradebook import GradingError


def simulate_class(assignment: str, n: int, course_dir: Path) -> None:
    """Lay out a fresh course directory with ``n`` simulated submissions of ``assignment``.

    Three in four are the solution, one in four the untouched release, in
    submitted/studentNNN/. Grade it with ``grade(assignment, course_dir, workers=1,
    sandbox=False)`` (one at a time) or ``workers=None`` (one worker per CPU).
    """
    course = Path(course_dir)
    if course.exists() and any(course.iterdir()):
        raise GradingError(f"{course} is not empty: simulate_class needs a fresh directory")
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / assignment, course / folder / assignment)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    solved = solved_release(assignment)
    release = nbformat.read(course / "exercises" / assignment / f"{assignment}.ipynb", 4)
    for i in range(n):
        folder = course / "submitted" / f"student{i:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(release if i % 4 == 3 else solved, folder / f"{assignment}.ipynb")
