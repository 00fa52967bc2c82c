"""After grading: feedback (hidden tests cleared and checked), the CSV export, the report."""

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

from reglab.answers import hidden_test_lines
from reglab.coursedir import Course
from reglab.gradebook import (
    GRADES,
    WORK,
    GradingError,
    check_assignment,
    open_gradebook,
    run_nbgrader,
    safe_id,
    say,
    shown,
    students_with_submissions,
)
from reglab.nbgrader_ext import quoted


def _visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]*>", "", page))


def feedback(assignment: str, course_dir: Course | Path,
             echo: Callable[[str], None] = say) -> list[Path]:
    """Generate every graded student's feedback (hidden tests cleared) and check for leaks."""
    course = Course.of(course_dir).root
    check_assignment(course, assignment)
    run_nbgrader(course, ["generate_feedback", assignment, "--force", "--log-level=ERROR"],
              "generating feedback")
    pages = sorted((course / "feedback").glob(f"*/{assignment}/*.html"))
    hidden = hidden_test_lines(Course.of(course), assignment)
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


def export(course_dir: Course | Path, to: Path | None = None,
           echo: Callable[[str], None] = say) -> Path:
    """Export every grade of the gradebook to CSV with ``nbgrader export`` (grades/grades.csv)."""
    course = Course.of(course_dir).root
    with open_gradebook(course) as gb:
        unsafe = [repr(s.id) for s in gb.students if not safe_id(s.id)]
    if unsafe:
        raise GradingError(f"the gradebook holds student ids that are not safe in a CSV row: "
                           f"{', '.join(unsafe)}. Remove them (nbgrader db student remove, or "
                           "Gradebook.remove_student) and export again.")
    target = (course / GRADES / "grades.csv") if to is None else Path(to).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    run_nbgrader(course, ["export", f"--to={target}", "--log-level=ERROR"], "exporting grades")
    rows = len(target.read_text().splitlines()) - 1
    echo(f"==> Exported {rows} row(s) (one per student and assignment) to {target}")
    return target


def report(assignment: str, course_dir: Course | Path,
           echo: Callable[[str], None] = say) -> list[Path]:
    """Per-test-cell pass rates and the score histogram of ``assignment``: PNGs and a table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    course = Course.of(course_dir).root
    check_assignment(course, assignment)
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
