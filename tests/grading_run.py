"""Grade submissions as an instructor would, with options on nbgrader's command line.

Unlike :func:`tests.harness.autograde`, the course directory keeps ``solutions/`` while
student code runs (as in the repository), and the gradebook may be any database URL:
the sandbox and PostgreSQL tests need both. Probes are code for submissions that
tries something and prints whether it was allowed.
"""

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from reglab.course import ROOT, nbgrader_env
from tests.harness import Result, notebook_name

# Each probe prints ALLOWED or DENIED, with the exception's name when it is denied.
PROBE = '''
def _probe(label, attempt):
    try:
        value = attempt()
    except BaseException as error:
        print(f"DENIED {label}: {type(error).__name__}", flush=True)
    else:
        print(f"ALLOWED {label}: {str(value)[:60]!r}", flush=True)
'''
# How the sandbox says no; anything else (a NameError, say) is a broken probe.
REFUSALS = {"FileNotFoundError", "PermissionError", "OSError", "ConnectionRefusedError",
            "TimeoutError", "gaierror", "OperationalError", "MemoryError", "BlockingIOError"}


def verdicts(text: str) -> dict[str, tuple[str, str]]:
    """{label: (ALLOWED or DENIED, detail)} from the output of probes."""
    return {m[1]: (m[0], m[2]) for m in re.findall(r"^(ALLOWED|DENIED) (.+?): (.*)$", text, re.M)}


def assert_denied(found: dict[str, tuple[str, str]], labels: list[str]) -> None:
    """Every probe in ``labels`` ran and was refused."""
    missing = [label for label in labels if label not in found]
    assert not missing, f"probes did not run: {missing}; got {found}"
    allowed = {k: v for k, v in found.items() if k in labels and v[0] != "DENIED"}
    assert not allowed, f"the sandbox allowed {allowed}"
    odd = {k: v for k, v in found.items() if k in labels and v[1] not in REFUSALS}
    assert not odd, f"probes failed for another reason than a refusal: {odd}"


def grade(assignment: str, submissions: dict[str, nbformat.NotebookNode], course: Path,
          args: Sequence[str] = (), db_url: str | None = None, timeout: float = 900
          ) -> dict[str, Result]:
    """Release ``assignment`` into a new course directory ``course``, autograde every
    submission (student id -> notebook) with extra ``args``; return each one's scores."""
    from nbgrader.api import Gradebook

    course.mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    database = [f"--CourseDirectory.db_url={db_url}"] if db_url else []
    nbgrader = [sys.executable, "-m", "nbgrader"]
    done = subprocess.run(nbgrader + ["generate_assignment", assignment, "--force",
                                      "--log-level=ERROR", *database],
                          cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    assert done.returncode == 0, f"nbgrader generate_assignment failed:\n{done.stderr[-3000:]}"
    for student, nb in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / notebook_name(assignment))
    done = subprocess.run(nbgrader + ["autograde", assignment, "--force", *database, *args],
                          cwd=course, env=nbgrader_env(), capture_output=True, text=True,
                          timeout=timeout)
    results = {}
    with Gradebook(db_url or f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in submissions:
            result = results[student] = Result(log=done.stderr, course=course)
            try:
                graded = gb.find_submission_notebook(assignment, assignment, student)
            except Exception:  # noqa: BLE001 - not graded at all (e.g. its kernel died)
                continue
            result.cells = {g.name: (g.score, g.max_score) for g in graded.grades}
    return results


def outputs(result: Result, assignment: str, student: str) -> str | None:
    """The text outputs of a graded notebook (None when nbgrader kept no notebook)."""
    path = result.course / "autograded" / student / assignment / notebook_name(assignment)
    if not path.exists():
        return None
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") if out.output_type == "stream"
                         else f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "\n".join(texts)
