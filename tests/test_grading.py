"""The instructor's grading commands (reglab.grader) on awkward submissions.

The slow tests share one pooled run that collects a zip and grades every fixture of
tests/support/fixtures.py with the real nbgrader (in the sandbox when it works here), the
attacks on the grading machine among them, beside honest students; the fast ones check
the preflight, the preprocessors, the command line and the student distribution.
"""

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from reglab import grader, markers
from reglab.course import ROOT
from reglab.nbgrader_ext import ClearTestOutputs, LimitOutputBytes, quoted
from tests.support import fixtures as fx
from tests.support.common import COURSE, require_sandbox

FAILED = sorted(s for s, case in fx.CASES.items() if case.failed)


def slow(test):
    """Mark a test that grades: slow, and on the xdist worker that holds the pooled run."""
    return pytest.mark.slow(pytest.mark.xdist_group("grading")(test))


def _submitted(course: Path) -> dict[str, bytes]:
    """Every regular file of submitted/, and where every link there points."""
    found = {}
    for root, dirs, files in os.walk(course / "submitted"):  # follows no link
        for path in (Path(root, name) for name in dirs + files):
            if path.is_symlink():
                found[str(path.relative_to(course))] = os.readlink(path).encode()
            elif path.is_file():
                found[str(path.relative_to(course))] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """Every fixture collected and graded once, in one pool of two workers."""
    require_sandbox()
    course = tmp_path_factory.mktemp("course")
    archive = fx.write_course(course)
    host = fx.host_state(course)
    lines: list[str] = []
    start = time.perf_counter()
    collected = grader.collect_zip(fx.ASSIGNMENT, archive, course, echo=lines.append)
    submitted = _submitted(course)
    outcomes = grader.grade(fx.ASSIGNMENT, course, workers=2, cell_timeout=fx.CELL_TIMEOUT,
                            submission_timeout=180,
                            echo=lines.append)
    print("\n".join(lines), f"\ncollected and graded in {time.perf_counter() - start:.0f} s")
    return {"course": course, "collected": collected, "lines": lines, "host": host,
            "submitted": submitted,
            "outcomes": {o.student: o for o in outcomes}}


@pytest.mark.parametrize("student", list(fx.CASES))
@slow
def test_each_submission_gets_a_fair_score_and_a_clear_line(graded, student):
    case, outcome = fx.CASES[student], graded["outcomes"][student]
    line = next(ln for ln in graded["lines"] if f"] {student} " in ln)
    assert outcome.auto_score == case.auto, line
    assert outcome.auto_max == fx.AUTO_MAX, line
    assert bool(outcome.failed) == case.failed, line
    assert case.note in line, line
    if not case.note:
        assert line.rstrip().endswith(" s"), f"a problem reported for a clean submission: {line}"


@slow
def test_grading_reports_progress_and_a_summary(graded):
    lines = graded["lines"]
    progress = [ln for ln in lines if re.match(r"\[\s*\d+/\d+\] ", ln)]
    assert len(progress) == len(fx.CASES)
    summary = next(ln for ln in lines if ln.startswith("==> Graded"))
    assert f"Graded {len(fx.CASES) - len(FAILED)} of {len(fx.CASES)}" in summary
    assert f"{len(FAILED)} failed and scored 0, review by hand: {', '.join(FAILED)}" in summary


@slow
def test_zip_collect_puts_each_notebook_where_nbgrader_expects_it(graded):
    course = graded["course"]
    assert set(graded["collected"]) == {"zipped"}
    assert graded["collected"]["zipped"] == [f"moved {fx.ASSIGNMENT}/Copy of {fx.ASSIGNMENT}"
                                             f".ipynb to {fx.ASSIGNMENT}/{fx.ASSIGNMENT}.ipynb"]
    folder = course / "submitted" / "zipped" / fx.ASSIGNMENT
    assert [p.name for p in folder.glob("*.ipynb")] == [f"{fx.ASSIGNMENT}.ipynb"]
    assert "  skipped readme.txt: not a notebook (.txt)" in graded["lines"]


