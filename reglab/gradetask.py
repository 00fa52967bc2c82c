"""Grading one submission as a self-contained task: what a grading worker runs.

A :class:`Task` carries everything ``nbgrader autograde`` needs for one student, so the
worker that runs it (a thread here, a process of a Dask cluster elsewhere) needs no access
to the course folder: the submission's files, the course's nbgrader configuration, the
assignment's files other than its notebooks, and the gradebook's URL (the assignment and
its instructor cells are read from the gradebook, where the grades are written too).
:func:`run` lays these out in a scratch course folder, runs nbgrader there (sandboxed by the
arguments in the task) and returns a :class:`Result` with the autograded files and the log.
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from reglab.course import nbgrader_env

Files = dict[str, bytes]  # path relative to a folder -> content


@dataclass(frozen=True)
class Task:
    """What grading one student's submission of one assignment needs."""

    assignment: str
    student: str
    submission: Files  # the files of submitted/<student>/<assignment>/
    config: str  # the course's nbgrader_config.py
    db_url: str  # the gradebook, which already holds the assignment and the student
    source: Files = field(default_factory=dict)  # solutions/<assignment>/ but its notebooks
    args: tuple[str, ...] = ()  # more arguments for nbgrader autograde (sandbox, limits)
    timeout: float = 1800  # seconds for the whole submission


@dataclass(frozen=True)
class Result:
    """What nbgrader left: its return code (None when stopped at the time-out) and log."""

    student: str
    code: int | None
    log: str
    autograded: Files  # the files of autograded/<student>/<assignment>/
    seconds: float


def read_files(folder: Path) -> Files:
    """Every regular file under ``folder`` (links and special files are left out)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def write_files(folder: Path, files: Files) -> None:
    """Write ``files`` under ``folder``; a path that would leave it is refused."""
    root = folder.resolve()
    for relative, content in files.items():
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or path == root:
            raise ValueError(f"refused to write {relative!r} outside {folder}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _die_with_parent() -> None:
    """In the child: be killed when the worker that started it dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def kill_tree(pid: int) -> None:
    """Kill a process and all its descendants."""
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


def autograde(course: Path, assignment: str, student: str, args: tuple[str, ...] | list[str],
              timeout: float, log_path: Path) -> int | None:
    """Run ``nbgrader autograde`` for one student in ``course``, its output in ``log_path``;
    the return code, or None when it was stopped after ``timeout`` seconds."""
    cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student,
           "--force", *args]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=course, env=nbgrader_env(), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if os.name == "posix" else None)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            return None


SCRATCH_LAYOUT = ("--CourseDirectory.source_directory=solutions",
                  "--CourseDirectory.submitted_directory=submitted",
                  "--CourseDirectory.autograded_directory=autograded")


def run(task: Task) -> Result:
    """Grade ``task`` in a scratch course folder, removed afterwards."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reglab-task-") as tmp:
        course = Path(tmp)
        # the gradebook's URL in the file, not on a command line that `ps` shows
        (course / "nbgrader_config.py").write_text(
            f"{task.config}\n\nc.CourseDirectory.db_url = {task.db_url!r}\n")
        source = course / "solutions" / task.assignment
        source.mkdir(parents=True)
        write_files(source, task.source)
        write_files(course / "submitted" / task.student / task.assignment, task.submission)
        # the scratch folder and its layout, whatever root or folder names a configuration sets
        args = [f"--CourseDirectory.root={course}", *SCRATCH_LAYOUT, *task.args]
        log_path = course / "autograde.log"
        code = autograde(course, task.assignment, task.student, args, task.timeout, log_path)
        if code not in (0, None) and "database is locked" in log_path.read_text(errors="replace"):
            time.sleep(random.uniform(1, 5))  # rare with SQLite: one more try
            code = autograde(course, task.assignment, task.student, args, task.timeout, log_path)
        graded = course / "autograded" / task.student / task.assignment
        files = read_files(graded) if code is not None and graded.is_dir() else {}
        log = log_path.read_text(errors="replace").replace(tmp, "<course>")
        shutil.rmtree(course / "autograded", ignore_errors=True)  # read-only files
    return Result(task.student, code, log, files, time.perf_counter() - start)
