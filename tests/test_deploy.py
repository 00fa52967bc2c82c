"""The deployment of docs/instructors.md ("Large classes on JupyterHub") works as written.

The JupyterHub configuration initializes with the JupyterHub that requirements.txt pins
(users, groups, roles, the course service, the spawner), and the command its spawner and
course server run is in the environment; students' servers have no grading tools and
graders' have; a second clone of the repository that shares the first clone's .venv grades
in the sandbox; when the sandbox cannot start, grading says why and exits non-zero. The
PostgreSQL gradebook named only in the grading account's own nbgrader configuration is
tested in tests/test_postgres.py.
"""

import asyncio
import logging
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from traitlets.config import Config

from reglab import bwrap, engine, grader, sandbox
from reglab.course import ROOT, nbgrader_env
from tests.support.common import COURSE
from tests.support.jupyter_server import jupyter_server

DEPLOY = ROOT / "deploy" / "jupyterhub"
A = "01_bias_variance"


def _pinned(package: str) -> str:
    text = (ROOT / "requirements.txt").read_text()
    return re.search(rf"^{re.escape(package)}==(\S+)", text, re.M).group(1)


def _hub(tmp_path: Path):
    """The hub of jupyterhub_config.py, initialized (not started) with a throw-away database
    and, instead of the institution's authenticator, JupyterHub's test one."""
    from jupyterhub.app import JupyterHub

    hub = JupyterHub(db_url=f"sqlite:///{tmp_path / 'hub.sqlite'}",
                     cookie_secret_file=str(tmp_path / "cookie_secret"),
                     pid_file=str(tmp_path / "hub.pid"))
    hub.load_config_file(str(DEPLOY / "jupyterhub_config.py"))
    hub.authenticator_class = "dummy"
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())
    hub.log.addHandler(handler)
    asyncio.run(hub.initialize([]))
    hub.log.removeHandler(handler)
    return hub, [w for w in warnings if "DummyAuthenticator" not in w]


