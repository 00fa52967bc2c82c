"""Grade simulated submissions with the real ``nbgrader autograde``.

A submission is built from the committed release (exercises/): the solution is the
release with every solution cell filled from solutions/; a mutant is the solution
with one wrong function appended to the cell that defines it; an alternative is the
solution with a correct answer in another style appended the same way; a cheat
appends hostile code to an unsolved or wrong submission.
"""

import copy
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from reglab.course import ROOT, nbgrader_env
from reglab.grader import solved_release
from tests.support.common import COURSE

SUBMISSIONS = Path(__file__).parent / "submissions"


def load_cases(assignment: str):
    """The module tests/support/submissions/<assignment>.py (MUTANTS and ALTERNATIVES)."""
    path = SUBMISSIONS / f"{assignment}.py"
    spec = importlib.util.spec_from_file_location(f"cases_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_name(assignment: str) -> str:
    return f"{assignment}.ipynb"


def read(folder: str, assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / folder / assignment / notebook_name(assignment), as_version=4)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solution_submission(assignment: str) -> nbformat.NotebookNode:
    """The release with each solution cell filled as a student who solved it would."""
    return solved_release(COURSE, assignment)


def graded_functions(assignment: str) -> list[str]:
    """The ids of the code solution cells: by convention, the graded function's name."""
    return [c.metadata.nbgrader["grade_id"] for c in read("solutions", assignment).cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def with_code(nb: nbformat.NotebookNode, name: str, code: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with ``code`` appended to the solution cell whose grade_id is ``name``."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if _grade_id(cell) == name and cell.metadata.nbgrader.get("solution"):
            cell.source += "\n\n" + code.strip("\n")
            return nb
    raise KeyError(f"no solution cell {name!r}")


def with_first_code(nb: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with ``code`` appended to its first code solution cell."""
    first = next(_grade_id(c) for c in nb.cells
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"))
    return with_code(nb, first, code)


@dataclass
class Result:
    """Per-cell scores of one autograded submission: {grade_id: (score, max_score)}."""

    cells: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    log: str = ""
    course: Path | None = None
    seconds: float = 0.0  # wall time of the `nbgrader autograde` run that graded it

    def auto(self, prefix: str = "test_") -> tuple[float, float]:
        """Total score and maximum over the autograded test cells whose id starts with prefix."""
        picked = [v for k, v in self.cells.items() if k.startswith(prefix)]
        return sum(s or 0.0 for s, _ in picked), sum(m for _, m in picked)


def autograde(assignment: str, submissions: dict[str, nbformat.NotebookNode], workdir: Path,
              args: Sequence[str] = (), db_url: str | None = None, keep_solutions: bool = False,
              timeout: float = 3000, files: dict[str, dict[str, str]] | None = None
              ) -> dict[str, Result]:
    """Autograde every submission (student id -> notebook) in a fresh course directory.

    By default the course directory holds no solutions/ while student code runs: nbgrader
    reads the instructor's cells from the gradebook, so a submission cannot read them from
    disk. ``keep_solutions`` keeps them (as in the repository, for the sandbox tests);
    ``args`` go on nbgrader's command line; ``db_url`` picks another gradebook database;
    ``files`` adds files beside a student's notebook ({student: {relative path: text}}).
    """
    from nbgrader.api import Gradebook

    course = workdir / f"course-{assignment}"
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    run = [sys.executable, "-m", "nbgrader"]
    database = [f"--CourseDirectory.db_url={db_url}"] if db_url else []
    done = subprocess.run(run + ["generate_assignment", assignment, "--force",
                                 "--log-level=ERROR", *database],
                          cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    assert done.returncode == 0, f"nbgrader generate_assignment failed:\n{done.stderr[-3000:]}"
    if not keep_solutions:
        shutil.rmtree(course / "solutions" / assignment)
        (course / "solutions" / assignment).mkdir()
    for student, nb in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / notebook_name(assignment))
        for relative, text in (files or {}).get(student, {}).items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
    start = time.perf_counter()
    done = subprocess.run(run + ["autograde", assignment, "--force", *database, *args],
                          cwd=course, env=nbgrader_env(), capture_output=True, text=True,
                          timeout=timeout)
    seconds = time.perf_counter() - start
    results = {}
    with Gradebook(db_url or f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in submissions:
            result = results[student] = Result(log=done.stderr, course=course, seconds=seconds)
            try:
                graded = gb.find_submission_notebook(assignment, assignment, student)
            except Exception:  # noqa: BLE001 - not graded at all (e.g. its kernel died)
                continue
            result.cells = {g.name: (g.score, g.max_score) for g in graded.grades}
    return results


def feedback_html(result: Result, assignment: str, student: str) -> str:
    """Run ``nbgrader generate_feedback`` for one graded student; return the HTML."""
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment,
                    "--student", student, "--force", "--log-level=ERROR"], cwd=result.course,
                   env=nbgrader_env(), check=True, capture_output=True)
    page = result.course / "feedback" / student / assignment / f"{assignment}.html"
    return page.read_text()


def grade_visible_in_one_kernel(submissions: dict[str, nbformat.NotebookNode]
                                ) -> dict[str, Result]:
    """Score many submissions as ``nbgrader validate`` does, in one kernel.

    Each notebook runs top to bottom from an empty namespace, its locked cells as the
    release has them: only the visible tests run, in the student's kernel, as when a
    student validates the notebook. Each test cell is scored by nbgrader's own rule
    (``determine_grade``: an error or stderr output scores zero) after nbgrader's
    ``IgnorePattern`` filter.
    """
    return _score_in_one_kernel(submissions)


def _score_in_one_kernel(submissions: dict[str, nbformat.NotebookNode]) -> dict[str, Result]:
    """Run each notebook top to bottom from an empty namespace in one kernel; score its
    test cells by nbgrader's rule after its ``IgnorePattern`` filter."""
    from nbclient import NotebookClient
    from nbgrader.preprocessors import IgnorePattern
    from nbgrader.utils import determine_grade, is_grade, is_solution

    from reglab.nbgrader_ext import TF_LOG_PATTERN

    ignore = IgnorePattern(pattern=TF_LOG_PATTERN, enabled=True)
    reset = nbformat.v4.new_code_cell("get_ipython().run_line_magic('reset', '-f')")
    results = {}
    with tempfile.TemporaryDirectory() as cwd:
        client = NotebookClient(nbformat.v4.new_notebook(), timeout=300, kernel_name="python3",
                                allow_errors=True, resources={"metadata": {"path": cwd}})
        with client.setup_kernel(stderr=subprocess.DEVNULL):
            for name, submission in submissions.items():
                nb = copy.deepcopy(submission)
                client.nb = nb
                client.execute_cell(reset, 0)
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type == "code":
                        client.execute_cell(cell, index)
                nb, _ = ignore.preprocess(nb, {})
                result = Result()
                for cell in nb.cells:
                    if is_grade(cell) and not is_solution(cell) and cell.cell_type == "code":
                        result.cells[_grade_id(cell)] = determine_grade(cell)
                results[name] = result
    return results
