"""Grading for instructors: collect, autograde in parallel, feedback, export, report, distribute.

    python -m reglab.grader collect-zip ASSIGNMENT ZIP
    python -m reglab.grader grade ASSIGNMENT [--workers N] [--timeout S] [--no-sandbox] ...
    python -m reglab.grader feedback ASSIGNMENT
    python -m reglab.grader export [--to CSV]
    python -m reglab.grader report ASSIGNMENT
    python -m reglab.grader distribute DEST [--force]

``grade`` repairs what it safely can in each submission (preflight), then runs one
``nbgrader autograde ASSIGNMENT --student S --force`` per student in a pool of workers,
each kernel in the grading sandbox (reglab/sandbox.py) unless ``--no-sandbox``.
All but ``distribute`` take ``--course-dir`` (default: this repository). Outputs: grades/
(CSV and figures), grading/ (logs, the originals of repaired notebooks, the last
outcome of each student). docs/instructors.md explains the whole workflow.
"""

import argparse
import copy
import hashlib
import html
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from traitlets.config import Config

from reglab import collect
from reglab.course import KERNELSPEC, ROOT, nbgrader_env
from reglab.nbgrader_ext import STUDENT_ID, quoted, squeezed

GRADES = "grades"  # what the instructor reads: grades.csv and the report figures
WORK = "grading"  # grading's own state: logs, originals of repaired notebooks, outcomes
MAX_OUTPUT_BYTES = 1_000_000  # stored outputs above this are cleared before grading
DB_BUSY_SECONDS = 120  # how long a worker waits for the SQLite gradebook to be free
DEFAULT_SUBMISSION_TIMEOUT = 1800
SANDBOX_DOWN = "the grading sandbox could not start"  # an instructor-side failure
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
# What a student gets: the book, the exercises, the helper package and how to set up.
DISTRIBUTED = ("chapters", "exercises", "reglab", "docs", "_static", "binder", "_config.yml",
               "_toc.yml", "intro.md", "requirements.txt", "requirements-student.txt",
               "pyproject.toml", "Makefile", "tasks.py", "nbgrader_config.py", ".gitignore")
# Files the student repository holds elsewhere than here: its README and website workflow.
PLACED = {"deploy/student-repository/README.md": "README.md",
          "deploy/student-repository/publish.yml": ".github/workflows/publish.yml"}
NEVER_DISTRIBUTED = ("solutions", "tests", "authoring", "_build", "submitted", "autograded",
                     "feedback", GRADES, WORK)


def say(line: str) -> None:
    """Print a line of progress at once, even into a pipe."""
    print(line, flush=True)


class GradingError(Exception):
    """An instructor-side problem (unknown assignment, nbgrader failing, ...): exit non-zero."""


# --- course facts ---------------------------------------------------------------------------

def known_assignments(course: Path) -> list[str]:
    """The assignments of a course directory: the folders of its solutions/."""
    source = course / "solutions"
    return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


def _check_assignment(course: Path, assignment: str) -> None:
    known = known_assignments(course)
    if assignment not in known:
        raise GradingError(f"unknown assignment {assignment!r} in {course}; known: "
                           + (", ".join(known) or "none (no solutions/ folder)"))


def notebook_text(path: Path) -> str:
    """The source of every cell of a notebook, as a reader sees it (not JSON-escaped)."""
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)


