"""tasks.py, the students' commands without make: the checks that need no set-up."""

import subprocess
import sys

import pytest

import tasks
from reglab.course import ROOT


@pytest.mark.parametrize("version", [(3, 10), (3, 14), (2, 7)])
def test_an_unsupported_python_gets_a_clear_message(version):
    with pytest.raises(SystemExit, match=r"runs on Python 3\.11 to 3\.13, this is \d\.\d+"):
        tasks.check_python(version)


@pytest.mark.parametrize("version", [(3, 11), (3, 12), (3, 13)])
def test_supported_pythons_pass(version):
    tasks.check_python(version)


def test_the_supported_range_matches_the_package_and_the_guide():
    low, high = tasks.SUPPORTED
    assert f'requires-python = ">={low[0]}.{low[1]},<{high[0]}.{high[1] + 1}"' in \
        (ROOT / "pyproject.toml").read_text()
    assert f"{low[0]}.{low[1]}, 3.12 or {high[0]}.{high[1]}" in \
        (ROOT / "docs" / "students.md").read_text()


def test_validate_names_a_missing_notebook_and_what_to_run_first(tmp_path, monkeypatch):
    done = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "validate", "nope.ipynb"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2 and "no such notebook: nope.ipynb" in done.stderr
    monkeypatch.setattr(tasks, "VENV", tmp_path / ".venv")
    with pytest.raises(SystemExit, match="run `python tasks.py setup` first"):
        tasks.in_venv("nbgrader", "--version")


def test_the_venv_python_is_where_each_system_puts_it(monkeypatch):
    monkeypatch.setattr(tasks.os, "name", "nt")
    assert tasks.venv_python().parts[-2:] == ("Scripts", "python.exe")
    monkeypatch.setattr(tasks.os, "name", "posix")
    assert tasks.venv_python().parts[-2:] == ("bin", "python")