@slow
def test_unsafe_student_ids_are_never_graded(graded):
    """Ids such as "*" (nbgrader's glob: every student) or one with a line break (a forged
    CSV row) enter neither from the zip nor from submitted/; the others are graded in full."""
    course, lines = graded["course"], graded["lines"]
    assert any("Skipped 2 folder(s) of submitted/ not named by a safe student id" in ln
               and repr(fx.UNSAFE_IDS[1]) in ln for ln in lines)
    assert not [ln for ln in "\n".join(lines).splitlines() if ln.startswith("mallory")]
    assert not set(fx.UNSAFE_IDS) & set(graded["outcomes"])
    with grader.open_gradebook(course) as gb:
        assert sorted(s.id for s in gb.students) == sorted(fx.CASES)
    for student, case in fx.CASES.items():
        graded_nb = course / "autograded" / student / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.ipynb"
        assert graded_nb.exists() != case.failed, student


@slow
def test_submitted_stays_as_the_students_handed_it_in(graded):
    """The repairs are made to the copy that is graded, never to submitted/."""
    assert _submitted(graded["course"]) == graded["submitted"]
    repaired = [s for s, case in fx.CASES.items() if case.note.startswith(
        ("restored", "graded", "cell", "upgraded", "cleared", "kernel"))]
    assert len(repaired) >= 8, repaired


@slow
def test_manual_grades_survive_a_regrade(graded):
    """nbgrader keeps manual scores and comments on autograde; so does a failed regrade. A
    cell graded by hand is neither flagged "needs manual grade" again nor counted as pending."""
    course = graded["course"]
    with grader.open_gradebook(course) as gb:
        answer = gb.find_grade("curves_answer", fx.ASSIGNMENT, fx.ASSIGNMENT, "partial")
        answer.manual_score = 1.5
        override = gb.find_grade("test_diagnose_errors", fx.ASSIGNMENT, fx.ASSIGNMENT, "partial")
        override.manual_score = 0.5
        comment = gb.find_comment("diagnose", fx.ASSIGNMENT, fx.ASSIGNMENT, "partial")
        comment.manual_comment = "Read the strict > in the question again."
        crashed = gb.find_grade("curves_answer", fx.ASSIGNMENT, fx.ASSIGNMENT, "kernel-crash")
        crashed.manual_score = 2.0
        for grade in (answer, override, crashed):  # as the formgrader saves a manual grade
            grade.needs_manual_grade = False
        gb.db.commit()
    lines: list[str] = []
    outcomes = grader.grade(fx.ASSIGNMENT, course, workers=2, cell_timeout=fx.CELL_TIMEOUT,
                            submission_timeout=180,
                            students=["partial", "kernel-crash"], echo=lines.append)
    by_student = {o.student: o for o in outcomes}
    with grader.open_gradebook(course) as gb:
        def grade(name, student):
            return gb.find_grade(name, fx.ASSIGNMENT, fx.ASSIGNMENT, student)

        assert grade("curves_answer", "partial").manual_score == 1.5
        assert grade("test_diagnose_errors", "partial").manual_score == 0.5
        assert grade("test_diagnose_errors", "partial").auto_score == 0
        assert gb.find_comment("diagnose", fx.ASSIGNMENT, fx.ASSIGNMENT, "partial") \
            .manual_comment == "Read the strict > in the question again."
        assert grade("curves_answer", "kernel-crash").manual_score == 2.0
        for name, student in (("curves_answer", "partial"), ("test_diagnose_errors", "partial"),
                              ("curves_answer", "kernel-crash")):
            assert not grade(name, student).needs_manual_grade, (name, student)
        assert grade("test_diagnose_cases", "kernel-crash").needs_manual_grade
    assert by_student["partial"].manual_pending == 0
    assert not [ln for ln in lines if "to grade by hand" in ln], lines
    assert by_student["partial"].score == 7 + 1.5 + 0.5
    assert by_student["partial"].auto_score == 7
    assert by_student["kernel-crash"].failed and by_student["kernel-crash"].score == 2.0


@slow
def test_feedback_holds_no_hidden_test(graded):
    course = graded["course"]
    pages = grader.feedback(fx.ASSIGNMENT, course, echo=lambda line: None)
    assert {p.parent.parent.name for p in pages} == set(fx.CASES) - set(FAILED)
    hidden = grader.hidden_test_lines(COURSE, fx.ASSIGNMENT, min_length=12)
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]*>", "", page.read_text()))
        assert "HIDDEN TESTS" not in text, page
        leaked = quoted(hidden, text)  # also when printed escaped (repr) or rewrapped
        assert not leaked, f"{page}: {leaked[:3]}"
        assert "Score" in text or "score" in text


