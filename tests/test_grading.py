"""The instructor's grading commands (reglab.grader) on awkward submissions.

The slow tests share one pooled run that collects a zip and grades every fixture of
tests/grading_fixtures.py with the real nbgrader (in the sandbox when it works here);
the fast ones check the preflight, the command line and the student distribution.
"""

import csv
import html
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from reglab import grader
from reglab.course import ROOT
from tests import grading_fixtures as fx


def slow(test):
    """Mark a test that grades: slow, and on the xdist worker that holds the pooled run."""
    return pytest.mark.slow(pytest.mark.xdist_group("grading")(test))


def _sandbox_works() -> bool:
    try:
        from reglab import sandbox

        sandbox.check()
    except (ImportError, RuntimeError):
        return False
    return True


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """Every fixture collected and graded once, in one pool of two workers."""
    course = tmp_path_factory.mktemp("course")
    archive = fx.write_course(course)
    lines: list[str] = []
    start = time.perf_counter()
    collected = grader.collect_zip(fx.ASSIGNMENT, archive, course, echo=lines.append)
    outcomes = grader.grade(fx.ASSIGNMENT, course, workers=2, cell_timeout=fx.CELL_TIMEOUT,
                            submission_timeout=180, sandbox=_sandbox_works(),
                            echo=lines.append)
    print("\n".join(lines), f"\ncollected and graded in {time.perf_counter() - start:.0f} s")
    return {"course": course, "collected": collected, "lines": lines,
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
    assert f"Graded {len(fx.CASES) - 3} of {len(fx.CASES)}" in summary
    assert "3 failed and scored 0, review by hand: invalid-json, kernel-crash, os-exit" in summary


@slow
def test_zip_collect_puts_each_notebook_where_nbgrader_expects_it(graded):
    course = graded["course"]
    assert set(graded["collected"]) == {"zipped"}
    assert graded["collected"]["zipped"] == [f"moved {fx.ASSIGNMENT}/Copy of {fx.ASSIGNMENT}"
                                             f".ipynb to {fx.ASSIGNMENT}/{fx.ASSIGNMENT}.ipynb"]
    folder = course / "submitted" / "zipped" / fx.ASSIGNMENT
    assert [p.name for p in folder.glob("*.ipynb")] == [f"{fx.ASSIGNMENT}.ipynb"]
    assert any("skipped, the name does not match the pattern: readme.txt" in ln
               for ln in graded["lines"])


@slow
def test_repairs_keep_the_original(graded):
    originals = graded["course"] / grader.WORK / fx.ASSIGNMENT / "originals"
    kept = {p.relative_to(originals).parts[0] for p in originals.rglob("*.ipynb")}
    assert {"deleted-cells", "copied-cells", "reordered", "old-format", "huge-outputs"} <= kept
    assert "correct" not in kept


@slow
def test_manual_grades_survive_a_regrade(graded):
    """nbgrader keeps manual scores and comments on autograde; so does a failed regrade."""
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
        gb.db.commit()
    outcomes = grader.grade(fx.ASSIGNMENT, course, workers=2, cell_timeout=fx.CELL_TIMEOUT,
                            submission_timeout=180, sandbox=_sandbox_works(),
                            students=["partial", "kernel-crash"], echo=lambda line: None)
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
    assert by_student["partial"].score == 7 + 1.5 + 0.5
    assert by_student["partial"].auto_score == 7
    assert by_student["kernel-crash"].failed and by_student["kernel-crash"].score == 2.0


@slow
def test_feedback_holds_no_hidden_test(graded):
    course = graded["course"]
    pages = grader.feedback(fx.ASSIGNMENT, course, echo=lambda line: None)
    failed = {s for s, case in fx.CASES.items() if case.failed}
    assert {p.parent.parent.name for p in pages} == set(fx.CASES) - failed
    hidden = grader.secret_lines(fx.ASSIGNMENT, min_length=12, regions=("HIDDEN TESTS",))
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]*>", "", page.read_text()))
        assert "HIDDEN TESTS" not in text, page
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{page}: {leaked[:3]}"
        assert "Score" in text or "score" in text


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
    for student in grader.students_with_submissions(tmp_path, fx.ASSIGNMENT):
        if student == "invalid-json":
            with pytest.raises(grader.BadSubmission, match="invalid JSON"):
                grader.preflight(tmp_path, fx.ASSIGNMENT, student, "now")
            continue
        path, notes = grader.preflight(tmp_path, fx.ASSIGNMENT, student, "now")
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert ids == order, f"{student}: {ids}"
        assert len({c.id for c in nb.cells}) == len(nb.cells)
        assert nb.metadata.kernelspec.name == "python3"
        if fx.CASES[student].note.startswith(("moved", "restored", "cell", "graded", "upgraded",
                                              "cleared")):
            assert fx.CASES[student].note in "; ".join(notes), student
        _, again = grader.preflight(tmp_path, fx.ASSIGNMENT, student, "later")
        assert again == [], f"{student}: a second preflight still repairs {again}"


