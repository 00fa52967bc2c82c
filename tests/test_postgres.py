"""Grading against a PostgreSQL gradebook, as a multi-user deployment does.

The session fixture ``postgres_url`` (tests/conftest.py) starts a throw-away PostgreSQL
server on loopback. The sandboxed kernels cannot reach it: they have no network.
"""

import re
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from reglab import grader, sandbox
from reglab.course import ROOT
from tests.support import harness
from tests.support.common import COURSE, require_sandbox
from tests.support.grading_run import PROBE, assert_denied, grade, outputs, verdicts

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]
CHEAP = "01_bias_variance"


CONNECT = '''
import socket
_probe("gradebook server", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
'''


def test_grading_with_a_postgres_gradebook(postgres_url, tmp_path):
    require_sandbox()
    port = int(postgres_url.rsplit(":", 1)[1].split("/")[0])
    release = harness.read("exercises", CHEAP)
    subs = {"solution": harness.solution_submission(CHEAP), "release": release,
            "intruder": harness.with_first_code(release, PROBE + CONNECT.format(port=port))}
    results = grade(CHEAP, subs, tmp_path, args=sandbox.autograde_args(),
                    db_url=postgres_url)
    solution = results["solution"]
    score, maximum = solution.auto()
    assert score == maximum > 0, f"solution: {score}/{maximum}\n{solution.log[-3000:]}"
    for student in ("release", "intruder"):
        assert results[student].cells and results[student].auto()[0] == 0, student
    assert_denied(verdicts(outputs(results["intruder"], CHEAP, "intruder")),
                  ["gradebook server"])
    assert not (solution.course / "gradebook.db").exists(), "grades went to SQLite"


def _user_config(course: Path, db_url: str, folder: Path) -> Path:
    """deploy/jupyterhub/grader_nbgrader_config.py as the grading account has it in
    ~/.jupyter, with this test's course directory and database in place of the deployment's."""
    text = (ROOT / "deploy" / "jupyterhub" / "grader_nbgrader_config.py").read_text()
    root = re.search(r"c\.CourseDirectory\.root = \(\s*(\"[^\"]*\")\)", text).group(1)
    url = re.search(r"c\.CourseDirectory\.db_url = \(\s*(\"[^\"]*\")\s*\)", text).group(1)
    text = text.replace(root, repr(str(course))).replace(url, repr(db_url))
    folder.mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(text)
    return folder


def test_make_grade_uses_the_gradebook_of_the_user_config(postgres_url, tmp_path, monkeypatch):
    """The deployment names the PostgreSQL gradebook only in the grading account's
    ~/.jupyter/nbgrader_config.py: grading, the report and the export all use it, and no
    SQLite gradebook appears."""
    import psycopg2

    server, _ = postgres_url.rsplit("/", 1)
    conn = psycopg2.connect(server.replace("postgresql+psycopg2", "postgresql") + "/postgres")
    conn.autocommit = True
    conn.cursor().execute("CREATE DATABASE user_config")
    conn.close()
    course = tmp_path / "course"
    grader.simulate_class(COURSE, CHEAP, 1, course)  # student000: the solution
    home = _user_config(course, f"{server}/user_config", tmp_path / "home" / ".jupyter")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(home))
    assert grader.main(["grade", CHEAP, "--course-dir", str(course), "--workers", "1"]) == 0
    assert grader.main(["report", CHEAP, "--course-dir", str(course)]) == 0
    assert grader.main(["export", "--course-dir", str(course)]) == 0
    assert not (course / "gradebook.db").exists(), "grades went to SQLite"
    with Gradebook(f"{server}/user_config", "regularization-in-deep-learning") as gb:
        submission = gb.find_submission(CHEAP, "student000")
        assert submission.score == 10.0, "the solution lost automatic points"
    assert "student000" in (course / "grades" / "grades.csv").read_text()
