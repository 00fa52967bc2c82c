"""Awkward submissions of one cheap assignment, generated from the committed notebooks.

Each case is the solved release (``reglab.grader.solved_release``) or the release, changed
the way a student's notebook goes wrong: broken code, crashes, damaged or moved cells,
a misnamed or misplaced file, old formats, noisy but correct answers, flipped nbgrader
metadata; and attacks on the grading machine: links in the submission or planted by the
kernel, malformed notebooks, unsafe student ids, huge outputs and files, code that prints
the hidden tests. ``CASES`` says what grading must give each one; :func:`write_course`
lays them out in a fresh course directory, one of them inside a learning platform's zip,
beside files of the "host" that no attack may create or change (:func:`host_state`).
"""

import copy
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from reglab.course import ROOT
from reglab.grader import solved_release
from tests.support.common import COURSE

# 01_bias_variance runs no Keras: its solution executes in ~1.3 s after a ~1 s kernel start
# (08_workflow, the other one without Keras, is the same within noise; 02-07 load TensorFlow).
ASSIGNMENT = "01_bias_variance"
AUTO_MAX = 10.0  # points of its autograded test cells (2 more are graded by hand)
CELL_TIMEOUT = 10  # seconds per cell when grading the fixtures (an infinite loop costs this)
TF_LINE = ("I0000 00:00:1700000000.123456   12345 cpu_feature_guard.cc:210] This TensorFlow "
           "binary is optimized to use available CPU instructions.")


@dataclass(frozen=True)
class Case:
    """What grading one fixture must give: automatic points, failure, text of its line."""

    auto: float
    note: str = ""
    failed: bool = False