def test_feedback_tracebacks_do_not_quote_hidden_tests():
    from reglab.nbgrader_ext import ClearHiddenTracebacks

    cell = nbformat.v4.new_code_cell(
        'check(f(1))\n### BEGIN HIDDEN TESTS\n_x = secret_input()\ncheck(f(_x))\n'
        '### END HIDDEN TESTS')
    frame = ("\x1b[36mCell\x1b[39m In[3], line 4\n\x1b[32m      1\x1b[39m check(f(1))\n"
             "\x1b[32m      2\x1b[39m \x1b[38;5;66m### BEGIN HIDDEN TESTS\x1b[39m\n"
             "\x1b[32m      3\x1b[39m _x = secret_input()\n"
             "\x1b[32m---> \x1b[39m\x1b[32m4\x1b[39m check(f(_x))\n")
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f is wrong",
                                           traceback=[frame, "AssertionError: f is wrong"])]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = ClearHiddenTracebacks().preprocess(nb, {})
    shown = "\n".join(nb.cells[0].outputs[0].traceback)
    assert "secret_input" not in shown and "HIDDEN" not in shown and "f(_x)" not in shown
    assert "check(f(1))" in shown and "---> 4 (hidden test)" in shown
    assert "AssertionError: f is wrong" in shown


def test_secret_lines_cover_hidden_tests_only_when_asked():
    hidden = grader.secret_lines(fx.ASSIGNMENT, regions=("HIDDEN TESTS",))
    everything = grader.secret_lines(fx.ASSIGNMENT)
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
    dest = grader.distribute(tmp_path / "student-repo", echo=lambda line: None)
    top = {p.name for p in dest.iterdir()}
    assert {"chapters", "exercises", "reglab", "docs", "README.md", "requirements.txt",
            "Makefile"} <= top
    assert not top & {"solutions", "tests", "authoring", "_build", ".venv", ".git"}
    assert (dest / "exercises" / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.ipynb").exists()
    public = "\n".join(grader.notebook_text(p) for p in (ROOT / "exercises").glob("*/*.ipynb"))
    secrets = {line for a in grader.known_assignments(ROOT) for line in grader.secret_lines(a)
               if line not in public}  # hidden in one assignment, shown by another's release
    assert len(secrets) > 100
    for path in (p for p in dest.rglob("*") if p.is_file() and p.suffix != ".png"):
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            text = grader.notebook_text(path)
        assert not [line for line in secrets if line in text], path
        if path.suffix == ".ipynb":
            assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, path
    with pytest.raises(grader.GradingError, match="not empty"):
        grader.distribute(dest, echo=lambda line: None)


def test_simulate_class_lays_out_submissions(tmp_path):
    grader.simulate_class(fx.ASSIGNMENT, 4, tmp_path / "class")
    students = grader.students_with_submissions(tmp_path / "class", fx.ASSIGNMENT)
    assert students == [f"student{i:03d}" for i in range(4)]
    assert Path(tmp_path / "class" / "nbgrader_config.py").exists()
