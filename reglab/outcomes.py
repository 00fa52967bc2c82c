"""What grading one submission gave: its scores (from the gradebook), why it failed, what its
tests ran into; and the outcomes of a run, kept in grading/<assignment>/outcomes.json."""

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from reglab.gradebook import WORK

SANDBOX_DOWN = "the grading sandbox could not start"  # an instructor-side failure


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


def failure_reason(log: str) -> str:
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


def cell_notes(course: Path, assignment: str, student: str, cell_timeout: float | None
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


def read_outcome(gb, outcome: Outcome, assignment: str) -> None:
    """Fill the scores of ``outcome`` from the gradebook."""
    sub = gb.find_submission(assignment, outcome.student)
    outcome.score, outcome.max_score = float(sub.score), float(sub.max_score)
    grades = [g for nb in sub.notebooks for g in nb.grades]
    auto = [g for g in grades if g.cell.cell_type == "code"]
    outcome.auto_score = float(sum(g.auto_score or 0 for g in auto))
    outcome.auto_max = float(sum(g.max_score for g in auto))
    outcome.manual_pending = float(sum(g.max_score for g in grades if g.needs_manual_grade))


def record_zero(gb, assignment: str, student: str) -> None:
    """Score a submission nbgrader could not grade 0 (manual grades kept), flagged for review
    but for the cells already graded by hand."""
    gb.update_or_create_student(student)
    sub = gb.update_or_create_submission(assignment, student)
    for notebook in sub.notebooks:
        for grade in notebook.grades:
            grade.auto_score = 0.0
            grade.needs_manual_grade = grade.manual_score is None
    gb.db.commit()


def save_outcomes(course: Path, assignment: str, outcomes: list[Outcome]) -> None:
    path = course / WORK / assignment / "outcomes.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved.update({o.student: asdict(o) for o in outcomes})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