CASES = {
    "correct": Case(10),
    "partial": Case(7, "failed test_diagnose_cases, test_diagnose_errors"),
    "release": Case(0, "failed 6 test cells"),
    "syntax-error": Case(7, "failed test_diagnose_cases, test_diagnose_errors"),
    "import-error": Case(7, "failed test_bias_variance_decomposition_values"),
    "infinite-loop": Case(9, f"ran past {CELL_TIMEOUT} s in test_diagnose_errors"),
    "sys-exit": Case(10),  # its kernel shows SystemExit and goes on: the tests run outside
    "os-exit": Case(0, "the kernel died", failed=True),
    "kernel-crash": Case(0, "the kernel died", failed=True),
    "deleted-cells": Case(10, "restored deleted cell setup; restored deleted cell "
                              "test_diagnose_cases"),
    "edited-tests": Case(7, "failed test_diagnose_cases, test_diagnose_errors"),
    "copied-cells": Case(10, "cell a copy of test_diagnose_cases kept as plain code; cell a "
                             "copy of test_best_polynomial_degree_curves kept as plain code"),
    "reordered": Case(10, "graded cells out of order: restored the release order"),
    "renamed": Case(10, f"graded {ASSIGNMENT}/Copy of {ASSIGNMENT}.ipynb as "
                        f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
    "wrong-folder": Case(10, f"graded {ASSIGNMENT}.ipynb as {ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
    "invalid-json": Case(0, "not a notebook: invalid JSON", failed=True),
    "old-format": Case(10, "upgraded nbformat 4.1 to 4.5; kernel 'conda-env-ml-py' set to "
                           "python3"),
    "noisy-correct": Case(10),  # warns, and logs a TensorFlow-like line to stderr
    "huge-outputs": Case(10, "cleared 2.0 MB of outputs"),
    "zipped": Case(10),  # collected from a zip, where its notebook is "Copy of ..."
    # nbgrader metadata changed: graded as the release's cells, never above the honest 7
    "flipped-flags": Case(7, "restored the release's nbgrader metadata of test_diagnose_cases "
                             "(solution); test_diagnose_errors (grade); "
                             "test_best_polynomial_degree_choice (cell type code)"),
    "edited-metadata": Case(7, "restored the release's nbgrader metadata of "
                               "test_diagnose_cases (deleted); test_diagnose_errors (checksum)"),
    # attacks on the grading machine: each gains nothing, costs nobody else anything
    "plants-links": Case(10),  # links and a FIFO in its working folder, left for the grader
    "fills-disk": Case(10),  # 3 x 400 MiB files in its folder and a 20 MB line of output
    "leaks-hidden-tests": Case(10),  # prints the running test cell and reads the notebook
    "odd-metadata": Case(10, "kernel 'python3' set to python3; restored the release's "
                             "nbgrader metadata of test_diagnose_cases (broken)"),
    "deep-json": Case(0, "not a notebook: its JSON is nested too deep", failed=True),
    "link-extra": Case(0, "link(s) or special file(s) in submitted/: link-extra/", failed=True),
    "link-notebook": Case(0, f"link-notebook/{ASSIGNMENT}/{ASSIGNMENT}.ipynb -> ", failed=True),
    "link-folder": Case(0, f"link-folder/{ASSIGNMENT} -> ", failed=True),
}
ZIPPED = {"zipped": f"zipped_Copy of {ASSIGNMENT}.ipynb"}
PATHS = {"renamed": f"{ASSIGNMENT}/Copy of {ASSIGNMENT}.ipynb",
         "wrong-folder": f"{ASSIGNMENT}.ipynb"}
# Submitted as folders (as `nbgrader collect` could) and inside the zip: never graded.
UNSAFE_IDS = ("*", "victim\nmallory,10")


def _index(nb: nbformat.NotebookNode, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _append(nb: nbformat.NotebookNode, grade_id: str, code: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with ``code`` at the end of the cell ``grade_id``."""
    nb = copy.deepcopy(nb)
    nb.cells[_index(nb, grade_id)].source += "\n\n" + code
    return nb


WRONG_DIAGNOSE = 'def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):\n' \
                 '    return "good fit"'
LOOPS_ON_BAD_INPUT = """
_solved_diagnose = diagnose


def diagnose(*args, **kwargs):
    if any(not 0 <= a < float("inf") for a in args):
        while True:  # forgot to raise: loops forever on a bad input
            pass
    return _solved_diagnose(*args, **kwargs)"""
WARNS = """
import warnings

_solved_diagnose = diagnose


def diagnose(*args, **kwargs):
    warnings.warn("diagnose() is slow on large inputs")
    return _solved_diagnose(*args, **kwargs)"""
LOGS_TO_STDERR = f"""
import logging

_solved_decomposition = bias_variance_decomposition


def bias_variance_decomposition(*args, **kwargs):
    logging.getLogger("fixture").warning({TF_LINE!r})
    return _solved_decomposition(*args, **kwargs)"""


PLANTS_LINKS = """
import posix

_notebook = "{assignment}" + ".ip" + "ynb"
for _name, _target in (("stolen.txt", {secret!r}), ("made.txt", {made!r})):
    try:
        posix.symlink(_target, _name)
    except OSError:
        pass
try:
    posix.unlink(_notebook)  # nbgrader writes the graded notebook here, as root
except OSError:
    pass
try:
    posix.symlink({made!r}, _notebook)
    posix.mkfifo("fifo")
except OSError:
    pass"""
FILLS_DISK = """
_block = bytes(1 << 20)
for _i in range(3):
    try:
        with open(f"big{_i}.bin", "wb") as _file:
            for _ in range(400):
                _file.write(_block)
    except OSError:
        pass
print("x" * 20_000_000)"""
PRINTS_TESTS = """
_solved_diagnose = diagnose
_seen = []


def diagnose(*args, **kwargs):
    if len(_seen) < 2:
        _seen.append(In[-1])  # the running cell: a test cell, hidden tests included
        print(In[-1])
    return _solved_diagnose(*args, **kwargs)"""
READS_TESTS = """
print(repr(_seen))
try:
    print(open("{assignment}" + ".ip" + "ynb").read())
except OSError as _error:
    print("no notebook here:", type(_error).__name__)"""


def host_files(course: Path) -> Path:
    """A folder of the grading machine beside the course, which the attacks aim at."""
    return course.with_name(course.name + "-host")


def host_state(course: Path) -> dict[str, tuple[bytes, int]]:
    """Content and mode of every host file and of the instructor's notebook."""
    files = [p for p in sorted(host_files(course).iterdir()) if not p.is_symlink()]
    files.append(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return {str(p): (p.read_bytes(), p.stat().st_mode) for p in files}


def _flipped(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cases = nb.cells[_index(nb, "test_diagnose_cases")]
    cases.metadata.nbgrader["solution"] = True  # as if students could edit the test
    cases.source = '"""Check the diagnoses."""\npass'
    nb.cells[_index(nb, "test_diagnose_errors")].metadata.nbgrader["grade"] = False
    choice = nb.cells[_index(nb, "test_best_polynomial_degree_choice")]
    choice.cell_type = "markdown"
    del choice["outputs"], choice["execution_count"]
    return nb


def _edited(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    errors = nb.cells[_index(nb, "test_diagnose_errors")]
    errors.source = "pass"
    errors.metadata.nbgrader["checksum"] = "0" * 32
    cases = nb.cells[_index(nb, "test_diagnose_cases")]
    cases.source = "pass"
    del cases.metadata["nbgrader"]
    return nb


def _odd(nb: nbformat.NotebookNode) -> str:
    raw = json.loads(_text(nb))
    raw["metadata"]["kernelspec"] = "python3"
    raw["cells"][_index(nb, "test_diagnose_cases")]["metadata"]["nbgrader"] = ["grade", True]
    return json.dumps(raw)


def notebooks(course: Path) -> dict[str, nbformat.NotebookNode | str]:
    """Each case's notebook (or its text, when it is no valid notebook), for ``course``."""
    solved = solved_release(COURSE, ASSIGNMENT)
    release = nbformat.read(ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    last = "best_polynomial_degree"
    subs: dict[str, nbformat.NotebookNode | str] = {
        "correct": solved, "release": release,
        "partial": _append(solved, "diagnose", WRONG_DIAGNOSE),
        "syntax-error": _append(solved, "diagnose", "def broken(:\n    pass"),
        "infinite-loop": _append(solved, "diagnose", LOOPS_ON_BAD_INPUT),
        "sys-exit": _append(solved, last, "import sys\n\nsys.exit()"),
        "os-exit": _append(solved, last, "import os\n\nos._exit(1)"),
        "kernel-crash": _append(solved, last, "import ctypes\n\nctypes.string_at(0)"),
        "noisy-correct": _append(_append(solved, "diagnose", WARNS),
                                 "bias_variance_decomposition", LOGS_TO_STDERR),
        "renamed": solved, "wrong-folder": solved, "zipped": solved,
        "flipped-flags": _flipped(_append(solved, "diagnose", WRONG_DIAGNOSE)),
        "edited-metadata": _edited(_append(solved, "diagnose", WRONG_DIAGNOSE)),
        "plants-links": _append(solved, last, PLANTS_LINKS.format(
            assignment=ASSIGNMENT, secret=str(host_files(course) / "secret.txt"),
            made=str(host_files(course) / "made-by-the-grader.txt"))),
        "fills-disk": _append(solved, last, FILLS_DISK),
        "leaks-hidden-tests": _append(_append(solved, "diagnose", PRINTS_TESTS), last,
                                      READS_TESTS.format(assignment=ASSIGNMENT)),
        "odd-metadata": _odd(solved),
        "deep-json": '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "link-extra": solved, "link-notebook": solved, "link-folder": solved,
    }
    nb = copy.deepcopy(solved)
    cell = nb.cells[_index(nb, "bias_variance_decomposition")]
    cell.source = "import reglab_helpers_i_had_at_home\n\n" + cell.source
    subs["import-error"] = nb

    nb = copy.deepcopy(solved)
    for grade_id in ("setup", "test_diagnose_cases"):
        del nb.cells[_index(nb, grade_id)]
    subs["deleted-cells"] = nb

    nb = _append(solved, "diagnose", WRONG_DIAGNOSE)
    nb.cells[_index(nb, "test_diagnose_cases")].source = '"""Check the diagnoses."""\npass'
    errors = nb.cells[_index(nb, "test_diagnose_errors")]
    errors.source = "\n".join("# " + line for line in errors.source.splitlines())
    subs["edited-tests"] = nb

    nb = copy.deepcopy(solved)
    at = _index(nb, "test_diagnose_cases")
    nb.cells.insert(at + 1, copy.deepcopy(nb.cells[at]))  # same metadata and cell id
    at = _index(nb, "test_best_polynomial_degree_curves")  # split in two
    lines = nb.cells[at].source.splitlines()
    second = copy.deepcopy(nb.cells[at])
    nb.cells[at].source, second.source = "\n".join(lines[:6]), "\n".join(lines[6:])
    second.id = "split-2"
    nb.cells.insert(at + 1, second)
    subs["copied-cells"] = nb

    nb = copy.deepcopy(solved)
    test = nb.cells.pop(_index(nb, "test_bias_variance_decomposition_values"))
    nb.cells.insert(_index(nb, "bias_variance_decomposition"), test)  # test before its code
    subs["reordered"] = nb

    text = _text(solved)
    subs["invalid-json"] = text[: len(text) // 2]

    old = copy.deepcopy(solved)
    old.nbformat_minor = 1
    for cell in old.cells:
        cell.pop("id")
    old.metadata.kernelspec = {"name": "conda-env-ml-py", "display_name": "ML (conda)",
                               "language": "python"}
    subs["old-format"] = old

    nb = copy.deepcopy(solved)
    nb.cells[_index(nb, "diagnose")].outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="x" * 2_000_000)]
    subs["huge-outputs"] = nb
    assert set(subs) == set(CASES), set(CASES) ^ set(subs)
    return subs


def _text(nb: nbformat.NotebookNode | str) -> str:
    return nb if isinstance(nb, str) else json.dumps(nb, indent=1)  # as is: not validated


def _links(course: Path) -> None:
    """The submissions that link to the instructor's files (their notebook, the gradebook)."""
    source = course / "solutions" / ASSIGNMENT
    extra = course / "submitted" / "link-extra" / ASSIGNMENT
    (extra / "solution.ipynb").symlink_to(source / f"{ASSIGNMENT}.ipynb")
    (extra / "gradebook.db").symlink_to(course / "gradebook.db")
    notebook = course / "submitted" / "link-notebook" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook.unlink()
    notebook.symlink_to(source / f"{ASSIGNMENT}.ipynb")
    folder = course / "submitted" / "link-folder" / ASSIGNMENT
    shutil.rmtree(folder)
    folder.symlink_to(source, target_is_directory=True)


def write_course(course: Path) -> Path:
    """A fresh course directory with every case submitted; returns the zip to collect."""
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, course / folder / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    host = host_files(course)
    host.mkdir()
    (host / "secret.txt").write_text("the grading machine's secret")
    os.chmod(host / "secret.txt", 0o600)
    (host / "kept.txt").write_text("a file of the grading machine")
    archive = course / "lms-download.zip"
    solved = _text(solved_release(COURSE, ASSIGNMENT))
    with zipfile.ZipFile(archive, "w") as zipped:
        for student, nb in notebooks(course).items():
            if student in ZIPPED:
                zipped.writestr(ZIPPED[student], _text(nb))
                continue
            path = course / "submitted" / student / PATHS.get(
                student, f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_text(nb))
        for student in UNSAFE_IDS:
            zipped.writestr(f"{student}_{ASSIGNMENT}.ipynb", solved)
            path = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            path.parent.mkdir(parents=True)
            path.write_text(solved)
        zipped.writestr("readme.txt", "exported by the learning platform")
    _links(course)
    return archive