def secret_lines(assignment: str, min_length: int = 30,
                 regions: tuple[str, ...] = ("SOLUTION", "HIDDEN TESTS")) -> set[str]:
    """Distinctive lines of an assignment's solutions and hidden tests that the release lacks."""
    source = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(source, as_version=4)
    release = notebook_text(ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    lines = set()
    for cell in nb.cells:
        for kind, body in REGION.findall(cell.source + "\n"):
            for line in body.splitlines():
                line = line.strip()
                if kind in regions and len(line) >= min_length and line not in release:
                    lines.add(line)
    return lines


def hidden_test_lines(assignment: str, min_length: int = 30) -> set[str]:
    """The lines of the hidden tests of ``assignment`` that feedback must not quote: those
    its release does not show, even with spaces and punctuation ignored (:func:`quoted`)."""
    release = squeezed(notebook_text(ROOT / "exercises" / assignment / f"{assignment}.ipynb"))
    return {line for line in secret_lines(assignment, min_length, ("HIDDEN TESTS",))
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
            cell.source = "\n".join(line for line in lines if not MARKER.match(line))
    return nb


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


def _config(course: Path) -> tuple[str, str]:
    """(course id, gradebook URL) as nbgrader sees them in ``course`` (:func:`nbgrader_config`)."""
    directory = nbgrader_config(course).CourseDirectory
    root = Path(directory.get("root") or course).resolve()
    if root != course.resolve():
        raise GradingError(f"the nbgrader configuration sets CourseDirectory.root = {root}, "
                           f"not this course directory ({course}): grade from {root}, or "
                           "remove that setting")
    course_id = directory.get("course_id", "default_course")
    return course_id, directory.get("db_url") or f"sqlite:///{root / 'gradebook.db'}"


def _busy_url(db_url: str) -> str:
    """The gradebook URL for concurrent writers: SQLite waits instead of failing when locked."""
    if db_url.startswith("sqlite:") and "timeout=" not in db_url:
        return db_url + ("&" if "?" in db_url else "?") + f"timeout={DB_BUSY_SECONDS}"
    return db_url


@contextmanager
def open_gradebook(course: Path) -> Iterator:
    """nbgrader's Gradebook of ``course``, quiet about nbgrader's own SQLAlchemy warnings."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    course_id, db_url = _config(course)
    with warnings.catch_warnings(), Gradebook(_busy_url(db_url), course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)
        yield gb


def _nbgrader(course: Path, args: list[str], what: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          env=nbgrader_env(), capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise GradingError(f"{what} failed (nbgrader {' '.join(args[:2])}):\n{tail}")
    return done


# --- preflight: find the notebook and repair what is safe to repair --------------------------

class BadSubmission(Exception):
    """A submission that cannot be graded at all (scored 0 and reported)."""


def safe_id(student: str) -> bool:
    """Whether ``student`` is an id the grader accepts: STUDENT_ID, so no path, glob
    (nbgrader reads ``--student *`` as every student), option, space or line break."""
    return re.fullmatch(STUDENT_ID, student) is not None


def shown(student: str) -> str:
    """A student id as printed: as it is when safe, else quoted with its escapes."""
    return student if safe_id(student) else repr(student)


def _special_files(home: Path) -> list[str]:
    """Links and files that are neither regular files nor folders under ``home`` (or
    ``home`` itself), found with ``lstat``: nbgrader would follow or block on them."""
    found = [home] if home.is_symlink() else []
    for root, dirs, files in os.walk(home):  # os.walk follows no link
        for name in dirs + files:
            path = Path(root, name)
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(path)
    return [f"{p.relative_to(home.parent)} -> {os.readlink(p)}" if p.is_symlink()
            else f"{p.relative_to(home.parent)} (not a regular file)" for p in found]


def _backup(course: Path, assignment: str, student: str, path: Path, stamp: str) -> None:
    """Keep the student's file as submitted, once per grading run, under grading/originals/."""
    home = course / "submitted" / student
    target = course / WORK / assignment / "originals" / student / stamp / path.relative_to(home)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def locate_notebook(course: Path, assignment: str, student: str) -> tuple[Path | None, list[str]]:
    """Find a student's notebook and move it to submitted/STUDENT/A/A.ipynb if it is elsewhere.

    A notebook with another name, or in another folder of the student's (not one of another
    assignment), is taken when it is the only candidate or the only one named A.ipynb.
    Returns the path (None when there is nothing to grade) and what was done.
    """
    home = course / "submitted" / student
    target = home / assignment / f"{assignment}.ipynb"
    if target.exists():
        return target, []
    others = set(known_assignments(course)) - {assignment}
    found = sorted(p for p in home.rglob("*.ipynb")
                   if not any(part.startswith(".") for part in p.relative_to(home).parts)
                   and p.relative_to(home).parts[0] not in others)
    named = [p for p in found if p.name == target.name]
    pick = named[0] if len(named) == 1 else found[0] if len(found) == 1 else None
    if pick is None:
        if not found:
            return None, [f"no notebook in submitted/{student}/{assignment}/"]
        names = ", ".join(str(p.relative_to(home)) for p in found)
        return None, [f"{len(found)} notebooks ({names}) and none is {target.name}: "
                      f"keep the right one in submitted/{student}/{assignment}/{target.name}"]
    target.parent.mkdir(parents=True, exist_ok=True)
    pick.rename(target)
    return target, [f"moved {pick.relative_to(home)} to {target.relative_to(home)}"]


def _grade_id(cell: dict) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _check_shape(nb: nbformat.NotebookNode, notes: list[str]) -> None:
    """Raise BadSubmission unless ``nb`` has a notebook's shape; reset metadata of the wrong
    type (a kernelspec that is a string, say), with a note."""
    if not isinstance(nb.get("metadata"), dict):
        nb.metadata = nbformat.NotebookNode()
        notes.append("broken notebook metadata dropped")
    if not isinstance(nb.get("cells"), list):
        raise BadSubmission("not a notebook: it has no list of cells")
    for index, cell in enumerate(nb.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw") \
                or not isinstance(cell.get("source"), str):
            raise BadSubmission(f"not a notebook: cell {index} is not a notebook cell")
        if not isinstance(cell.get("metadata"), dict):
            cell.metadata = nbformat.NotebookNode()
            notes.append(f"broken metadata of cell {index} dropped")


def _with_type(cell: nbformat.NotebookNode, cell_type: str) -> nbformat.NotebookNode:
    """``cell`` as a cell of ``cell_type``: same id, source and metadata, no outputs."""
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    new = make(source=cell.source, metadata=cell.metadata)
    if "id" in cell:
        new.id = cell.id
    return new


def _restore_metadata(nb: nbformat.NotebookNode, release: nbformat.NotebookNode,
                      notes: list[str]) -> None:
    """Give every cell of a grade id the release's nbgrader metadata and cell type.

    A cell is known by its grade id or, when its nbgrader metadata is deleted or broken,
    by its cell id. Copies of a grade id and grade ids the release lacks become plain code.
    """
    wanted = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    by_cell_id = {c.get("id"): gid for gid, c in wanted.items()}
    seen, restored = set(), []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        gid = _grade_id(cell) or by_cell_id.get(cell.get("id"))
        if gid is None or gid in seen or gid not in wanted:
            if meta is not None:
                del cell.metadata["nbgrader"]
                notes.append("cell with broken nbgrader metadata kept as plain code"
                             if gid is None else f"cell a copy of {gid} kept as plain code"
                             if gid in seen else f"cell unknown to the assignment: {gid} kept "
                             "as plain code")
            continue
        seen.add(gid)
        want = wanted[gid]
        changed = ["deleted" if meta is None else "broken"] if not isinstance(meta, dict) else \
            sorted(k for k in set(meta) | set(want.metadata.nbgrader)
                   if meta.get(k) != want.metadata.nbgrader.get(k))
        if cell.cell_type != want.cell_type:
            nb.cells[index] = cell = _with_type(cell, want.cell_type)
            changed.append(f"cell type {want.cell_type}")
        cell.metadata["nbgrader"] = copy.deepcopy(want.metadata.nbgrader)
        if changed:
            restored.append(f"{gid} ({', '.join(changed)})")
    if restored:
        notes.append("restored the release's nbgrader metadata of " + "; ".join(restored))


def _output_bytes(nb: nbformat.NotebookNode) -> int:
    return sum(len(json.dumps(cell.get("outputs", []))) for cell in nb.cells)


def repair_notebook(text: str, release: nbformat.NotebookNode
                    ) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """Repair a submitted notebook's text; return (repaired notebook or None if clean, notes).

    Upgrades old nbformat minor versions, names the course kernel, gives every graded cell
    the release's nbgrader metadata and cell type (flipped flags, edited checksums and
    deleted metadata undone), keeps the first of cells that share a grade id (a copied or
    split cell), drops grade ids the assignment does not have, puts back deleted locked
    cells from the release (nbgrader restores edited ones itself), restores the release
    order of the graded cells and clears huge outputs. Raises BadSubmission when the text
    is not a notebook.
    """
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise BadSubmission(f"not a notebook: invalid JSON ({error})") from None
    except RecursionError:
        raise BadSubmission("not a notebook: its JSON is nested too deep") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat_minor", 0), int):
        raise BadSubmission("not a notebook: the JSON is no notebook")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's own repairs (cell ids): done below
            nb = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise BadSubmission(f"not a notebook nbformat can read ({error})") from None
    notes: list[str] = []
    _check_shape(nb, notes)
    if (raw.get("nbformat"), raw.get("nbformat_minor", 0)) < (4, 5):
        nb = nbformat.v4.upgrade(nb, from_version=4, from_minor=nb.get("nbformat_minor", 0))
        nb.nbformat, nb.nbformat_minor = 4, 5
        notes.append(f"upgraded nbformat {raw.get('nbformat')}.{raw.get('nbformat_minor', 0)}"
                     " to 4.5")
    spec = nb.metadata.get("kernelspec")
    kernel = spec.get("name") if isinstance(spec, dict) else spec
    if kernel != KERNELSPEC["name"] or not isinstance(spec, dict):
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        notes.append(f"kernel {kernel!r} set to {KERNELSPEC['name']}")

    _restore_metadata(nb, release, notes)
    order = [_grade_id(c) for c in release.cells if _grade_id(c)]
    seen = {_grade_id(c) for c in nb.cells} - {None}
    by_id = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    for index, gid in enumerate(order):
        meta = by_id[gid].metadata["nbgrader"]
        if gid in seen or meta.get("solution") or not meta.get("locked"):
            continue  # a missing answer stays missing: a stub could hide the student's code
        before = [g for g in order[:index] if g in seen]
        at = next((i + 1 for i, c in enumerate(nb.cells) if before and _grade_id(c) == before[-1]),
                  0)
        while 0 < at < len(nb.cells) and not _grade_id(nb.cells[at]):
            at += 1  # after the cells the student added below the previous graded cell
        nb.cells.insert(at, copy.deepcopy(by_id[gid]))
        seen.add(gid)
        notes.append(f"restored deleted cell {gid}")

    groups: list[list] = []
    for cell in nb.cells:
        if _grade_id(cell) or not groups:
            groups.append([cell])
        else:
            groups[-1].append(cell)
    rank = {gid: i for i, gid in enumerate(order)}
    ranked = sorted(groups, key=lambda g: rank.get(_grade_id(g[0]), -1))
    if ranked != groups:
        nb.cells = [cell for group in ranked for cell in group]
        notes.append("graded cells out of order: restored the release order")

    size = _output_bytes(nb)
    if size > MAX_OUTPUT_BYTES:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        notes.append(f"cleared {size / 1e6:.1f} MB of outputs")

    ids = set()
    for cell in nb.cells:
        if cell.get("id") in ids:
            cell.id = nbformat.v4.new_code_cell().id
        ids.add(cell.get("id"))
    return (nb if notes else None), notes


def preflight(course: Path, assignment: str, student: str, stamp: str
              ) -> tuple[Path | None, list[str]]:
    """Locate and repair one submission in place (originals kept); (path or None, notes).

    Raises BadSubmission when there is no readable notebook to grade, or when the
    submission holds a link or a special file anywhere (a link could point the grader,
    which follows links, at the instructor's files).
    """
    special = _special_files(course / "submitted" / student)
    if special:
        raise BadSubmission(f"{len(special)} link(s) or special file(s) in submitted/: "
                            + "; ".join(special[:3]) + ". Nothing graded: review by hand")
    path, notes = locate_notebook(course, assignment, student)
    if path is None:
        raise BadSubmission("; ".join(notes))
    release = nbformat.read(course / "exercises" / assignment / f"{assignment}.ipynb", 4)
    repaired, repairs = repair_notebook(path.read_text(encoding="utf-8", errors="replace"),
                                        release)
    if repaired is not None:
        _backup(course, assignment, student, path, stamp)
        try:
            text = nbformat.writes(repaired)
        except Exception as error:  # noqa: BLE001 - grade it as submitted rather than stop
            return path, notes + [f"left as submitted, the repair failed ({error})"]
        path.write_text(text, encoding="utf-8")
    return path, notes + repairs


# --- grading -------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What grading one submission gave."""

    student: str
    score: float = 0.0  # automatic and manual points
    max_score: float = 0.0
    auto_score: float = 0.0  # points of the autograded test cells
    auto_max: float = 0.0
    manual_pending: float = 0.0  # points still to grade by hand
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # repairs and what the tests ran into
    failed: str = ""  # why nbgrader could not grade it (then scored 0), else empty

    def line(self) -> str:
        """One line of the progress report."""
        text = f"{self.student:<22} {self.score:5.1f}/{self.max_score:<4g} {self.seconds:6.1f} s"
        extra = ([f"FAILED, scored 0: {self.failed}"] if self.failed else []) + self.notes
        return text + ("  " + "; ".join(extra) if extra else "")


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
            _nbgrader(course, ["generate_assignment", assignment, "--force",
                               "--log-level=ERROR", f"--CourseDirectory.release_directory={tmp}"],
                      f"putting {assignment} in the gradebook")
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest.hexdigest())
    with open_gradebook(course) as gb:
        for student in students:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student)


def sandbox_args(enabled: bool) -> list[str]:
    """The sandbox's extra arguments for ``nbgrader autograde`` (none when disabled)."""
    if not enabled:
        return []
    try:
        from reglab import sandbox
    except ImportError as error:
        raise GradingError(
            f"the grading sandbox is not available ({error}). Grade with --no-sandbox "
            "only on a machine that holds nothing but the grading.") from None
    try:
        sandbox.check()
    except RuntimeError as error:
        raise GradingError(f"the grading sandbox cannot run here: {error}\nFix that, or grade "
                           "with --no-sandbox on a machine that holds nothing but the "
                           "grading.") from None
    return sandbox.autograde_args()


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in family:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def _failure_reason(log: str) -> str:
    """The cause of a failed ``nbgrader autograde`` in its log, not nbgrader's "see above"."""
    unavailable = re.search(r"SandboxUnavailable: (.+)", log)
    if unavailable:
        return f"{SANDBOX_DOWN}: {unavailable.group(1).strip()}"
    if "DeadKernelError" in log or "Kernel died" in log:
        return "the kernel died (a crash, os._exit() or out of memory)"
    if "UnresponsiveKernelError" in log or "TimeoutError" in log:
        return "the kernel stopped responding"
    if "database is locked" in log:
        return "the gradebook stayed locked; grade this student again"
    raised = [(name, text) for name, text in re.findall(
        r"^(?:\w+\.)*(\w*(?:Error|Exception|Entry)): (.+)$", log, re.M)
        if "Please see the" not in text]
    if raised:
        return f"nbgrader: {raised[-1][0]}: {raised[-1][1].strip()}"[:200]
    errors = [ln for ln in log.splitlines() if ("ERROR" in ln or "Error" in ln)
              and "Please see the" not in ln]
    return (errors or log.strip().splitlines() or ["nbgrader failed"])[-1].strip()[:200]


def _test_notes(course: Path, assignment: str, student: str, cell_timeout: float | None
                ) -> list[str]:
    """What the autograded notebook shows: tests that failed or timed out."""
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    if not path.exists():
        return []
    failed, timed_out = [], []
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        names = {o.get("ename") for o in cell.outputs if o.get("output_type") == "error"}
        if "CellTimeoutError" in names:
            timed_out.append(meta["grade_id"])
        elif names or any(o.get("name") == "stderr" for o in cell.outputs):
            failed.append(meta["grade_id"])
    notes = []
    if timed_out:
        limit = f"{cell_timeout:g} s" if cell_timeout else "the cell time limit"
        notes.append(f"ran past {limit} in {', '.join(timed_out)}")
    if failed:
        notes.append("failed " + (", ".join(failed) if len(failed) <= 3 else
                                  f"{len(failed)} test cells"))
    return notes


def _read_outcome(gb, outcome: Outcome, assignment: str) -> None:
    """Fill the scores of ``outcome`` from the gradebook."""
    sub = gb.find_submission(assignment, outcome.student)
    outcome.score, outcome.max_score = float(sub.score), float(sub.max_score)
    grades = [g for nb in sub.notebooks for g in nb.grades]
    auto = [g for g in grades if g.cell.cell_type == "code"]
    outcome.auto_score = float(sum(g.auto_score or 0 for g in auto))
    outcome.auto_max = float(sum(g.max_score for g in auto))
    outcome.manual_pending = float(sum(g.max_score for g in grades if g.needs_manual_grade))


def _record_zero(gb, assignment: str, student: str) -> None:
    """Score a submission nbgrader could not grade 0 (manual grades kept), flagged for review
    but for the cells already graded by hand."""
    gb.update_or_create_student(student)
    sub = gb.update_or_create_submission(assignment, student)
    for notebook in sub.notebooks:
        for grade in notebook.grades:
            grade.auto_score = 0.0
            grade.needs_manual_grade = grade.manual_score is None
    gb.db.commit()


def _autograde(course: Path, assignment: str, student: str, extra: list[str],
               submission_timeout: float) -> tuple[int | None, str]:
    """Run nbgrader autograde for one student: (return code or None on timeout, log)."""
    log_path = course / WORK / assignment / "logs" / f"{student}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student,
           "--force", *extra]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=course, env=nbgrader_env(), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            code = proc.wait(timeout=submission_timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            code = None
    return code, log_path.read_text(errors="replace")


def _grade_one(course: Path, assignment: str, outcome: Outcome, extra: list[str],
               cell_timeout: float | None, submission_timeout: float) -> Outcome:
    start = time.perf_counter()
    code, log = _autograde(course, assignment, outcome.student, extra, submission_timeout)
    if code not in (0, None) and "database is locked" in log:  # rare: one more try
        time.sleep(random.uniform(1, 5))
        code, log = _autograde(course, assignment, outcome.student, extra, submission_timeout)
    outcome.seconds = time.perf_counter() - start
    if code is None:
        outcome.failed = f"stopped after {submission_timeout:g} s (the limit per submission)"
        shutil.rmtree(course / "autograded" / outcome.student / assignment, ignore_errors=True)
    elif code != 0:
        outcome.failed = _failure_reason(log)
    else:
        outcome.notes += _test_notes(course, assignment, outcome.student, cell_timeout)
    with open_gradebook(course) as gb:
        if outcome.failed:
            _record_zero(gb, assignment, outcome.student)
        _read_outcome(gb, outcome, assignment)
    return outcome


def _save_outcomes(course: Path, assignment: str, outcomes: list[Outcome]) -> None:
    path = course / WORK / assignment / "outcomes.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved.update({o.student: asdict(o) for o in outcomes})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")


