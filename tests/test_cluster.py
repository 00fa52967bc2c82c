"""Grading on a real Dask cluster: a scheduler and two workers started on loopback.

Each worker runs in an empty folder of its own, in a mount namespace where the course
directory is an empty tmpfs: it grades only from what each task carries. The grades go to a
PostgreSQL gradebook (the ``postgres_url`` fixture of tests/conftest.py). A class of honest,
wrong, broken and hostile submissions (tests/support/fixtures.py) must get the scores the
local path gives them (``CASES``, which tests/test_grading.py checks on the embedded
cluster), even though one worker is killed after the first grade comes back.
"""

import os
import time
from collections.abc import Iterator

import psutil
import pytest
from nbgrader.api import Gradebook

from reglab import cluster, grader, gradetask, services
from tests.support import fixtures as fx
from tests.support.common import require_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]
CLASS = ["correct", "noisy-correct", "partial", "edited-tests", "syntax-error", "os-exit",
         "kernel-crash", "plants-links", "fills-disk", "leaks-hidden-tests"]


@pytest.fixture
def dask_cluster(tmp_path) -> Iterator[dict]:
    """A scheduler and two workers on loopback; the workers cannot see ``tmp_path/course``."""
    from distributed import Client

    require_sandbox()
    course = tmp_path / "course"
    course.mkdir()
    try:
        with services.dask_cluster(tmp_path, hidden=[course]) as running:
            with Client(running.address, set_as_default=False) as client:
                seen = client.run(os.listdir, str(course))
            yield {"address": running.address, "course": course,
                   "workers": running.workers, "seen": seen}
    except services.ServiceError as error:
        pytest.fail(str(error))


def _kill_a_busy_worker(workers: list, seconds: float = 30) -> str:
    """Kill the first worker seen running nbgrader, with all its processes; what it ran."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for worker in workers:
            running = [c for c in map(_cmdline, _descendants(worker.pid)) if "nbgrader" in c]
            if running:
                gradetask.kill_tree(worker.pid)
                return running[0]
        time.sleep(0.1)
    return ""


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # it has just ended
        return ""


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gradebook_scores(db_url: str, students: list[str]) -> dict[str, float]:
    with Gradebook(db_url, "regularization-in-deep-learning") as gb:
        return {s: float(gb.find_submission(fx.ASSIGNMENT, s).score) for s in students}


def _own_database(postgres_url: str, name: str) -> str:
    import psycopg2

    server, _ = postgres_url.rsplit("/", 1)
    conn = psycopg2.connect(server.replace("postgresql+psycopg2", "postgresql") + "/postgres")
    conn.autocommit = True
    conn.cursor().execute(f"CREATE DATABASE {name}")
    conn.close()
    return f"{server}/{name}"


def test_a_class_graded_on_a_dask_cluster_loses_nothing_when_a_worker_dies(
        dask_cluster, postgres_url):
    course = dask_cluster["course"]
    assert all(files == [] for files in dask_cluster["seen"].values()), \
        f"the workers can see the course directory: {dask_cluster['seen']}"
    db_url = _own_database(postgres_url, "cluster_gradebook")
    fx.write_course(course)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    killed: list[str] = []
    lines: list[str] = []

    def echo(line: str) -> None:
        lines.append(line)
        if line.startswith("[") and not killed:  # the first grade is back: kill a busy worker
            killed.append(_kill_a_busy_worker(dask_cluster["workers"]))

    outcomes = {o.student: o for o in grader.grade(
        fx.ASSIGNMENT, course, cell_timeout=fx.CELL_TIMEOUT, submission_timeout=180,
        students=CLASS, echo=echo,
        scheduler=dask_cluster["address"])}
    report = "\n".join(lines)
    assert killed and killed[0], f"no worker was killed while grading:\n{report}"
    assert sorted(outcomes) == sorted(CLASS), report
    for student in CLASS:
        case, outcome = fx.CASES[student], outcomes[student]
        assert outcome.auto_score == case.auto, f"{student}: {outcome.line()}\n{report}"
        assert bool(outcome.failed) == case.failed, f"{student}: {outcome.line()}\n{report}"
        assert case.note in outcome.line(), f"{student}: {outcome.line()}"
    assert _gradebook_scores(db_url, CLASS) == {s: outcomes[s].score for s in CLASS}
    assert not (course / "gradebook.db").exists(), "grades went to SQLite"
    assert (course / "autograded" / "correct" / fx.ASSIGNMENT / f"{fx.ASSIGNMENT}.ipynb").exists()
    assert f"on the cluster at {dask_cluster['address']}" in report


def test_a_cluster_needs_a_gradebook_it_can_reach_and_a_scheduler_that_answers(tmp_path,
                                                                              monkeypatch):
    fx.write_course(tmp_path)
    with pytest.raises(grader.GradingError, match="PostgreSQL URL"):
        grader.grade(fx.ASSIGNMENT, tmp_path, students=["correct"], sandbox=False,
                     scheduler="tcp://127.0.0.1:9", echo=lambda line: None)
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    with pytest.raises(cluster.ClusterError, match="no Dask scheduler answered"):
        cluster.run_tasks([gradetask.Task("a", "s", {}, "", "sqlite://")],
                          lambda *_: None, "tcp://127.0.0.1:9")
