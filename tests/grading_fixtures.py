"""Awkward submissions of one cheap assignment, generated from the committed notebooks.

Each case is the solved release (``reglab.grader.solved_release``) or the release, changed
the way a student's notebook goes wrong: broken code, crashes, damaged or moved cells,
a misnamed or misplaced file, old formats, noisy but correct answers. ``CASES`` says what
grading must give each one; :func:`write_course` lays them out in a fresh course directory,
one of them inside a learning platform's zip.
"""

import copy
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from reglab.course import ROOT
from reglab.grader import solved_release

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
    "sys-exit": Case(0, "imports over sys); review by hand"),  # refused by the tamper scan
    "os-exit": Case(0, "the kernel died", failed=True),
    "kernel-crash": Case(0, "the kernel died", failed=True),
    "deleted-cells": Case(10, "restored deleted cell setup; restored deleted cell "
                              "test_diagnose_cases"),
    "edited-tests": Case(7, "failed test_diagnose_cases, test_diagnose_errors"),
    "copied-cells": Case(10, "cell a copy of test_diagnose_cases kept as plain code; cell a "
                             "copy of test_best_polynomial_degree_curves kept as plain code"),
    "reordered": Case(10, "graded cells out of order: restored the release order"),
    "renamed": Case(10, f"moved {ASSIGNMENT}/Copy of {ASSIGNMENT}.ipynb to "
                        f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
    "wrong-folder": Case(10, f"moved {ASSIGNMENT}.ipynb to {ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
    "invalid-json": Case(0, "not a notebook: invalid JSON", failed=True),
    "old-format": Case(10, "upgraded nbformat 4.1 to 4.5; kernel 'conda-env-ml-py' set to "
                           "python3"),
    "noisy-correct": Case(10),  # warns, and logs a TensorFlow-like line to stderr
    "huge-outputs": Case(10, "cleared 2.0 MB of outputs"),
    "zipped": Case(10),  # collected from a zip, where its notebook is "Copy of ..."
}
ZIPPED = {"zipped": f"zipped_Copy of {ASSIGNMENT}.ipynb"}
PATHS = {"renamed": f"{ASSIGNMENT}/Copy of {ASSIGNMENT}.ipynb",
         "wrong-folder": f"{ASSIGNMENT}.ipynb"}


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


def notebooks() -> dict[str, nbformat.NotebookNode | str]:
    """Each case's notebook (or, for the invalid one, its text)."""
    solved = solved_release(ASSIGNMENT)
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


def write_course(course: Path) -> Path:
    """A fresh course directory with every case submitted; returns the zip to collect."""
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, course / folder / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    archive = course / "lms-download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for student, nb in notebooks().items():
            if student in ZIPPED:
                zipped.writestr(ZIPPED[student], _text(nb))
                continue
            path = course / "submitted" / student / PATHS.get(
                student, f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_text(nb))
        zipped.writestr("readme.txt", "exported by the learning platform")
    return archive
