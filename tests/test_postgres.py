"""Grading against a PostgreSQL gradebook, as a multi-user deployment does.

A session fixture starts a throw-away PostgreSQL server (initdb in a temporary folder,
``postgres`` on a free loopback port, run as the ``postgres`` user when the tests run as
root) and removes it afterwards, even when a test fails. The sandboxed kernels cannot
reach it: they have no network.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from reglab import grader, sandbox
from reglab.course import ROOT
from tests import harness
from tests.grading_run import PROBE, assert_denied, grade, outputs, verdicts

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]
CHEAP = "01_bias_variance"


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found:
        pytest.fail("the PostgreSQL server is not installed: run `make system` "
                    "(Debian: apt-get install postgresql)")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of an empty database on a PostgreSQL server that lives for the session."""
    import psycopg2

    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="reglab-postgres-"))
    as_postgres = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "postgres", "postgres")
        as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
    port, log = _free_port(), base / "server.log"
    server = None
    try:
        subprocess.run(as_postgres + [str(bindir / "initdb"), "-D", str(base / "data"), "-A",
                                      "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True)
        with open(log, "w") as out:
            server = subprocess.Popen(
                as_postgres + [str(bindir / "postgres"), "-D", str(base / "data"), "-h",
                               "127.0.0.1", "-p", str(port), "-k", str(base), "-F"],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                                        dbname="postgres")
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("PostgreSQL did not start:\n" + log.read_text()[-3000:])
                time.sleep(0.2)
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(base, ignore_errors=True)


CONNECT = '''
import socket
_probe("gradebook server", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
'''


def test_grading_with_a_postgres_gradebook(postgres_url, tmp_path):
    try:
        sandbox.check()
    except RuntimeError as error:
        pytest.fail(str(error))
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
    grader.simulate_class(CHEAP, 1, course)  # student000: the solution
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