@slow
def test_code_that_prints_hidden_tests_leaks_nothing_into_feedback(graded):
    """The graded function printed the running cell (``In[-1]``), a later cell printed it
    again, and tried to read the notebook in the kernel's folder (which holds the restored
    hidden tests). Test cells run in the grader: the kernel never had a hidden test to print,
    and the notebook was not there to read. Neither the graded copy nor the feedback quotes one."""
    course, student = graded["course"], "leaks-hidden-tests"
    hidden = grader.hidden_test_lines(COURSE, fx.ASSIGNMENT, min_length=12)
    graded_nb = course / "autograded" / student / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.ipynb"
    outputs = "\n".join(o.get("text", "") for c in nbformat.read(graded_nb, 4).cells
                        for o in c.get("outputs", []))
    assert "no notebook here: FileNotFoundError" in outputs, "the attack did not run"
    assert not quoted(hidden, outputs), "the student's kernel saw a hidden test"
    page = course / "feedback" / student / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.html"
    text = html.unescape(re.sub(r"<[^>]*>", "", page.read_text()))
    assert not quoted(hidden, text)


@slow
def test_no_host_file_is_created_or_changed(graded):
    """Links planted by the kernel (its notebook turned into a link to a host path, a link
    to a host file of mode 0600, a FIFO) and links in submitted/ reach nothing on the host:
    each host file keeps its content and mode, none is created, none is copied."""
    course = graded["course"]
    assert fx.host_state(course) == graded["host"]
    assert sorted(p.name for p in fx.host_files(course).iterdir()) == ["kept.txt", "secret.txt"]
    for folder in ("autograded", "feedback"):
        found = [p for p in (course / folder).rglob("*") if p.is_symlink() or p.is_fifo()
                 or p.name in ("stolen.txt", "made.txt", "solution.ipynb", "gradebook.db")]
        assert not found, found
    assert graded["outcomes"]["plants-links"].auto_score == fx.AUTO_MAX


@slow
def test_outputs_and_files_stay_small(graded):
    """A 20 MB line of output is cut to the cap per cell; 3 x 400 MiB files written in the
    working folder stay in the sandbox (its folder is capped) and never reach autograded/."""
    folder = graded["course"] / "autograded" / "fills-disk" / fx.ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == [f"{fx.ASSIGNMENT}.ipynb"]
    graded_nb = folder / f"{fx.ASSIGNMENT}.ipynb"
    assert graded_nb.stat().st_size < 2 * LimitOutputBytes().max_bytes
    assert "output cut: a cell keeps" in graded_nb.read_text()


@slow
def test_export_has_a_row_per_student(graded):
    target = grader.export(graded["course"], echo=lambda line: None)
    assert target == graded["course"] / "grades" / "grades.csv"
    with open(target) as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["student_id"] for r in rows) == sorted(fx.CASES)
    scores = {r["student_id"]: float(r["raw_score"]) for r in rows}
    assert scores["invalid-json"] == 0 and scores["correct"] >= fx.AUTO_MAX


@slow
def test_report_saves_figures_and_prints_a_table(graded):
    lines: list[str] = []
    figures = grader.report(fx.ASSIGNMENT, graded["course"], echo=lines.append)
    assert [f.name for f in figures] == [f"{fx.ASSIGNMENT}_pass_rates.png",
                                         f"{fx.ASSIGNMENT}_scores.png"]
    for figure in figures:
        assert figure.parent == graded["course"] / "grades"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = "\n".join(lines)
    assert "test_diagnose_errors" in table and "%" in table
    for student in fx.CASES:
        assert f"  {student} " in table
    assert "FAILED: the kernel died" in table


# --- fast: no kernel runs ---------------------------------------------------------------------

