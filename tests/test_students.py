"""Where students open the course: a notebook alone in a fresh Python, and the student guide.

Both tests work on what students get (`make distribute`), in fresh virtual environments.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reglab.course import ROOT
from tests.support import harness

pytestmark = [pytest.mark.slow]

# The oldest versions the student guide claims (docs/students.md); the test runs them.
OLDEST = {"tensorflow-cpu": "2.20.0", "tensorflow": "2.20.0", "keras": "3.14.0"}
CHAPTER, ASSIGNMENT = "02_weight_penalties", "01_bias_variance"
INSTALL_TIMEOUT = 1200


def _run(command: list, cwd: Path, env: dict | None = None, timeout: float = INSTALL_TIMEOUT,
         shell: bool = False) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, shell=shell)
    assert done.returncode == 0, \
        f"{command} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _distribute(dest: Path) -> Path:
    _run([sys.executable, "-m", "reglab.grader", "distribute", str(dest)], cwd=ROOT)
    return dest


def _completed(assignment: str) -> nbformat.NotebookNode:
    """The release of ``assignment`` with every answer cell written as the solution writes it."""
    release = harness.read("exercises", assignment)
    solved = {harness._grade_id(c): c.source for c in harness.solution_submission(assignment).cells
              if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in release.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solved[harness._grade_id(cell)]
    return release


def _oldest_runtime(path: Path) -> Path:
    """requirements-student.txt with TensorFlow and Keras at the oldest versions claimed."""
    lines = []
    for line in (ROOT / "requirements-student.txt").read_text().splitlines():
        name = re.split(r"[=;<> ]", line, maxsplit=1)[0]
        if name in OLDEST:
            line = line.replace(line.split(";")[0].strip(), f"{name}=={OLDEST[name]}")
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_guide_states_the_oldest_versions_tested_here():
    guide = (ROOT / "docs" / "students.md").read_text()
    assert f"TensorFlow {OLDEST['tensorflow'][:4]} or" in guide
    assert f"Keras {OLDEST['keras'][:4]} or later" in guide


@pytest.mark.xdist_group("alone")
def test_a_notebook_opened_alone_installs_the_course_and_runs(tmp_path):
    """A chapter and a finished exercise, each alone in an empty folder of a fresh Python
    without the course package (TensorFlow and Keras at the oldest versions supported): the
    first cell installs the package from the one configured source, and every cell runs."""
    students = _distribute(tmp_path / "students")
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels),
          str(students)], cwd=tmp_path)
    wheel = next(wheels.glob("reglab-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "-r",
          str(_oldest_runtime(tmp_path / "oldest.txt"))], cwd=tmp_path)
    probe = [python, "-c", "import importlib.util as u; print(u.find_spec('reglab'))"]
    assert _run(probe, cwd=tmp_path).stdout.strip() == "None", "the course is installed already"

    alone = {tmp_path / "chapter" / f"{CHAPTER}.ipynb": nbformat.read(
                 students / "chapters" / f"{CHAPTER}.ipynb", as_version=4),
             tmp_path / "exercise" / f"{ASSIGNMENT}.ipynb": _completed(ASSIGNMENT)}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", REGLAB_INSTALL_FROM=str(wheel),
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    for path, nb in alone.items():
        path.parent.mkdir()
        nbformat.write(nb, path)
        done = subprocess.run([venv / "bin" / "jupyter-execute", "--timeout=600", path.name],
                              cwd=path.parent, env=env, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT)
        assert done.returncode == 0, f"{path.name} alone:\n{done.stderr[-4000:]}"
    installed = _run(probe, cwd=tmp_path).stdout
    assert str(venv) in installed, f"the first cell did not install the package: {installed}"


def _tested_blocks(guide: str) -> list[str]:
    """The shell blocks of the student guide that say the suite runs them as written."""
    return re.findall(r"<!-- tested: [^>]*-->\n```bash\n(.*?)```", guide, re.S)


@pytest.mark.xdist_group("guide")
def test_the_student_guide_works_as_written(tmp_path):
    """The guide's set-up (no `make`) and validate commands, typed as written on Linux, in the
    student repository; then the validate command each assignment prints."""
    students = _distribute(tmp_path / "students")
    blocks = _tested_blocks((students / "docs" / "students.md").read_text())
    assert len(blocks) == 2, "the guide marks its set-up and validate blocks as tested"
    setup, validate = blocks
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if not p.startswith(str(ROOT)))  # no course .venv on PATH
    for line in setup.strip().splitlines():
        if line.endswith(" lab"):  # starts a server: check that the command exists instead
            line = line.replace(" lab", " lab --help")
        _run(line, cwd=students, env=env, shell=True)
    exercise = students / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    failing = subprocess.run(validate.strip(), cwd=students, env=env, shell=True,
                             capture_output=True, text=True, timeout=600)
    assert failing.returncode == 1 and "VALIDATION FAILED" in failing.stdout, failing.stdout[-2000:]
    nbformat.write(_completed(ASSIGNMENT), exercise)
    passing = _run(validate.strip(), cwd=students, env=env, timeout=600, shell=True)
    assert "Success!" in passing.stdout and "Ready to submit" in passing.stdout, passing.stdout
    printed = re.findall(r"`(python3 tasks\.py validate [^`]+)`",
                         nbformat.read(exercise, as_version=4).cells[0].source)
    assert printed == [f"python3 tasks.py validate exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
    _run(printed[0], cwd=students, env=env, timeout=600, shell=True)
