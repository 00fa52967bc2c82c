"""The grading engine: one task per submission on a Dask cluster (reglab/cluster.py),
its outcome read from the gradebook, a line per student and a summary."""

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from reglab import cluster, gradetask
from reglab.coursedir import Course
from reglab.gradebook import (
    WORK,
    GradingError,
    busy_url,
    check_assignment,
    course_config,
    open_gradebook,
    prepare_gradebook,
    safe_id,
    say,
    shown,
    students_with_submissions,
    unsafe_folders,
)
from reglab.nbgrader_ext import STUDENT_ID
from reglab.outcomes import (
    SANDBOX_DOWN,
    Outcome,
    cell_notes,
    failure_reason,
    read_outcome,
    record_zero,
    save_outcomes,
)
from reglab.preflight import BadSubmission, preflight

DEFAULT_SUBMISSION_TIMEOUT = 1800


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


def _task(course: Path, assignment: str, student: str, files: gradetask.Files, db_url: str,
          args: list[str], submission_timeout: float) -> gradetask.Task:
    """What a grading worker needs to grade one student (it need not see ``course``)."""
    source = course / "solutions" / assignment
    return gradetask.Task(
        assignment, student, files, (course / "nbgrader_config.py").read_text(), db_url,
        {k: v for k, v in gradetask.read_files(source).items() if not k.endswith(".ipynb")},
        tuple(args), submission_timeout)


def _finish(course: Path, assignment: str, outcome: Outcome, result: gradetask.Result | None,
            error: str, cell_timeout: float | None, submission_timeout: float) -> Outcome:
    """Store what a worker sent back for ``outcome``'s student and read the scores."""
    graded = course / "autograded" / outcome.student / assignment
    shutil.rmtree(graded, ignore_errors=True)
    if result is None:
        outcome.failed = error
    else:
        outcome.seconds = result.seconds
        log_path = course / WORK / assignment / "logs" / f"{outcome.student}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(result.log)
        if result.code is None:
            outcome.failed = f"stopped after {submission_timeout:g} s (the limit per submission)"
        elif result.code != 0:
            outcome.failed = failure_reason(result.log)
        else:
            gradetask.write_files(graded, result.autograded)
            outcome.notes += cell_notes(course, assignment, outcome.student, cell_timeout)
    with open_gradebook(course) as gb:
        if outcome.failed:
            record_zero(gb, assignment, outcome.student)
        read_outcome(gb, outcome, assignment)
    return outcome


def _worker_db_url(course: Path, scheduler: str | None) -> str:
    """The gradebook URL for the workers: absolute, waiting when SQLite is busy."""
    db_url = course_config(course)[1]  # nbgrader's own, from every config file it reads
    if not db_url.startswith("sqlite:"):
        return db_url
    if scheduler is not None:
        raise GradingError(f"the gradebook is SQLite ({db_url}): workers of a cluster write "
                           "their grades over the network, so set CourseDirectory.db_url to a "
                           "PostgreSQL URL (docs/instructors.md, \"Grading on a cluster\")")
    path = db_url.removeprefix("sqlite:///")
    if path and not path.startswith("/") and ":memory:" not in path:
        db_url = f"sqlite:///{course / path}"
    return busy_url(db_url)


def _chosen(course: Path, assignment: str, students: list[str] | None) -> list[str]:
    """The students to grade: ``students`` (each checked), or all who submitted."""
    check_assignment(course, assignment)
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
    return chosen


def _prepared(course: Path, assignment: str, outcome: Outcome,
              make_task: Callable[[str, gradetask.Files], gradetask.Task]
              ) -> gradetask.Task | None:
    """Preflight one submission and make its task; None (scored 0) when that failed."""
    try:
        files, outcome.notes = preflight(course, assignment, outcome.student)
        return make_task(outcome.student, files)
    except BadSubmission as error:
        outcome.failed = str(error)
    except OSError as error:  # e.g. a file it may not move: this student only
        outcome.failed = f"preflight could not read or move the notebook ({error})"
    except Exception as error:  # noqa: BLE001 - one odd notebook must not stop the class
        outcome.failed = f"preflight error ({type(error).__name__}: {error})"[:300]
    shutil.rmtree(course / "autograded" / outcome.student / assignment, ignore_errors=True)
    with open_gradebook(course) as gb:
        record_zero(gb, assignment, outcome.student)
        read_outcome(gb, outcome, assignment)
    return None