def grade(assignment: str, course_dir: Path = ROOT, workers: int | None = None,
          cell_timeout: float | None = None,
          submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT, sandbox: bool = True,
          students: list[str] | None = None, echo: Callable[[str], None] = say
          ) -> list[Outcome]:
    """Autograde every submission of ``assignment`` (or only ``students``) in a worker pool.

    One ``nbgrader autograde`` process per student, ``workers`` at a time (default: the
    number of CPUs), each stopped after ``submission_timeout`` seconds; ``cell_timeout``
    overrides nbgrader's per-cell limit (Execute.timeout). A submission that cannot be
    graded scores 0 and is flagged for review; the others carry on. Manual grades entered
    in the gradebook are kept. Raises GradingError for instructor-side problems.
    """
    course = Path(course_dir).resolve()
    _check_assignment(course, assignment)
    if not (course / "exercises" / assignment).is_dir():
        raise GradingError(f"exercises/{assignment} is missing: run `make release` first")
    unsafe = [shown(s) for s in students or [] if not safe_id(s)]
    if unsafe:
        raise GradingError(f"not a student id: {', '.join(unsafe)} (ids are {STUDENT_ID})")
    found = students_with_submissions(course, assignment)
    chosen = students or found
    missing = sorted(set(chosen) - set(found))
    if missing or not chosen:
        raise GradingError(f"no submission of {assignment} in {course / 'submitted'} for: "
                           + (", ".join(missing) or "anyone")
                           + ". Collect first (make collect-zip, or nbgrader collect).")
    db_url = _config(course)[1]  # nbgrader's own, from every config file it reads
    extra = sandbox_args(sandbox) + ["--log-level=INFO"] + (
        [f"--CourseDirectory.db_url={_busy_url(db_url)}"] if db_url.startswith("sqlite:") else [])
    if cell_timeout:
        extra.append(f"--Execute.timeout={max(1, round(cell_timeout))}")
    workers = max(1, workers or os.cpu_count() or 1)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    start = time.perf_counter()
    echo(f"==> Grading {len(chosen)} submission(s) of {assignment} with {workers} worker(s)"
         + ("" if sandbox else ", NO SANDBOX"))
    skipped = unsafe_folders(course)
    if skipped and not students:
        echo(f"    Skipped {len(skipped)} folder(s) of submitted/ not named by a safe student id"
             f" ({STUDENT_ID}): {', '.join(map(repr, skipped))}")
    prepare_gradebook(course, assignment, chosen)

    outcomes: list[Outcome] = []

    def progress(outcome: Outcome) -> None:
        outcomes.append(outcome)
        echo(f"[{len(outcomes):>{len(str(len(chosen)))}}/{len(chosen)}] {outcome.line()}")

    jobs = []
    for student in chosen:
        outcome = Outcome(student)
        try:
            _, outcome.notes = preflight(course, assignment, student, stamp)
            jobs.append(outcome)
            continue
        except BadSubmission as error:
            outcome.failed = str(error)
        except OSError as error:  # e.g. a file it may not move: this student only
            outcome.failed = f"preflight could not read or move the notebook ({error})"
        except Exception as error:  # noqa: BLE001 - one odd notebook must not stop the class
            outcome.failed = f"preflight error ({type(error).__name__}: {error})"[:300]
        shutil.rmtree(course / "autograded" / student / assignment, ignore_errors=True)
        with open_gradebook(course) as gb:
            _record_zero(gb, assignment, student)
            _read_outcome(gb, outcome, assignment)
        progress(outcome)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_grade_one, course, assignment, o, extra, cell_timeout,
                               submission_timeout): o for o in jobs}
        for future in as_completed(futures):
            try:
                progress(future.result())
            except Exception as error:  # noqa: BLE001 - a bug here must not stop the class
                futures[future].failed = f"grading error ({type(error).__name__}: {error})"
                progress(futures[future])
    outcomes.sort(key=lambda o: o.student)
    _save_outcomes(course, assignment, outcomes)
    failed = [o.student for o in outcomes if o.failed]
    pending = [o for o in outcomes if o.manual_pending and not o.failed]
    echo(f"==> Graded {len(outcomes) - len(failed)} of {len(outcomes)} submission(s) of "
         f"{assignment} in {time.perf_counter() - start:.0f} s ({workers} worker(s)); "
         f"{len(failed)} failed" + (f" and scored 0, review by hand: {', '.join(failed)}"
                                    if failed else "") + ".")
    if pending:
        echo(f"    {len(pending)} submission(s) have answers to grade by hand (up to "
             f"{max(o.manual_pending for o in pending):g} points each): nbgrader formgrader.")
    echo(f"    Logs: {WORK}/{assignment}/logs/. Next: make feedback A={assignment}; "
         f"make export; make report A={assignment}")
    down = [o for o in outcomes if o.failed.startswith(SANDBOX_DOWN)]
    if down:
        raise GradingError(f"{down[0].failed}\n{len(down)} submission(s) were not graded: fix "
                           "that and grade them again")
    return outcomes