def test_preflight_repairs_and_leaves_the_graded_cells_in_release_order(tmp_path):
    fx.write_course(tmp_path)
    release = nbformat.read(tmp_path / "exercises" / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.ipynb", 4)
    order = [c.metadata["nbgrader"]["grade_id"] for c in release.cells if "nbgrader" in c.metadata]
    assert grader.unsafe_folders(tmp_path) == sorted(fx.UNSAFE_IDS)
    for student in grader.students_with_submissions(tmp_path, fx.ASSIGNMENT):
        if fx.CASES[student].failed and fx.CASES[student].note.startswith(("not", "link")):
            with pytest.raises(grader.BadSubmission, match=re.escape(fx.CASES[student].note)):
                grader.preflight(tmp_path, fx.ASSIGNMENT, student)
            continue
        files, notes = grader.preflight(tmp_path, fx.ASSIGNMENT, student)
        text = files[f"{fx.ASSIGNMENT}.ipynb"].decode()
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert ids == order, f"{student}: {ids}"
        assert len({c.id for c in nb.cells}) == len(nb.cells)
        assert nb.metadata.kernelspec.name == "python3"
        if fx.CASES[student].note.startswith(("moved", "restored", "cell", "graded", "upgraded",
                                              "cleared", "kernel")):
            assert fx.CASES[student].note in "; ".join(notes), student
        _, again = grader.repair_notebook(text, release)
        assert again == [], f"{student}: the repaired notebook still needs {again}"


def test_feedback_shows_no_test_output_and_no_quote_of_a_hidden_test():
    test = nbformat.v4.new_code_cell(
        'check(f(1))\n### BEGIN HIDDEN TESTS\n_x = secret_input_of_the_tests()\ncheck(f(_x))\n'
        '### END HIDDEN TESTS', metadata={"nbgrader": {"grade": True, "solution": False}})
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text=test.source),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="f is wrong",
                                           traceback=["---> 4 check(f(_x))"])]
    later = nbformat.v4.new_code_cell("print(seen)")
    later.outputs = [nbformat.v4.new_output("stream", name="stdout", text="kept\n"),
                     nbformat.v4.new_output("stream", name="stdout",
                                            text=repr(["_x = secret_input_of_the_tests()"]))]
    nb = nbformat.v4.new_notebook(cells=[test, later])
    nb, _ = ClearTestOutputs().preprocess(nb, {})
    assert nb.cells[0].outputs == []
    assert [o.text for o in nb.cells[1].outputs] == [
        "kept\n", "(output removed: it quotes a hidden test)\n"]


def test_outputs_are_capped_per_cell_but_errors_and_stderr_kept():
    cell = nbformat.v4.new_code_cell("print('x' * 5_000_000)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 5_000_000),
        nbformat.v4.new_output("display_data", data={"image/png": "A" * 100_000}),
        nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="e" * 200_000,
                               traceback=["t" * 200_000])]
    cell, _ = LimitOutputBytes(max_bytes=1000).preprocess_cell(cell, {}, 0)
    kinds = [(o.output_type, o.get("name", o.get("ename"))) for o in cell.outputs]
    assert kinds == [("stream", "stdout"), ("display_data", None), ("stream", "stderr"),
                     ("error", "AssertionError")]
    assert len(json.dumps(cell.outputs)) < 3000
    assert "output cut" in cell.outputs[0].text and "image/png" not in cell.outputs[1].data