@pytest.mark.slow  # about 10 s of CPU: JupyterHub's database and services
@pytest.mark.xdist_group("deploy")
def test_jupyterhub_config_loads_with_the_pinned_jupyterhub(tmp_path):
    import jupyterhub
    from jupyterhub import orm

    assert jupyterhub.__version__ == _pinned("jupyterhub")
    hub, warnings = _hub(tmp_path)
    assert not warnings, warnings  # e.g. a deprecated setting
    namespace = runpy.run_path(str(DEPLOY / "jupyterhub_config.py"),
                               init_globals={"get_config": Config})  # its constants
    venv, graders = namespace["VENV"], namespace["GRADERS"]
    assert type(hub.users["ta1"].spawner).__name__ == "SystemdSpawner"
    [service] = hub.services
    assert hub.users["ta1"].spawner.cmd == service["command"] == \
        [f"{venv}/bin/jupyterhub-singleuser"]
    assert {g.name: sorted(u.name for u in g.users) for g in hub.db.query(orm.Group)} == \
        {f"formgrade-{namespace['COURSE']}": sorted(graders)}
    here = Path(sys.prefix) / "bin" / "jupyterhub-singleuser"  # what `make setup` installs
    done = subprocess.run([str(here), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == _pinned("jupyterhub"), done.stderr
    config_path = hub.config.Spawner.environment["JUPYTER_CONFIG_PATH"]
    assert config_path(SimpleNamespace(user=SimpleNamespace(name="student1"))) == \
        f"{namespace['REPO']}/deploy/jupyterhub/students"
    assert config_path(SimpleNamespace(user=SimpleNamespace(name="ta1"))) == ""


@pytest.mark.slow
@pytest.mark.xdist_group("deploy")
def test_grading_tools_only_for_graders(tmp_path):
    """A student's server (JUPYTER_CONFIG_PATH as the spawner sets it) has neither the
    formgrader nor Create Assignment; a grader's server, in the same environment, has both."""
    import requests

    students = str(DEPLOY / "students")
    for who, config_path in (("student", students), ("grader", "")):
        with jupyter_server(tmp_path, tmp_path / who,
                            {"JUPYTER_CONFIG_PATH": config_path}) as (base, token):
            formgrader = requests.get(f"{base}/formgrader?token={token}", allow_redirects=False,
                                      timeout=60)
            lab = requests.get(f"{base}/lab?token={token}", timeout=60).text
        disabled = re.search(r'"disabledExtensions": (\[[^]]*\])', lab).group(1)
        tools = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")
        if who == "student":
            assert formgrader.status_code == 404, who
            assert all(tool in disabled for tool in tools), disabled
            assert "@jupyter/nbgrader:assignment-list" not in disabled  # students fetch, submit
        else:
            assert formgrader.status_code == 302, who
            assert not any(tool in disabled for tool in tools), disabled


def _clone(tmp_path: Path) -> Path:
    """A second clone of the course (its own reglab and notebooks) that links to this
    clone's .venv, with one solved submission."""
    clone = tmp_path / "second-clone"
    shutil.copytree(ROOT / "reglab", clone / "reglab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / A, clone / folder / A)
    shutil.copy(ROOT / "nbgrader_config.py", clone)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    folder = clone / "submitted" / "s1" / A
    folder.mkdir(parents=True)
    nbformat.write(grader.solved_release(COURSE, A), folder / f"{A}.ipynb")
    return clone


@pytest.mark.slow
@pytest.mark.xdist_group("deploy")
def test_a_second_clone_that_shares_the_venv_grades_in_the_sandbox(tmp_path):
    clone = _clone(tmp_path)
    env = {**nbgrader_env(), "PATH": f"{clone / '.venv' / 'bin'}:{os.environ['PATH']}"}
    done = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-m", "reglab.grader",
                           "grade", A, "--workers", "1"], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "NO SANDBOX" not in output
    assert re.search(r"\] s1 +10\.0/12 ", output), output  # every automatic point
    assert (clone / "gradebook.db").exists() and not (ROOT / "submitted" / "s1").exists()


def test_sandbox_check_names_the_real_reason(monkeypatch):
    """Binds without the reglab that the kernel's Python imports: the check says so, not
    "user namespaces" (the wrong advice it gave a second clone)."""
    if sandbox._missing_tools():
        pytest.skip("no bubblewrap here")
    without = [p for p in bwrap.python_paths() if p.name != "reglab"]
    monkeypatch.setattr(bwrap, "python_paths", lambda python=None: without)
    with pytest.raises(sandbox.SandboxUnavailable) as raised:
        sandbox.check.__wrapped__()
    assert "cannot import reglab in it" in str(raised.value)
    assert "user namespaces" not in str(raised.value)


@pytest.mark.slow
@pytest.mark.xdist_group("deploy")
def test_grading_exits_non_zero_when_the_sandbox_cannot_start(tmp_path, monkeypatch, capsys):
    """The grader's own check passed, but the sandbox cannot start where nbgrader runs (here:
    no bwrap on its PATH): the command gives the sandbox's reason and exits 1."""
    clone = _clone(tmp_path)
    (clone / ".venv").unlink()
    monkeypatch.setattr(engine, "sandbox_args", lambda enabled: sandbox.autograde_args())
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    code = grader.main(["grade", A, "--course-dir", str(clone), "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "FAILED, scored 0: the grading sandbox could not start: the grading sandbox needs " \
           "bwrap" in out, out
    assert err.startswith("error: the grading sandbox could not start: the grading sandbox "
                          "needs bwrap"), err
    assert "1 submission(s) were not graded" in err


def test_the_gradebook_url_is_resolved_as_nbgrader_does(tmp_path, monkeypatch):
    """The user's ~/.jupyter/nbgrader_config.py counts, under the course's own file."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    home = tmp_path / "home"
    home.mkdir()
    (home / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'postgresql+psycopg2:///user'\n")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(home))
    assert grader.course_config(course) == ("regularization-in-deep-learning",
                                      "postgresql+psycopg2:///user")
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nc.CourseDirectory.db_url = 'sqlite:///course.db'\n")
    assert grader.course_config(course)[1] == "sqlite:///course.db"
    (home / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.root = '/x'\n")
    with pytest.raises(grader.GradingError, match="CourseDirectory.root = /x, not this course"):
        grader.course_config(course)