# --- collect, feedback, export, report -----------------------------------------------------

def collect_zip(assignment: str, archive: Path, course_dir: Path = ROOT,
                echo: Callable[[str], None] = say) -> dict[str, list[str]]:
    """Collect a learning platform's zip (Moodle, Canvas, or named as the course's
    FileNameCollectorPlugin.named_regexp says) into submitted/.

    Only notebooks are taken out of the zip, after every entry was checked
    (reglab/collect.py); every entry left out is reported with its reason. Each collected
    student's submitted/<student>/<assignment>/ is replaced and ends up holding
    <assignment>.ipynb, with timestamp.txt when the names give a time; what a name says
    (Canvas's LATE) is kept in grading/<assignment>/collected.json. Returns each collected
    student's notes.
    """
    course = Path(course_dir).resolve()
    _check_assignment(course, assignment)
    archive = Path(archive).resolve()
    if not archive.is_file():
        raise GradingError(f"{archive} is not a file")
    pattern = nbgrader_config(course).FileNameCollectorPlugin.get("named_regexp")
    extracted = course / "downloaded" / assignment / "extracted"
    try:
        with collect.open_zip(archive) as (zipped, bad_names):
            plan = collect.plan(zipped, bad_names, pattern, str(extracted), safe_id)
            echo(f"==> {archive.name}: {len(zipped.infolist())} entries, "
                 + {"Moodle": "Moodle's layout (student id: the participant id)",
                    "Canvas": "Canvas's layout (student id: the Canvas user id)"}.get(
                        plan.layout, "named as FileNameCollectorPlugin.named_regexp says"))
            takes = _write_submissions(course, assignment, zipped, plan)
    except collect.RefusedZip as error:
        raise GradingError(f"{archive} refused, nothing collected: {error}") from None
    collected = {}
    for student, entries in sorted(takes.items()):
        _, collected[student] = locate_notebook(course, assignment, student)
        if any(t.late for t in entries):
            collected[student].append("LATE (the platform's file name says so)")
        name = next((t.name for t in entries if t.name), "")
        label = f"{student} ({collect.shown(name)})" if name else student
        echo(f"  {label:<22} " + ("; ".join(collected[student]) or "ok"))
    for name, reason in plan.skipped:
        echo(f"  skipped {collect.shown(name)}: {reason}")
    _save_collected(course, assignment, plan.layout, takes)
    echo(f"==> Collected {len(collected)} submission(s) of {assignment} into submitted/"
         + (f"; {len(plan.skipped)} entr{'y' if len(plan.skipped) == 1 else 'ies'} skipped"
            if plan.skipped else ""))
    return collected