def test_unsafe_student_ids_are_refused_by_grade_and_export(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    for folder in ("solutions", "exercises"):
        (tmp_path / folder / fx.ASSIGNMENT).mkdir(parents=True)
    with pytest.raises(grader.GradingError, match=r"not a student id: '\*'"):
        grader.grade(fx.ASSIGNMENT, tmp_path, students=["*"], sandbox=False)
    with grader.open_gradebook(tmp_path) as gb:
        gb.add_student("victim\nmallory")
    with pytest.raises(grader.GradingError, match=r"'victim\\nmallory'"):
        grader.export(tmp_path, echo=lambda line: None)
    assert not (tmp_path / "grades" / "grades.csv").exists()
    assert [grader.safe_id(s) for s in ("s1234567", "jane.doe@uni.edu", "ab_c-d", "*",
                                        "a\nb", "-rf", ".hidden", "a b", "a/b", "a,b")] == \
        [True, True, True, False, False, False, False, False, False, False]


def test_secret_lines_cover_hidden_tests_only_when_asked():
    hidden = grader.secret_lines(COURSE, fx.ASSIGNMENT, regions=("HIDDEN TESTS",))
    everything = grader.secret_lines(COURSE, fx.ASSIGNMENT)
    assert hidden and hidden < everything


def test_command_line_says_what_went_wrong():
    run = [sys.executable, "-m", "reglab.grader"]
    done = subprocess.run(run + ["--help"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0
    for command in ("collect-zip", "grade", "feedback", "export", "report", "distribute"):
        assert command in done.stdout
    done = subprocess.run(run + ["grade", "99_nothing", "--no-sandbox"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 1
    assert "unknown assignment '99_nothing'" in done.stderr and "01_bias_variance" in done.stderr


def test_grading_stops_with_advice_when_the_sandbox_cannot_run(monkeypatch):
    sandbox = pytest.importorskip("reglab.sandbox")

    def broken() -> None:
        raise RuntimeError("the grading sandbox needs bwrap")

    monkeypatch.setattr(sandbox, "check", broken)
    with pytest.raises(grader.GradingError, match="needs bwrap(.|\n)*--no-sandbox"):
        grader.sandbox_args(True)
    assert grader.sandbox_args(False) == []


def test_distribution_has_no_solution_test_or_secret(tmp_path):
    dest = grader.distribute(COURSE, tmp_path / "student-repo", echo=lambda line: None)
    top = {p.name for p in dest.iterdir()}
    assert {"chapters", "exercises", "reglab", "docs", "README.md", "requirements.txt",
            "Makefile"} <= top
    assert not top & {"solutions", "tests", "authoring", "_build", ".venv", ".git"}
    assert {"binder", "tasks.py", "requirements-student.txt"} <= top, "students set up alone"
    assert (dest / ".github" / "workflows" / "publish.yml").is_file(), "it publishes the site"
    assert "student repository" in (dest / "README.md").read_text(), "the students' README"
    assert (dest / "exercises" / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.ipynb").exists()
    public = "\n".join(grader.notebook_text(p) for p in (ROOT / "exercises").glob("*/*.ipynb"))
    secrets = {line for a in COURSE.assignments() for line in grader.secret_lines(COURSE, a)
               if line not in public}  # hidden in one assignment, shown by another's release
    assert len(secrets) > 100
    for path in (p for p in dest.rglob("*") if p.is_file() and p.suffix != ".png"):
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            text = grader.notebook_text(path)
        assert not [line for line in secrets if line in text], path
        if path.suffix == ".ipynb":
            assert not markers.ANY.search(text), path
    with pytest.raises(grader.GradingError, match="not empty"):
        grader.distribute(COURSE, dest, echo=lambda line: None)


def test_simulate_class_lays_out_submissions(tmp_path):
    grader.simulate_class(COURSE, fx.ASSIGNMENT, 4, tmp_path / "class")
    students = grader.students_with_submissions(tmp_path / "class", fx.ASSIGNMENT)
    assert students == [f"student{i:03d}" for i in range(4)]
    assert Path(tmp_path / "class" / "nbgrader_config.py").exists()


def test_feedback_checks_the_hidden_tests_of_the_course_it_grades(tmp_path):
    """A course folder other than this repository, with an assignment this one lacks."""
    name = "01_renamed"
    for folder in ("solutions", "exercises"):
        (tmp_path / folder / name).mkdir(parents=True)
        shutil.copy(ROOT / folder / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.ipynb",
                    tmp_path / folder / name / f"{name}.ipynb")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    hidden = grader.hidden_test_lines(grader.Course(tmp_path), name, min_length=12)
    assert hidden and hidden == grader.hidden_test_lines(COURSE, fx.ASSIGNMENT, min_length=12)


def test_a_submission_too_large_to_grade_is_refused_with_its_size(tmp_path):
    fx.write_course(tmp_path)
    with open(tmp_path / "submitted" / "correct" / fx.ASSIGNMENT / "weights.bin", "wb") as out:
        out.truncate(grader.MAX_SUBMISSION_BYTES + 1)  # sparse: no disk used
    with pytest.raises(grader.BadSubmission, match=r"256 MiB of files, over the limit"):
        grader.preflight(tmp_path, fx.ASSIGNMENT, "correct")
