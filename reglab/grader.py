"""The instructors' command line: collect, grade, feedback, export, report, distribute.

    python -m reglab.grader collect-zip ASSIGNMENT ZIP
    python -m reglab.grader grade ASSIGNMENT [--workers N | --scheduler tcp://HOST:8786] ...
    python -m reglab.grader feedback ASSIGNMENT
    python -m reglab.grader export [--to CSV]
    python -m reglab.grader report ASSIGNMENT
    python -m reglab.grader distribute DEST [--force]

``grade`` repairs what it safely can in each submission (preflight), then runs one
``nbgrader autograde ASSIGNMENT --student S --force`` per student as one task of a Dask
cluster (embedded here, or an existing one: reglab/cluster.py), each kernel in the grading
sandbox (reglab/sandbox.py) unless ``--no-sandbox``.
Each takes ``--course-dir`` (default: this repository). Outputs: grades/
(CSV and figures), grading/ (logs, the last outcome of each student); submitted/ is left as
the students handed it in. docs/instructors.md explains the whole workflow.
"""

import argparse
import sys
from pathlib import Path

from reglab.answers import hidden_test_lines, notebook_text, secret_lines, solved_release
from reglab.collect_zip import collect_zip
from reglab.course import ROOT
from reglab.coursedir import Course
from reglab.distribute import distribute
from reglab.engine import DEFAULT_SUBMISSION_TIMEOUT, grade, sandbox_args
from reglab.gradebook import (
    GRADES,
    WORK,
    GradingError,
    course_config,
    known_assignments,
    open_gradebook,
    prepare_gradebook,
    safe_id,
    students_with_submissions,
    unsafe_folders,
)
from reglab.outcomes import Outcome
from reglab.preflight import MAX_SUBMISSION_BYTES, BadSubmission, preflight, repair_notebook
from reglab.results import export, feedback, report
from reglab.simulate import simulate_class

# What the tests and other tools import from here (each is defined once, in its module).
__all__ = [
    "BadSubmission", "Course", "DEFAULT_SUBMISSION_TIMEOUT", "GRADES", "GradingError",
    "MAX_SUBMISSION_BYTES", "Outcome", "WORK", "collect_zip", "course_config", "distribute",
    "export", "feedback", "grade", "hidden_test_lines", "known_assignments", "notebook_text",
    "open_gradebook", "preflight", "prepare_gradebook", "repair_notebook", "report", "safe_id",
    "sandbox_args", "secret_lines", "simulate_class", "solved_release",
    "students_with_submissions", "unsafe_folders", "main",
]


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
                     help="parallel nbgrader processes on this machine (default: the number "
                     "of CPUs)")
    grd.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="grade on the Dask cluster of this scheduler (tcp://HOST:8786) "
                     "instead; its workers write to a PostgreSQL gradebook")
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
    dis = sub.add_parser("distribute", parents=[common],
                         help="write the student version of the repository")
    dis.add_argument("dest", type=Path)
    dis.add_argument("--force", action="store_true", help="replace DEST if it is not empty")
    args = parser.parse_args(argv)

    try:
        course = Course(args.course_dir)
        if args.command == "collect-zip":
            collect_zip(args.assignment, args.zip, course)
        elif args.command == "grade":
            grade(args.assignment, course, args.workers, args.timeout,
                  args.submission_timeout, not args.no_sandbox, args.student,
                  scheduler=args.scheduler)
        elif args.command == "feedback":
            feedback(args.assignment, course)
        elif args.command == "export":
            export(course, args.to)
        elif args.command == "report":
            report(args.assignment, course)
        else:
            distribute(course, args.dest, args.force)
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the submissions graded so far are in the gradebook", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