def _write_submissions(course: Path, assignment: str, zipped: zipfile.ZipFile,
                       plan: collect.Plan) -> dict[str, list[collect.Take]]:
    """Write the planned entries of each student into a new folder that then replaces
    submitted/<student>/<assignment>/; entries that cannot be written join
    ``plan.skipped`` (a student none of whose entries could be written keeps the old
    folder). Returns each written student's entries."""
    by_student: dict[str, list[collect.Take]] = {}
    for take in plan.takes:
        by_student.setdefault(take.student, []).append(take)
    written = {}
    for student, takes in by_student.items():
        folder = course / "submitted" / student / assignment
        links = [p for p in (folder.parent.parent, folder.parent, folder) if p.is_symlink()]
        if links:
            plan.skipped += [(t.info.filename, f"{links[0].relative_to(course)} is a link: "
                              "not replaced") for t in takes]
            continue
        new = folder.with_name(f".{assignment}.collecting")
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir(parents=True)
        for take in takes:
            try:
                collect.extract(zipped, take, new / take.file)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError,
                    RuntimeError, ValueError) as error:
                (new / take.file).unlink(missing_ok=True)
                plan.skipped.append((take.info.filename, f"cannot be read ({error})"))
            else:
                written.setdefault(student, []).append(take)
        stamps = [t.timestamp for t in written.get(student, []) if t.timestamp]
        if stamps:
            (new / "timestamp.txt").write_text(max(stamps))
        if student not in written:
            shutil.rmtree(new)
            if not any(new.parent.iterdir()):
                new.parent.rmdir()  # a student folder made for nothing
            continue
        if folder.exists():
            shutil.rmtree(folder)
        new.rename(folder)
    return written