def _autograde_args(course: Path, sandbox: bool, cell_timeout: float | None) -> list[str]:
    """The arguments of every ``nbgrader autograde``: sandbox, course id, cell time limit."""
    args = sandbox_args(sandbox) + ["--log-level=INFO",
                                    f"--CourseDirectory.course_id={course_config(course)[0]}"]
    if cell_timeout:
        args.append(f"--Execute.timeout={max(1, round(cell_timeout))}")
    return args


def _summary(assignment: str, outcomes: list[Outcome], seconds: float, where: str,
             echo: Callable[[str], None]) -> None:
    failed = [o.student for o in outcomes if o.failed]
    pending = [o for o in outcomes if o.manual_pending and not o.failed]
    echo(f"==> Graded {len(outcomes) - len(failed)} of {len(outcomes)} submission(s) of "
         f"{assignment} in {seconds:.0f} s ({where}); {len(failed)} failed"
         + (f" and scored 0, review by hand: {', '.join(failed)}" if failed else "") + ".")
    if pending:
        echo(f"    {len(pending)} submission(s) have answers to grade by hand (up to "
             f"{max(o.manual_pending for o in pending):g} points each): nbgrader formgrader.")
    echo(f"    Logs: {WORK}/{assignment}/logs/. Next: make feedback A={assignment}; "
         f"make export; make report A={assignment}")


def grade(assignment: str, course_dir: Course | Path, workers: int | None = None,
          cell_timeout: float | None = None,
          submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT, sandbox: bool = True,
          students: list[str] | None = None, echo: Callable[[str], None] = say,
          scheduler: str | None = None) -> list[Outcome]:
    """Autograde every submission of ``assignment`` (or only ``students``) on a Dask cluster.

    One ``nbgrader autograde`` process per student, each stopped after
    ``submission_timeout`` seconds; ``cell_timeout`` overrides nbgrader's per-cell limit
    (Execute.timeout). The cluster is the one whose scheduler is at ``scheduler``, or one
    embedded here with ``workers`` workers (default: the number of CPUs). A submission that
    cannot be graded scores 0 and is flagged for review; the others carry on. Manual grades
    entered in the gradebook are kept. Raises GradingError for instructor-side problems.
    """
    course = Course.of(course_dir).root
    chosen = _chosen(course, assignment, students)
    db_url = _worker_db_url(course, scheduler)
    extra = _autograde_args(course, sandbox, cell_timeout)
    workers = max(1, workers or os.cpu_count() or 1)
    start = time.perf_counter()
    where = f"the cluster at {scheduler}" if scheduler else f"{workers} worker(s)"
    echo(f"==> Grading {len(chosen)} submission(s) of {assignment} "
         + (f"on {where}" if scheduler else f"with {where}") + ("" if sandbox else ", NO SANDBOX"))
    skipped = unsafe_folders(course)
    if skipped and not students:
        echo(f"    Skipped {len(skipped)} folder(s) of submitted/ not named by a safe student id"
             f" ({STUDENT_ID}): {', '.join(map(repr, skipped))}")
    prepare_gradebook(course, assignment, chosen)
    outcomes: list[Outcome] = []

    def progress(outcome: Outcome) -> None:
        outcomes.append(outcome)
        echo(f"[{len(outcomes):>{len(str(len(chosen)))}}/{len(chosen)}] {outcome.line()}")

    def make_task(student: str, files: gradetask.Files) -> gradetask.Task:
        return _task(course, assignment, student, files, db_url, extra, submission_timeout)

    waiting: dict[str, Outcome] = {}
    tasks = []
    for outcome in map(Outcome, chosen):
        task = _prepared(course, assignment, outcome, make_task)
        if task is None:
            progress(outcome)
        else:
            waiting[outcome.student] = outcome
            tasks.append(task)

    def done(task: gradetask.Task, result: gradetask.Result | None, error: str) -> None:
        outcome = waiting[task.student]
        try:
            _finish(course, assignment, outcome, result, error, cell_timeout,
                    submission_timeout)
        except Exception as bug:  # noqa: BLE001 - a bug here must not stop the class
            outcome.failed = f"grading error ({type(bug).__name__}: {bug})"[:300]
        progress(outcome)

    try:
        cluster.run_tasks(tasks, done, scheduler, workers)
    except cluster.ClusterError as error:
        raise GradingError(str(error)) from None
    outcomes.sort(key=lambda o: o.student)
    save_outcomes(course, assignment, outcomes)
    _summary(assignment, outcomes, time.perf_counter() - start, where, echo)
    down = [o for o in outcomes if o.failed.startswith(SANDBOX_DOWN)]
    if down:
        raise GradingError(f"{down[0].failed}\n{len(down)} submission(s) were not graded: fix "
                           "that and grade them again")
    return outcomes


