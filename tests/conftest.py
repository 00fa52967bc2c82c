"""Fixtures shared by the test modules."""

import subprocess
import sys
from pathlib import Path

import pytest

from reglab.course import ROOT, nbgrader_env


@pytest.fixture(scope="session")
def book() -> subprocess.CompletedProcess:
    """Build the book once (`jupyter-book build . -W -n --keep-going`, execution cache on).

    Every test that uses it is marked ``xdist_group("book")``: under ``--dist loadgroup``
    they all run on one worker, after this one build.
    """
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "-W", "-n",
           "--keep-going"]
    return subprocess.run(cmd, cwd=ROOT, env=nbgrader_env(), capture_output=True, text=True,
                          timeout=3000)