def _save_collected(course: Path, assignment: str, layout: str,
                    takes: dict[str, list[collect.Take]]) -> None:
    """Record what each collected student's entries said in grading/<assignment>/."""
    path = course / WORK / assignment / "collected.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved.update({student: {"layout": layout, "entries": [t.info.filename for t in entries],
                            "late": any(t.late for t in entries),
                            "name": next((t.name for t in entries if t.name), "")}
                  for student, entries in takes.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")


def _visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]*>", "", page))


def feedback(assignment: str, course_dir: Path = ROOT,
             echo: Callable[[str], None] = say) -> list[Path]:
    """Generate every graded student's feedback (hidden tests cleared) and check for leaks."""
    course = Path(course_dir).resolve()
    _check_assignment(course, assignment)
    _nbgrader(course, ["generate_feedback", assignment, "--force", "--log-level=ERROR"],
              "generating feedback")
    pages = sorted((course / "feedback").glob(f"*/{assignment}/*.html"))
    hidden = hidden_test_lines(assignment)
    leaks = {page: quoted(hidden, _visible_text(page.read_text())) for page in pages}
    leaks = {page: lines for page, lines in leaks.items() if lines}
    if leaks:
        first = next(iter(leaks))
        raise GradingError(f"hidden tests appear in {len(leaks)} feedback page(s), e.g. "
                           f"{first}: {leaks[first][0]!r}. Do not send them; check that "
                           "nbgrader_config.py clears hidden tests and test outputs "
                           "(ClearTestOutputs, ClearHiddenTests).")
    graded = {p.parent.parent.name for p in pages}
    without = sorted(set(students_with_submissions(course, assignment)) - graded)
    echo(f"==> Feedback for {len(pages)} student(s) in feedback/<student>/{assignment}/, "
         f"no hidden-test line in any (checked {len(hidden)})")
    if without:
        echo(f"    No feedback (not graded): {', '.join(without)}")
    return pages


