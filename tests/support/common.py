"""Facts about the course that several test modules read, and their one sandbox policy."""

import os
from pathlib import Path

import pytest

from reglab.course import ROOT, assignments, chapters  # noqa: F401 (imported from here)
from reglab.coursedir import Course
from reglab.grader import secret_lines  # noqa: F401 (the tests import it from here)

HTML = ROOT / "_build" / "html"  # the built website
# Debian's chromium (`make system`), which the browser tests drive headless through Playwright.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]


ASSIGNMENTS = assignments()
COURSE = Course(ROOT)  # this repository as a course directory


def require_sandbox() -> None:
    """Stop a test that needs the grading sandbox when it cannot run here: a failure in CI
    (``$CI`` set, as ``.ci/run`` does), a skip that says why anywhere else."""
    from reglab import sandbox

    try:
        sandbox.check()
    except RuntimeError as error:
        if os.environ.get("CI"):
            pytest.fail(f"the grading sandbox must work in CI: {error}")
        pytest.skip(f"the grading sandbox cannot run here: {error}")
