"""The student distribution: the repository without solutions, tests or secrets."""

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from reglab import markers
from reglab.answers import notebook_text, secret_lines
from reglab.coursedir import Course
from reglab.gradebook import GRADES, WORK, GradingError, say

# What a student gets: the book, the exercises, the helper package and how to set up.
DISTRIBUTED = ("chapters", "exercises", "reglab", "docs", "_static", "binder", "course_config.yml",
               "_toc.yml", "intro.md", "requirements.txt", "requirements-student.txt",
               "pyproject.toml", "Makefile", "tasks.py", "nbgrader_config.py", ".gitignore")
# Files the student repository holds elsewhere than here: its README and website workflow.
PLACED = {"deploy/student-repository/README.md": "README.md",
          "deploy/student-repository/publish.yml": ".github/workflows/publish.yml"}
NEVER_DISTRIBUTED = ("solutions", "tests", "authoring", "_build", "submitted", "autograded",
                     "feedback", GRADES, WORK)


def distribute(course: Course, dest: Path, force: bool = False,
               echo: Callable[[str], None] = say) -> Path:
    """Write the repository of ``course`` as students get it into ``dest``, verified free of
    secrets.

    Copies DISTRIBUTED (no solutions/, tests/, authoring/, _build/, grading state), then
    checks that no notebook has a solution or hidden-test marker and no file holds a line
    of a solution region or hidden test; on a leak nothing is left in ``dest``.
    """
    dest = Path(dest).resolve()
    root = course.root
    if dest == root or root in dest.parents:
        raise GradingError(f"{dest} is inside the repository; pick a folder outside it")
    if dest.exists() and any(dest.iterdir()) and not force:
        raise GradingError(f"{dest} is not empty; pass --force to replace it")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info",
                                  ".DS_Store")
    tmp = Path(tempfile.mkdtemp(prefix=".reglab-dist-", dir=dest.parent))
    try:
        for name in DISTRIBUTED:
            source = root / name
            if source.is_dir():
                shutil.copytree(source, tmp / name, ignore=skip)
            elif source.exists():
                shutil.copy2(source, tmp / name)
        for name, target in PLACED.items():
            (tmp / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, tmp / target)
        problems = _leaks(course, tmp)
        if problems:
            raise GradingError("the distribution would leak; nothing written:\n  "
                               + "\n  ".join(problems[:10]))
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    files = [p for p in dest.rglob("*") if p.is_file()]
    echo(f"==> Wrote {len(files)} files for students into {dest}; no solution, hidden test "
         "or instructor folder in it")
    return dest


def _leaks(course: Course, tree: Path) -> list[str]:
    """Solution or hidden-test content, or instructor folders, found under ``tree``."""
    problems = [f"{p.relative_to(tree)}/ is an instructor folder" for p in tree.rglob("*")
                if p.is_dir() and p.name in NEVER_DISTRIBUTED]
    public = "\n".join(notebook_text(p) for p in course.folder("release").glob("*/*.ipynb"))
    secrets = {line for a in course.assignments() for line in secret_lines(course, a)
               if line not in public}  # a line another release shows is no secret
    for path in (p for p in tree.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".ipynb":
                text += "\n" + notebook_text(path)
        except (UnicodeDecodeError, ValueError):
            continue
        if path.suffix == ".ipynb" and markers.ANY.search(text):
            problems.append(f"{path.relative_to(tree)} has a solution or hidden-test marker")
        problems += [f"{path.relative_to(tree)} holds {line!r}" for line in secrets
                     if line in text]
    return problems