def export(course_dir: Path = ROOT, to: Path | None = None,
           echo: Callable[[str], None] = say) -> Path:
    """Export every grade of the gradebook to CSV with ``nbgrader export`` (grades/grades.csv)."""
    course = Path(course_dir).resolve()
    with open_gradebook(course) as gb:
        unsafe = [repr(s.id) for s in gb.students if not safe_id(s.id)]
    if unsafe:
        raise GradingError(f"the gradebook holds student ids that are not safe in a CSV row: "
                           f"{', '.join(unsafe)}. Remove them (nbgrader db student remove, or "
                           "Gradebook.remove_student) and export again.")
    target = (course / GRADES / "grades.csv") if to is None else Path(to).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _nbgrader(course, ["export", f"--to={target}", "--log-level=ERROR"], "exporting grades")
    rows = len(target.read_text().splitlines()) - 1
    echo(f"==> Exported {rows} row(s) (one per student and assignment) to {target}")
    return target


def report(assignment: str, course_dir: Path = ROOT,
           echo: Callable[[str], None] = say) -> list[Path]:
    """Per-test-cell pass rates and the score histogram of ``assignment``: PNGs and a table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    course = Path(course_dir).resolve()
    _check_assignment(course, assignment)
    with open_gradebook(course) as gb:
        try:
            subs = gb.find_assignment(assignment).submissions
        except Exception as error:  # noqa: BLE001 - nbgrader's MissingEntry and friends
            raise GradingError(f"{assignment} is not in the gradebook: grade it first") from error
        scores = {s.student.id: (float(s.score), float(s.max_score)) for s in subs}
        cells: dict[str, list] = {}
        for sub in subs:
            for grade in (g for nb in sub.notebooks for g in nb.grades):
                if grade.cell.cell_type == "code":
                    cells.setdefault(grade.name, []).append(
                        (grade.score or 0.0, float(grade.max_score)))
    if not scores:
        raise GradingError(f"no graded submission of {assignment}: run make grade first")
    path = course / WORK / assignment / "outcomes.json"
    outcomes = json.loads(path.read_text()) if path.exists() else {}
    path = course / WORK / assignment / "collected.json"
    late = {s for s, info in (json.loads(path.read_text()) if path.exists() else {}).items()
            if info.get("late")}
    rates = {name: sum(s >= m for s, m in vals) / len(vals) for name, vals in cells.items()}
    maximum = max(m for _, m in scores.values())
    values = sorted(s for s, _ in scores.values())
    echo(f"{assignment}: {len(scores)} submission(s), mean {sum(values) / len(values):.1f}"
         f"/{maximum:g}, median {values[len(values) // 2]:.1f}")
    echo(f"  {'test cell':<44} {'points':>6} {'passed':>9} {'rate':>6}")
    for name, vals in cells.items():
        passed = sum(s >= m for s, m in vals)
        echo(f"  {name:<44} {vals[0][1]:>6g} {passed:>5}/{len(vals):<3} {rates[name]:>6.0%}")
    echo(f"  {'student':<22} {'score':>9}  notes")
    for student, (score, top) in sorted(scores.items()):
        info = outcomes.get(student, {})
        notes = ([f"FAILED: {info['failed']}"] if info.get("failed") else []) + \
            info.get("notes", []) + (["LATE (the platform's file name)"] if student in late
                                     else [])
        echo(f"  {shown(student):<22} {score:5.1f}/{top:<4g} {'; '.join(notes)}")

    out = course / GRADES
    out.mkdir(exist_ok=True)
    figures = [out / f"{assignment}_pass_rates.png", out / f"{assignment}_scores.png"]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(rates) + 1.2))
    ax.barh(list(rates)[::-1], [100 * r for r in rates.values()][::-1], color="tab:blue")
    ax.set(xlim=(0, 100), xlabel="submissions passing (%)",
           title=f"{assignment}: pass rate per test cell (n={len(scores)})")
    fig.tight_layout()
    fig.savefig(figures[0], dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(values, bins=[b - 0.5 for b in range(int(maximum) + 2)], color="tab:green",
            edgecolor="white")
    ax.set(xlabel=f"score (of {maximum:g})", ylabel="students",
           title=f"{assignment}: scores (n={len(scores)})")
    fig.tight_layout()
    fig.savefig(figures[1], dpi=100)
    plt.close(fig)
    echo("==> Figures: " + ", ".join(str(f.relative_to(course)) for f in figures))
    return figures


# --- distribution and simulation ------------------------------------------------------------

def distribute(dest: Path, force: bool = False, echo: Callable[[str], None] = say) -> Path:
    """Write the repository as students get it into ``dest``, verified free of secrets.

    Copies DISTRIBUTED (no solutions/, tests/, authoring/, _build/, grading state), then
    checks that no notebook has a solution or hidden-test marker and no file holds a line
    of a solution region or hidden test; on a leak nothing is left in ``dest``.
    """
    dest = Path(dest).resolve()
    if dest == ROOT or ROOT in dest.parents:
        raise GradingError(f"{dest} is inside the repository; pick a folder outside it")
    if dest.exists() and any(dest.iterdir()) and not force:
        raise GradingError(f"{dest} is not empty; pass --force to replace it")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info",
                                  ".DS_Store")
    tmp = Path(tempfile.mkdtemp(prefix=".reglab-dist-", dir=dest.parent))
    try:
        for name in DISTRIBUTED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, tmp / name, ignore=skip)
            elif source.exists():
                shutil.copy2(source, tmp / name)
        for name, target in PLACED.items():
            (tmp / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp / target)
        problems = _leaks(tmp)
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


def _leaks(tree: Path) -> list[str]:
    """Solution or hidden-test content, or instructor folders, found under ``tree``."""
    problems = [f"{p.relative_to(tree)}/ is an instructor folder" for p in tree.rglob("*")
                if p.is_dir() and p.name in NEVER_DISTRIBUTED]
    public = "\n".join(notebook_text(p) for p in (ROOT / "exercises").glob("*/*.ipynb"))
    secrets = {line for a in known_assignments(ROOT) for line in secret_lines(a)
               if line not in public}  # a line another release shows is no secret
    for path in (p for p in tree.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".ipynb":
                text += "\n" + notebook_text(path)
        except (UnicodeDecodeError, ValueError):
            continue
        if path.suffix == ".ipynb" and re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", text):
            problems.append(f"{path.relative_to(tree)} has a solution or hidden-test marker")
        problems += [f"{path.relative_to(tree)} holds {line!r}" for line in secrets
                     if line in text]
    return problems


def simulate_class(assignment: str, n: int, course_dir: Path) -> None:
    """Lay out a fresh course directory with ``n`` simulated submissions of ``assignment``.

    Three in four are the solution, one in four the untouched release, in
    submitted/studentNNN/. Grade it with ``grade(assignment, course_dir, workers=1,
    sandbox=False)`` (one at a time) or ``workers=None`` (the pool).
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


