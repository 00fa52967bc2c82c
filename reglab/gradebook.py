"""The course directory as nbgrader sees it: its configuration, gradebook and students."""

import hashlib
import re
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config

from reglab.course import nbgrader_env
from reglab.nbgrader_ext import STUDENT_ID

GRADES = "grades"  # what the instructor reads: grades.csv and the report figures
WORK = "grading"  # grading's own state: logs, outcomes
DB_BUSY_SECONDS = 120  # how long a worker waits for the SQLite gradebook to be free


def say(line: str) -> None:
    """Print a line of progress at once, even into a pipe."""
    print(line, flush=True)


class GradingError(Exception):
    """An instructor-side problem (unknown assignment, nbgrader failing, ...): exit non-zero."""


def known_assignments(course: Path) -> list[str]:
    """The assignments of a course directory: the folders of its source folder (solutions/)."""
    source = course / nbgrader_config(course).CourseDirectory.get("source_directory", "source")
    return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


def check_assignment(course: Path, assignment: str) -> None:
    known = known_assignments(course)
    if assignment not in known:
        raise GradingError(f"unknown assignment {assignment!r} in {course}; known: "
                           + (", ".join(known) or "none (no solutions/ folder)"))


def nbgrader_config(course: Path) -> Config:
    """The nbgrader configuration of ``course`` as nbgrader resolves it when run there:
    nbgrader_config.py (or .json) of each Jupyter config folder (the system's, the
    environment's, then the user's ~/.jupyter, each over the one before), then the
    course's own nbgrader_config.py over them all."""
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path
    from traitlets.config.loader import ConfigFileNotFound, JSONFileConfigLoader
    from traitlets.config.loader import PyFileConfigLoader as PyLoader

    if not (course / "nbgrader_config.py").exists():
        raise GradingError(f"{course} is not a course directory: it has no nbgrader_config.py")
    folders = jupyter_config_path()
    if jupyter_config_dir() not in folders:
        folders.insert(0, jupyter_config_dir())
    config = Config()
    for folder in [*reversed(folders), str(course)]:
        for loader, name in ((PyLoader, "nbgrader_config.py"),
                             (JSONFileConfigLoader, "nbgrader_config.json")):
            try:
                config.merge(loader(name, path=folder).load_config())
            except ConfigFileNotFound:
                continue
    return config


def course_config(course: Path) -> tuple[str, str]:
    """(course id, gradebook URL) as nbgrader sees them in ``course`` (:func:`nbgrader_config`)."""
    directory = nbgrader_config(course).CourseDirectory
    root = Path(directory.get("root") or course).resolve()
    if root != course.resolve():
        raise GradingError(f"the nbgrader configuration sets CourseDirectory.root = {root}, "
                           f"not this course directory ({course}): grade from {root}, or "
                           "remove that setting")
    course_id = directory.get("course_id", "default_course")
    return course_id, directory.get("db_url") or f"sqlite:///{root / 'gradebook.db'}"


def busy_url(db_url: str) -> str:
    """The gradebook URL for concurrent writers: SQLite waits instead of failing when locked."""
    if db_url.startswith("sqlite:") and "timeout=" not in db_url:
        return db_url + ("&" if "?" in db_url else "?") + f"timeout={DB_BUSY_SECONDS}"
    return db_url


@contextmanager
def open_gradebook(course: Path) -> Iterator:
    """nbgrader's Gradebook of ``course``, quiet about nbgrader's own SQLAlchemy warnings."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    course_id, db_url = course_config(course)
    with warnings.catch_warnings(), Gradebook(busy_url(db_url), course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)
        yield gb


def run_nbgrader(course: Path, args: list[str], what: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          env=nbgrader_env(), capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise GradingError(f"{what} failed (nbgrader {' '.join(args[:2])}):\n{tail}")
    return done


def safe_id(student: str) -> bool:
    """Whether ``student`` is an id the grader accepts: STUDENT_ID, so no path, glob
    (nbgrader reads ``--student *`` as every student), option, space or line break."""
    return re.fullmatch(STUDENT_ID, student) is not None


def shown(student: str) -> str:
    """A student id as printed: as it is when safe, else quoted with its escapes."""
    return student if safe_id(student) else repr(student)


def unsafe_folders(course: Path) -> list[str]:
    """Folders of submitted/ whose name is no safe student id (:func:`safe_id`)."""
    submitted = course / "submitted"
    return sorted(p.name for p in submitted.iterdir() if not p.name.startswith(".")
                  and not safe_id(p.name)) if submitted.is_dir() else []


def students_with_submissions(course: Path, assignment: str) -> list[str]:
    """Students with a folder for ``assignment``, or a stray notebook outside other
    assignments; only folders named by a safe student id (:func:`safe_id`)."""
    submitted = course / "submitted"
    if not submitted.is_dir():
        return []
    others = set(known_assignments(course)) - {assignment}
    found = []
    for home in sorted(p for p in submitted.iterdir() if p.is_dir() and safe_id(p.name)):
        stray = any(p.relative_to(home).parts[0] not in others for p in home.rglob("*.ipynb"))
        if (home / assignment).is_dir() or stray:
            found.append(home.name)
    return found


def prepare_gradebook(course: Path, assignment: str, students: list[str]) -> None:
    """Put the assignment (from solutions/) and every student's submission in the gradebook.

    Done once before the workers start, so that they only write grades. The assignment
    is regenerated (``nbgrader generate_assignment`` into a scratch folder) when its
    source changed since the last time, or the gradebook lacks it.
    """
    source = course / "solutions" / assignment
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    stamp = course / WORK / assignment / "source.sha256"
    with open_gradebook(course) as gb:
        known = assignment in {a.name for a in gb.assignments}
    if not (known and stamp.exists() and stamp.read_text() == digest.hexdigest()):
        with tempfile.TemporaryDirectory(prefix="reglab-release-") as tmp:
            run_nbgrader(course, ["generate_assignment", assignment, "--force",
                               "--log-level=ERROR", f"--CourseDirectory.release_directory={tmp}"],
                      f"putting {assignment} in the gradebook")
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest.hexdigest())
    with open_gradebook(course) as gb:
        for student in students:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student)