# --- command line ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course-dir", type=Path, default=ROOT, metavar="DIR",
                        help="the nbgrader course directory (default: this repository)")
    parser = argparse.ArgumentParser(prog="python -m reglab.grader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    col = sub.add_parser("collect-zip", parents=[common],
                         help="collect a learning platform's zip into submitted/")
    col.add_argument("assignment", help="e.g. 01_bias_variance")
    col.add_argument("zip", type=Path, help="the zip of submissions: Moodle's or Canvas's "
                     "download, or notebooks named as FileNameCollectorPlugin.named_regexp says")
    grd = sub.add_parser("grade", parents=[common],
                         help="preflight and autograde every submission in parallel")
    grd.add_argument("assignment", help="e.g. 01_bias_variance")
    grd.add_argument("--workers", type=int, default=None, metavar="N",
                     help="parallel nbgrader processes (default: the number of CPUs)")
    grd.add_argument("--timeout", type=float, default=None, metavar="S",
                     help="seconds per cell (nbgrader's Execute.timeout; default from "
                     "nbgrader_config.py)")
    grd.add_argument("--submission-timeout", type=float, default=DEFAULT_SUBMISSION_TIMEOUT,
                     metavar="S",
                     help="seconds per submission before it is stopped (default: %(default)g)")
    grd.add_argument("--student", action="append", default=None, metavar="ID",
                     help="grade only this student (repeatable)")
    grd.add_argument("--no-sandbox", action="store_true",
                     help="run the kernels without the grading sandbox (trusted machine only)")
    fb = sub.add_parser("feedback", parents=[common],
                        help="HTML feedback for every graded student, hidden tests cleared")
    fb.add_argument("assignment", help="e.g. 01_bias_variance")
    exp = sub.add_parser("export", parents=[common], help="export all grades to CSV")
    exp.add_argument("--to", type=Path, default=None,
                     help=f"the CSV file (default: {GRADES}/grades.csv)")
    rep = sub.add_parser("report", parents=[common],
                         help="pass rate per test cell and score histogram (PNGs + table)")
    rep.add_argument("assignment", help="e.g. 01_bias_variance")
    dis = sub.add_parser("distribute", help="write the student version of the repository")
    dis.add_argument("dest", type=Path)
    dis.add_argument("--force", action="store_true", help="replace DEST if it is not empty")
    args = parser.parse_args(argv)

    try:
        if args.command == "collect-zip":
            collect_zip(args.assignment, args.zip, args.course_dir)
        elif args.command == "grade":
            grade(args.assignment, args.course_dir, args.workers, args.timeout,
                  args.submission_timeout, not args.no_sandbox, args.student)
        elif args.command == "feedback":
            feedback(args.assignment, args.course_dir)
        elif args.command == "export":
            export(args.course_dir, args.to)
        elif args.command == "report":
            report(args.assignment, args.course_dir)
        else:
            distribute(args.dest, args.force)
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the submissions graded so far are in the gradebook", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
